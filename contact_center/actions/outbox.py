"""The outbox: durable deliveries, claimed by workers under a lease, retried with backoff.

State machine of a ``Delivery``::

    pending --claim--> sending --sent--> sent
       ^                  |  \\--permanent error or last attempt--> dead
       +--retry backoff---+
    sending with an expired lease (its worker died) is claimed again like a due pending row.

What the provider reports later (delivered, read, undelivered) moves the entry, not the delivery:
``do_record_provider_status``. A report that arrives before the worker has recorded the provider's
message id is kept (``EarlyProviderReport``) and applied when it is.
"""

from __future__ import annotations

import contextlib
import random
from datetime import timedelta

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import F, JSONField, OuterRef, Q, Subquery
from django.utils import timezone

from contact_center.actions.events import notify_on_commit
from contact_center.actions.timeline import lock_conversation, publish_entry
from contact_center.lib import payloads
from contact_center.lib.attachment_links import attachment_url
from contact_center.models import Delivery, EarlyProviderReport, Inbox, TimelineEntry
from contact_center.transports import OutboundAttachment, OutboundMessage

# Workers wait on this channel between polls, so a new delivery goes out at once instead of at the
# next poll. Losing a wake-up costs one poll interval, nothing more.
WAKE_CHANNEL = "parley.outbox.wake"


def enqueue_delivery(entry: TimelineEntry, transport: str) -> Delivery:
    """Create the outbox row for ``entry`` inside the caller's transaction and wake a worker on commit."""
    delivery = Delivery.objects.create(
        entry=entry,
        transport=transport,
        max_attempts=settings.PARLEY_OUTBOX["max_attempts"],
        next_attempt_at=timezone.now(),
    )
    wake_workers_on_commit()
    return delivery


def wake_workers_on_commit() -> None:
    """Have a worker pass start right after the caller's transaction commits (e.g. to assign a new
    conversation), instead of at the next poll. A lost wake-up (layer down, channel full) is caught by
    the workers' next poll."""
    notify_on_commit(_wake_workers, "outbox.wake")


async def _wake_workers() -> None:
    with contextlib.suppress(Exception):
        await get_channel_layer().send(WAKE_CHANNEL, {"type": "outbox.wake"})


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter (AWS architecture blog): spreads retries of a burst."""
    base = settings.PARLEY_OUTBOX["backoff_base_seconds"]
    cap = settings.PARLEY_OUTBOX["backoff_cap_seconds"]
    return random.uniform(base, min(cap, base * 2**attempts))


def claim_due_deliveries(worker: str, limit: int = 20) -> list[int]:
    """Lease up to ``limit`` due deliveries to ``worker``; returns their ids.

    Due means pending with ``next_attempt_at`` reached, or sending with an expired lease (the worker
    that held it died). SKIP LOCKED lets many workers claim side by side on PostgreSQL; SQLite has a
    single writer, which serialises claims anyway.
    """
    now = timezone.now()
    lease = timedelta(seconds=settings.PARLEY_OUTBOX["lease_seconds"])
    due = Q(state=Delivery.State.PENDING, next_attempt_at__lte=now) | Q(
        state=Delivery.State.SENDING, lease_expires_at__lte=now
    )
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(due)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Delivery.objects.filter(pk__in=ids).update(
                state=Delivery.State.SENDING,
                lease_expires_at=now + lease,
                leased_by=worker,
                attempts=F("attempts") + 1,
            )
    return ids


def load_outbound(delivery_id: int) -> OutboundMessage:
    delivery = (
        Delivery.objects.select_related("entry__author", "entry__conversation__inbox", "entry__conversation__identity")
        .annotate(replied_mail=_newest_mail_payload())
        .get(pk=delivery_id)
    )
    entry = delivery.entry
    conversation = entry.conversation
    inbox = conversation.inbox
    identity = conversation.identity
    to_kind, to_value = (identity.kind, identity.value) if identity else (None, None)
    subject, body = conversation.subject, entry.body
    if conversation.reply_email:
        # Offline mode: the visitor left an address for the answer (models/conversation.py).
        to_kind, to_value = "email", conversation.reply_email
    via = entry.payload.get("via")
    if isinstance(via, dict):
        # The agent chose another address of the customer (actions/reply_via.py), and the inbox to send
        # from; should that inbox be gone since, the conversation's own still names the sender.
        to_kind, to_value = via.get("kind"), via.get("value")
        inbox = Inbox.objects.filter(pk=via.get("inbox")).first() or inbox
    mail = entry.payload.get("email")
    standalone = isinstance(mail, dict)
    if standalone:
        # An email composed by Parley (a transcript): its own recipient, subject and text.
        to_kind, to_value = "email", mail.get("to")
        subject, body = mail.get("subject") or subject, mail.get("body") or body
    in_reply_to, references = (None, ()) if standalone else _thread_ids(delivery.replied_mail)
    return OutboundMessage(
        delivery_id=delivery.pk,
        idempotency_key=str(delivery.idempotency_key),
        inbox={
            "id": inbox.pk,
            "kind": inbox.kind,
            "name": inbox.name,
            "address": inbox.address,
            "config": inbox.config,
        },
        conversation_id=conversation.pk,
        customer_id=conversation.customer_id,
        to_kind=to_kind,
        to_value=to_value,
        subject=subject,
        body=body,
        # Empty for an internal entry that carries an email of its own (a transcript): nothing to show.
        public_entry=payloads.entry_for_visitor(entry) if entry.public_seq is not None else {},
        transport=delivery.transport,
        attachments=_outbound_attachments(entry),
        in_reply_to=in_reply_to,
        references=references,
        standalone=standalone,
    )


def _newest_mail_payload() -> Subquery:
    """The payload of the newest mail the customer sent in the delivery's conversation, in the same
    query as the delivery (the outbox loads each message in one). A mail's entry is known by its
    ``external_id``, which is its Message-ID (channels_adapters/email/inbound.py); a mail without one
    ("sha256:...") cannot be replied to, and other channels' ids never start with "<"."""
    newest = (
        TimelineEntry.objects.filter(
            conversation_id=OuterRef("entry__conversation_id"),
            direction=TimelineEntry.Direction.IN,
            kind=TimelineEntry.Kind.MESSAGE,
            external_id__startswith="<",
        )
        .order_by("-seq")
        .values("payload")[:1]
    )
    return Subquery(newest, output_field=JSONField())


def _thread_ids(payload) -> tuple[str | None, tuple[str, ...]]:
    """(In-Reply-To, References) of a reply to the mail whose entry payload is ``payload``: its
    Message-ID, and its own References (or, lacking them, its In-Reply-To) followed by its Message-ID,
    as RFC 5322 section 3.6.4 builds them. The transport checks and shortens them."""
    if not isinstance(payload, dict) or not isinstance(payload.get("message_id"), str):
        return None, ()
    message_id = payload["message_id"]
    parents = payload.get("references") or [payload.get("in_reply_to")]
    if not isinstance(parents, list):
        parents = []
    chain = dict.fromkeys(ref for ref in parents if isinstance(ref, str) and ref and ref != message_id)
    return message_id, (*chain, message_id)


def _outbound_attachments(entry: TimelineEntry) -> tuple[OutboundAttachment, ...]:
    if not entry.payload.get("attachments"):
        return ()
    return tuple(
        OutboundAttachment(
            filename=a.filename, content_type=a.content_type, size=a.size, url=attachment_url(a), path=a.file.name
        )
        for a in entry.attachments.order_by("pk")
    )


def do_mark_sent(delivery_id: int, worker: str, provider_message_id: str | None = None) -> bool:
    """Record a successful send. Returns False (and changes nothing) if ``worker`` lost its lease."""
    with transaction.atomic():
        delivery = _leased(delivery_id, worker)
        if delivery is None:
            return False
        delivery.state = Delivery.State.SENT
        delivery.sent_at = timezone.now()
        delivery.lease_expires_at = None
        delivery.provider_message_id = provider_message_id or ""
        delivery.save(update_fields=["state", "sent_at", "lease_expires_at", "provider_message_id"])
        _set_entry_status(delivery.entry_id, TimelineEntry.DeliveryStatus.SENT)
    if delivery.provider_message_id:
        # After the commit: a report stored while this transaction was open is seen now, and one
        # stored after it sees the id (do_record_provider_status looks again from its side).
        _apply_early_reports(delivery.transport, delivery.provider_message_id)
    return True


def do_mark_failed(delivery_id: int, worker: str, error: str, *, permanent: bool) -> str | None:
    """Record a failed attempt: back to pending with backoff, or dead after a permanent error or the
    last attempt (the entry then shows as failed in the console). Returns the new state, or None if
    ``worker`` lost its lease."""
    with transaction.atomic():
        delivery = _leased(delivery_id, worker)
        if delivery is None:
            return None
        delivery.last_error = error[:2000]
        delivery.lease_expires_at = None
        if permanent or delivery.attempts >= delivery.max_attempts:
            delivery.state = Delivery.State.DEAD
            _set_entry_status(delivery.entry_id, TimelineEntry.DeliveryStatus.FAILED)
        else:
            delivery.state = Delivery.State.PENDING
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=backoff_seconds(delivery.attempts))
        delivery.save(update_fields=["state", "last_error", "lease_expires_at", "next_attempt_at"])
    return delivery.state


# What a provider's report may move an entry from: statuses only go forward (sent < delivered < read),
# and a message the customer got or read does not fail afterwards. Reports arrive out of order.
_PROVIDER_STATUS_FROM = {
    TimelineEntry.DeliveryStatus.SENT: {TimelineEntry.DeliveryStatus.QUEUED},
    TimelineEntry.DeliveryStatus.DELIVERED: {TimelineEntry.DeliveryStatus.QUEUED, TimelineEntry.DeliveryStatus.SENT},
    TimelineEntry.DeliveryStatus.READ: {
        TimelineEntry.DeliveryStatus.QUEUED,
        TimelineEntry.DeliveryStatus.SENT,
        TimelineEntry.DeliveryStatus.DELIVERED,
    },
    TimelineEntry.DeliveryStatus.FAILED: {TimelineEntry.DeliveryStatus.QUEUED, TimelineEntry.DeliveryStatus.SENT},
}


# How long a report for a message id no delivery has is kept: Twilio reports within seconds of the
# send; what is still unmatched a day later was not about a message of ours.
EARLY_REPORT_TTL = timedelta(days=1)


def do_record_provider_status(transport: str, provider_message_id: str, status: str, error: str = "") -> bool:
    """A provider reports what became of a message it accepted (a Twilio status callback): move the
    entry's ``delivery_status`` to ``status`` (sent, delivered, read or failed) and tell the consoles
    (``entry.updated``). ``error`` is kept in the delivery's ``last_error`` when it failed.

    Returns whether the entry moved. A report for a message id no delivery of ``transport`` has yet
    (the provider was quicker than the worker recording the send, or the message is not ours) is kept
    for ``do_mark_sent`` to apply; a stale report changes nothing (``_PROVIDER_STATUS_FROM``). The
    delivery itself stays ``sent``: the outbox's part is done, and sending again could only duplicate.
    """
    if not provider_message_id or status not in _PROVIDER_STATUS_FROM:
        return False
    with transaction.atomic():
        delivery = _delivery_with(transport, provider_message_id)
        if delivery is not None:
            return _apply_report(delivery, status, error)
        EarlyProviderReport.objects.filter(received_at__lt=timezone.now() - EARLY_REPORT_TTL).delete()
        EarlyProviderReport.objects.create(
            transport=transport, provider_message_id=provider_message_id, status=status, error=error[:2000]
        )
    # The worker may have recorded the id meanwhile, after it looked for early reports: look again now
    # that this one is committed (do_mark_sent does the same from its side, so one of the two sees it).
    return _apply_early_reports(transport, provider_message_id)


def _delivery_with(transport: str, provider_message_id: str) -> Delivery | None:
    return (
        Delivery.objects.select_for_update()
        .filter(transport=transport, provider_message_id=provider_message_id)
        .first()
    )


def _apply_report(delivery: Delivery, status: str, error: str) -> bool:
    if not _set_entry_status(delivery.entry_id, status, allowed_from=_PROVIDER_STATUS_FROM[status]):
        return False
    if status == TimelineEntry.DeliveryStatus.FAILED and error:
        delivery.last_error = error[:2000]
        delivery.save(update_fields=["last_error"])
    return True


def _apply_early_reports(transport: str, provider_message_id: str) -> bool:
    """Apply, in the order they came, the reports kept for a message id a delivery now has, and drop
    them; under the delivery's lock, so two callers apply each report once. Returns whether the entry
    moved."""
    with transaction.atomic():
        delivery = _delivery_with(transport, provider_message_id)
        if delivery is None:
            return False
        early = list(
            EarlyProviderReport.objects.filter(transport=transport, provider_message_id=provider_message_id).order_by(
                "received_at", "pk"
            )
        )
        moved = False
        for report in early:
            moved = _apply_report(delivery, report.status, report.error) or moved
        EarlyProviderReport.objects.filter(pk__in=[report.pk for report in early]).delete()
    return moved


def _leased(delivery_id: int, worker: str) -> Delivery | None:
    return (
        Delivery.objects.select_for_update()
        .filter(pk=delivery_id, state=Delivery.State.SENDING, leased_by=worker)
        .first()
    )


def _set_entry_status(entry_id: int, status: str, *, allowed_from=None) -> bool:
    """Move the entry to ``status`` and publish ``entry.updated``, unless it is ``read`` already or
    (with ``allowed_from``) in a status not listed there; checked under the conversation's lock.
    Returns whether it moved."""
    entry = TimelineEntry.objects.select_related("author").get(pk=entry_id)
    conversation = lock_conversation(entry.conversation_id)
    entry.refresh_from_db(fields=["delivery_status"])
    if entry.delivery_status == TimelineEntry.DeliveryStatus.READ:
        return False  # the customer read it before the worker recorded the send: never move back
    if allowed_from is not None and entry.delivery_status not in allowed_from:
        return False
    entry.delivery_status = status
    entry.save(update_fields=["delivery_status"])
    publish_entry(conversation, entry, customer_too=False, type_="entry.updated")
    return True
