"""Sending email: the outbound half of the email channel, over SMTP with aiosmtplib.

Configured by ``SMTP_URL`` (``smtp://user:password@host:587?starttls=1``, or ``smtps://`` for TLS from
the first byte) and ``PARLEY_MAIL_FROM``; docs/configuration.md.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage

from contact_center.transports import OutboundAttachment, OutboundMessage, Transport, TransportError

SMTP_TIMEOUT_SECONDS = 30
# Ids a reply's References keeps: the thread's first and the newest. Long threads would otherwise grow
# the header without end; clients thread on the newest ids, and some on the first (RFC 5322 3.6.4).
MAX_REFERENCES = 20
# Files attached to one mail, together. Base64 adds a third, and many mail systems refuse messages
# over 20-25 MB: files beyond this go as links in the text instead (OutboundMessage.text_with_links).
MAX_ATTACHED_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True)
class SmtpConfig:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool


def parse_smtp_url(url: str) -> SmtpConfig:
    """``SMTP_URL`` checked; raises ``ImproperlyConfigured`` naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured("SMTP_URL starts with smtp:// or smtps://")
    if not parts.hostname:
        raise ImproperlyConfigured("SMTP_URL names no host")
    query = parse_qs(parts.query)
    unknown = set(query) - {"starttls"}
    if unknown:
        raise ImproperlyConfigured(f"SMTP_URL: unknown option {sorted(unknown)[0]!r} (only starttls=1)")
    start_tls = query.get("starttls", ["0"])[-1]
    if start_tls not in ("0", "1"):
        raise ImproperlyConfigured("SMTP_URL: starttls is 0 or 1")
    use_tls = parts.scheme == "smtps"
    if use_tls and start_tls == "1":
        raise ImproperlyConfigured("SMTP_URL: smtps:// is TLS already; drop starttls=1")
    try:
        port = parts.port or (465 if use_tls else 25)
    except ValueError:
        raise ImproperlyConfigured("SMTP_URL has an invalid port") from None
    return SmtpConfig(
        hostname=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=start_tls == "1",
    )


def message_id(idempotency_key: str, mail_from: str) -> str:
    """The Message-ID of a delivery: the same on every attempt, so a mail sent twice after a lost
    acknowledgement is one message to the recipient's mail system, which drops the duplicate."""
    domain = mail_from.rpartition("@")[2] or "parley.invalid"
    return f"<parley.{idempotency_key}@{domain}>"


def build_email(message: OutboundMessage, mail_from: str) -> EmailMessage:
    """The mail of ``message``: its text, and its files attached (reading them from storage blocks: call
    it off the event loop). Files past ``MAX_ATTACHED_BYTES`` are linked at the end of the text.

    A reply threads in the customer's mail client: "Re: " and the conversation's subject, In-Reply-To
    the customer's newest mail, References its thread. Every header value that comes from data (the
    inbox's name, the address, the subject, the ids, file names) is made one line first
    (``one_line``), so no value can end a header and start another (a "Bcc:" of its own)."""
    to = one_line(message.to_value or "")
    if message.to_kind != "email" or not to:
        raise TransportError("this conversation has no email address to reply to", permanent=True)
    if not _ADDRESS.fullmatch(to):
        raise TransportError(f"{to[:100]!r} is not an email address", permanent=True)
    inbox_name = one_line(message.inbox.get("name") or "") or "Support"
    email = EmailMessage()
    email["From"] = formataddr((inbox_name, mail_from))
    email["To"] = to
    email["Subject"] = reply_subject(message, inbox_name)
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(message.idempotency_key, mail_from)
    in_reply_to, references = thread_headers(message)
    if in_reply_to:
        email["In-Reply-To"] = _IdList("In-Reply-To", [in_reply_to])
        email["References"] = _IdList("References", references)
    attached, linked = _split_by_size(message.attachments)
    email.set_content(message.text_with_links(linked) if linked else message.body)
    for file in attached:
        maintype, subtype = _content_type(file.content_type)
        email.add_attachment(
            _read(file), maintype=maintype, subtype=subtype, filename=one_line(file.filename) or "attachment"
        )
    return email


# What str.splitlines() splits on, which the email package refuses in a header value (it would end the
# header), and the other control characters, which have no business in one either.
_NOT_IN_A_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]+")
_ADDRESS = re.compile(r"[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+")
# As the parser reads them (decode.message_ids), in printable ASCII: written as they are, never encoded.
# At most 250 characters: a line holds 998 (RFC 5322 section 2.1.1), and no real id comes close.
_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,248}>")
_TOKEN = re.compile(r"[A-Za-z0-9!#$&^_.+-]+")
# "Re:", "RE:", "re :", "Re[2]:" at the start: the subject is a reply's already.
_REPLY_PREFIX = re.compile(r"^\s*re\s*(\[\d+\])?\s*:", re.IGNORECASE)


def one_line(value: str) -> str:
    """``value`` fit for a header: line breaks and control characters become spaces, runs of
    whitespace one space."""
    return " ".join(_NOT_IN_A_HEADER.sub(" ", value).split())


def reply_subject(message: OutboundMessage, inbox_name: str) -> str:
    """The subject of ``message``: "Re: " and the conversation's for a reply (once: never
    "Re: Re:"); a transcript's own as it is; without a subject, one that names the inbox."""
    subject = one_line(message.subject or "")
    if not subject:
        return f"Your conversation with {inbox_name}"
    if message.standalone or _REPLY_PREFIX.match(subject):
        return subject
    return f"Re: {subject}"


def thread_headers(message: OutboundMessage) -> tuple[str, list[str]]:
    """(In-Reply-To, References) of ``message``, or ("", []) when it answers no mail. Ids that are not
    one ``<id>`` each are dropped; References keeps the first id and the newest, at most
    ``MAX_REFERENCES`` in all."""
    if message.standalone or not message.in_reply_to:
        return "", []
    in_reply_to = one_line(message.in_reply_to)
    if not _MESSAGE_ID.fullmatch(in_reply_to):
        return "", []
    # Each id once, and the replied mail's last, whatever the data says.
    ids = [ref for ref in dict.fromkeys(map(one_line, message.references)) if _MESSAGE_ID.fullmatch(ref)]
    ids = [ref for ref in ids if ref != in_reply_to] + [in_reply_to]
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return in_reply_to, ids


class _IdList(str):
    """A header of message ids (In-Reply-To, References) written one id a line. The email package
    would fold these as free text, and writes a word too long for a line (Outlook's ids are 90
    characters and more) as an RFC 2047 encoded word, which no client reads as an id. Given an object
    with a ``name`` and a ``fold`` method, it stores it as is and calls ``fold`` to write it
    (``email.policy.EmailPolicy.header_store_parse`` and ``fold``)."""

    def __new__(cls, name: str, ids: list[str]):
        header = super().__new__(cls, " ".join(ids))
        header.name, header.ids = name, ids
        return header

    def fold(self, *, policy) -> str:
        return f"{self.name}: " + f"{policy.linesep} ".join(self.ids) + policy.linesep


def _content_type(value: str) -> tuple[str, str]:
    maintype, _, subtype = one_line(value).partition("/")
    if _TOKEN.fullmatch(maintype) and _TOKEN.fullmatch(subtype):
        return maintype.lower(), subtype.lower()
    return "application", "octet-stream"


def _split_by_size(files: tuple[OutboundAttachment, ...]):
    """(files to attach, files to link): in order, attached while they fit in ``MAX_ATTACHED_BYTES``."""
    attached, linked, total = [], [], 0
    for file in files:
        if total + file.size <= MAX_ATTACHED_BYTES:
            attached.append(file)
            total += file.size
        else:
            linked.append(file)
    return attached, tuple(linked)


def _read(file: OutboundAttachment) -> bytes:
    try:
        with default_storage.open(file.path, "rb") as stored:
            return stored.read()
    except OSError as exc:
        # Retried: a worker that does not see MEDIA_ROOT (a volume not mounted yet) may see it later.
        raise TransportError(f"attachment {file.filename!r} cannot be read: {exc}") from exc


class EmailTransport(Transport):
    """Sends the entry as a plain-text email to ``message.to_value``, with its files attached.

    A refused recipient or any other 5xx answer is permanent (the delivery goes dead and the console
    shows it failed); a connection problem, a timeout or a 4xx answer is retried by the outbox.
    Returns the Message-ID.
    """

    async def send(self, message: OutboundMessage) -> str | None:
        url, mail_from = settings.PARLEY_SMTP["url"], settings.PARLEY_SMTP["mail_from"]
        if not url or not mail_from:
            # Retried: an operator who sets SMTP_URL and restarts still gets the mail out.
            raise TransportError("SMTP_URL and PARLEY_MAIL_FROM must be set to send email")
        try:
            config = parse_smtp_url(url)
        except ImproperlyConfigured as exc:
            raise TransportError(str(exc)) from exc
        email = await asyncio.to_thread(build_email, message, mail_from)
        try:
            await aiosmtplib.send(
                email,
                hostname=config.hostname,
                port=config.port,
                username=config.username,
                password=config.password,
                use_tls=config.use_tls,
                start_tls=config.start_tls,
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipient refused: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise TransportError(f"SMTP {exc.code}: {exc.message}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TransportError(f"SMTP server unreachable: {exc}") from exc
        return email["Message-ID"]
