"""Sending email: the outbound half of the email channel, over SMTP with aiosmtplib.

Configured by ``SMTP_URL`` (``smtp://user:password@host:587?starttls=1``, or ``smtps://`` for TLS from
the first byte) and ``PARLEY_MAIL_FROM``; docs/configuration.md.
"""

from __future__ import annotations

import asyncio
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
    it off the event loop). Files past ``MAX_ATTACHED_BYTES`` are linked at the end of the text."""
    if message.to_kind != "email" or not message.to_value:
        raise TransportError("this conversation has no email address to reply to", permanent=True)
    inbox_name = message.inbox.get("name") or "Support"
    email = EmailMessage()
    email["From"] = formataddr((inbox_name, mail_from))
    email["To"] = message.to_value
    email["Subject"] = message.subject or f"Your conversation with {inbox_name}"
    email["Date"] = formatdate(usegmt=True)
    email["Message-ID"] = message_id(message.idempotency_key, mail_from)
    attached, linked = _split_by_size(message.attachments)
    email.set_content(message.text_with_links(linked) if linked else message.body)
    for file in attached:
        maintype, _, subtype = file.content_type.partition("/")
        email.add_attachment(
            _read(file), maintype=maintype or "application", subtype=subtype or "octet-stream", filename=file.filename
        )
    return email


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
