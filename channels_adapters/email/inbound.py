"""Mail that arrives, by whatever path (the pipe command today; the SMTP listener and IMAP next), into
one function: ``receive_email(raw, recipient)``.

The order is the promise of issue 13, "nothing is ever lost": the bytes and their sha256 are stored
first (``RawInbound``), then parsed (channels_adapters/email/parse.py, which never raises), then placed
on the sender's timeline by ``do_receive_inbound``. What cannot be placed (no inbox has the address,
no sender can be read) is quarantined with its reason. The same bytes delivered again, or the same
Message-ID, become one entry.

Threading, for now: the ids in In-Reply-To and References (newest first) are looked up among this
inbox's messages (an inbound mail's Message-ID is its entry's ``external_id``; Parley's own replies
carry ``<parley.<delivery key>@…>``). The conversation found is only a hint: ``do_receive_inbound``
honours it only when the sender is that conversation's customer, so a forged References header from
someone else opens a conversation of their own. Without a match a mail opens a new conversation.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q

from channels_adapters.email import noise
from channels_adapters.email.parse import ParsedEmail, parse
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.outbox import do_record_provider_status
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Delivery, Inbox, RawInbound, TimelineEntry

logger = logging.getLogger(__name__)

SOURCE = "email"
# Parley's own Message-IDs (channels_adapters/email/transport.py: message_id).
_OWN_ID = re.compile(r"^<parley\.([0-9a-f-]{36})@[^>]*>$", re.IGNORECASE)


@dataclass(frozen=True)
class Thread:
    conversation_id: int
    reason: str  # shown on the entry: which header matched what


def receive_email(raw: bytes, recipient: str, *, via: str = "pipe") -> RawInbound:
    """Store ``raw`` (one mail for ``recipient``, as delivered), then parse and place it. Returns its
    ``RawInbound``: ``stored`` with the entry, or ``quarantined`` with the reason. Only an error of the
    database itself raises (the caller's transport retries: the pipe command exits 75). Call it outside
    a transaction: the raw row must be committed before anything can fail on it."""
    digest = hashlib.sha256(raw).hexdigest()
    # The same bytes for the same address again: a retry, or a second path; it was placed or quarantined
    # the first time. (For another address they are another delivery: mail to two inboxes belongs in both.)
    earlier = (
        RawInbound.objects.filter(source=SOURCE, sha256=digest, fields__recipient=recipient)
        .exclude(state=RawInbound.State.RECEIVED)
        .first()
    )
    if earlier is not None:
        return earlier
    row = RawInbound.objects.create(source=SOURCE, fields={"recipient": recipient, "via": via}, raw=raw, sha256=digest)
    return _place(row)


def retry_quarantined(row: RawInbound) -> RawInbound:
    """Parse and place a quarantined mail's stored bytes again, for its recipient, once whatever stopped
    it is fixed (Console -> Settings -> Quarantine: the inbox now exists). Updates and returns the SAME
    row: ``stored`` with its entry, or still ``quarantined`` with the new reason. ``receive_email`` would
    answer the same bytes with this very row, so the retry skips that check. A row that is no longer
    quarantined (a second click, a concurrent retry) is returned as it is; one that is not mail raises
    ``ValueError``."""
    if row.source != SOURCE:
        raise ValueError(f"RawInbound #{row.pk} is {row.source!r}, not mail")
    row.refresh_from_db()
    if row.state != RawInbound.State.QUARANTINED:
        return row
    return _place(row)


def _place(row: RawInbound) -> RawInbound:
    """Parse the row's stored bytes and place them for its recipient; the row, stored or quarantined."""
    raw = bytes(row.raw)  # a memoryview when read back from the database
    mail = parse(raw)
    if (bounce := record_bounce(row, mail)) is not None:
        return bounce
    try:
        envelope = _envelope(mail, row.fields["recipient"], row.sha256)
        result = do_receive_inbound(envelope)
    except ValidationError as exc:
        return _quarantine(row, "; ".join(exc.messages))
    except Inbox.DoesNotExist:
        return _quarantine(row, "the inbox no longer exists")
    row.state, row.entry, row.error = RawInbound.State.STORED, result.entry, ""
    row.save(update_fields=["state", "entry", "error"])
    # An acknowledgement email ("we got your message", issue 13 point 8), when Parley sends one, goes
    # here: for a new conversation only, never for mail with ``mail.auto`` set (an auto-reply, a bounce,
    # list mail: answering robots is how mail loops start), and rate-limited per sender.
    return row


def record_bounce(row: RawInbound, mail: ParsedEmail) -> RawInbound | None:
    """A bounce of an email Parley sent: mark that email's entry failed with the bounce's reason and
    store ``row`` without an entry of its own (the failure shows on the reply it is about; the bounce
    stays in ``row``). None when ``mail`` is no bounce, or names no email of ours: it is placed like
    any other mail then (marked ``auto``).

    Whatever address it came to: bounces go to the envelope sender (``PARLEY_MAIL_FROM``), which
    need not be an inbox's. Knowing one of our Message-IDs (a random key) takes having received that
    email, so only its recipients, or their mail systems, can fail it."""
    delivery = bounced_delivery(mail)
    if delivery is None:
        return None
    # By the delivery's own id once the worker recorded the send; before that (a bounce quicker than
    # the worker's commit) by the id the bounce names, kept and applied when the worker records it.
    message_id = delivery.provider_message_id or mail.bounce_of
    reason = f"bounced: {mail.bounce_reason}" if mail.bounce_reason else "bounced (no reason given)"
    do_record_provider_status(delivery.transport, message_id, TimelineEntry.DeliveryStatus.FAILED, reason)
    row.state, row.error = RawInbound.State.STORED, ""
    row.fields = {**row.fields, "bounce_of": mail.bounce_of, "delivery": delivery.pk}
    row.save(update_fields=["state", "error", "fields"])
    logger.info("mail #%s: a bounce of delivery #%s (%s)", row.pk, delivery.pk, reason)
    return row


def bounced_delivery(mail: ParsedEmail) -> Delivery | None:
    """The delivery of the email ``mail`` bounces, if it is a bounce and names one of ours: by the key
    in our Message-ID, or by the Message-ID recorded when it was sent."""
    if mail.auto != noise.BOUNCE or not mail.bounce_of:
        return None
    ours = Q(transport=SOURCE, provider_message_id=mail.bounce_of)
    own = _OWN_ID.match(mail.bounce_of)
    if own:
        with contextlib.suppress(ValueError):
            ours |= Q(idempotency_key=uuid.UUID(own.group(1)))
    return Delivery.objects.filter(ours).first()


def _quarantine(row: RawInbound, reason: str) -> RawInbound:
    row.state, row.error = RawInbound.State.QUARANTINED, reason
    row.save(update_fields=["state", "error"])
    logger.warning("mail #%s quarantined: %s", row.pk, reason)
    return row


def inbox_for(recipient: str) -> Inbox | None:
    """The email inbox whose address is ``recipient`` (addresses are stored lower-cased)."""
    address = recipient.strip().strip("<>").lower()
    return Inbox.objects.filter(kind=Inbox.Kind.EMAIL, address=address).first()


def _envelope(mail: ParsedEmail, recipient: str, digest: str) -> InboundEnvelope:
    inbox = inbox_for(recipient)
    if inbox is None:
        raise ValidationError(f"no email inbox has the address {recipient!r}")
    if not mail.from_address:
        raise ValidationError("the mail names no sender address (From)")
    thread = find_thread(inbox.pk, mail)
    payload = {
        "subject": mail.subject,
        "message_id": mail.message_id,
        "in_reply_to": mail.in_reply_to,
        "references": list(mail.references),
        "to": list(mail.to),
        "cc": list(mail.cc),
        "has_html": bool(mail.html),
        "sha256": digest,
    }
    if mail.auto:
        # Stored and shown, never answered automatically (issue 13, loops and noise).
        payload["auto"] = mail.auto
    if mail.attachments:
        payload["attached"] = [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size} for a in mail.attachments
        ]
    if thread is not None:
        payload["threaded"] = thread.reason
    return InboundEnvelope(
        inbox_id=inbox.pk,
        # One entry per Message-ID in the inbox; mail without one is known by its bytes.
        external_id=(mail.message_id or f"sha256:{digest}")[:255],
        sender=Sender(kind="email", value=mail.from_address, display_name=mail.from_name),
        body=mail.text,
        subject=mail.subject,
        payload=payload,
        thread_hint=thread.conversation_id if thread else None,
        continue_latest=False,
    )


def find_thread(inbox_id: int, mail: ParsedEmail) -> Thread | None:
    """The conversation of the newest message ``mail`` replies to, among this inbox's, and why."""
    ids = ([mail.in_reply_to] if mail.in_reply_to else []) + list(reversed(mail.references))
    for message_id in dict.fromkeys(ids):  # in order, once each
        own = _OWN_ID.match(message_id)
        if own:
            try:
                key = uuid.UUID(own.group(1))
            except ValueError:
                continue
            delivery = (
                Delivery.objects.filter(idempotency_key=key, entry__inbox_id=inbox_id).select_related("entry").first()
            )
            if delivery is not None:
                sent = delivery.entry.created_at
                return Thread(delivery.entry.conversation_id, f"reply to our email of {_day(sent)}")
            continue
        entry = (
            TimelineEntry.objects.filter(inbox_id=inbox_id, external_id=message_id)
            .only("conversation_id", "created_at")
            .first()
        )
        if entry is not None:
            return Thread(entry.conversation_id, f"reply to their email of {_day(entry.created_at)}")
    return None


def _day(moment) -> str:
    return f"{moment.day} {moment:%b %Y}"
