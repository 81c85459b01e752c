"""Receiving from customers: the one entry point every channel funnels into."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from contact_center.actions import hot_path
from contact_center.actions.attachments import claim_attachments
from contact_center.actions.autoassign import auto_assign_enabled
from contact_center.actions.outbox import wake_workers_on_commit
from contact_center.actions.timeline import append_activity, append_entry, lock_conversation
from contact_center.lib.envelope import InboundEnvelope
from contact_center.lib.identity import normalize_identity
from contact_center.models import Conversation, Customer, Identity, Inbox, Label, RawInbound, TimelineEntry

logger = logging.getLogger(__name__)

# Concurrent twins of a message race on unique constraints (the entry, a new identity); the loser
# retries once the winner has committed and then finds the winner's rows.
_ATTEMPTS = 3


class _StoredAlready(Exception):
    """The envelope is stored already: roll back what the hot path wrote for it."""


@dataclass(frozen=True)
class ReceiveResult:
    entry: TimelineEntry
    created: bool


def do_receive_inbound(envelope: InboundEnvelope) -> ReceiveResult:
    """Store ``envelope`` on its customer's timeline and publish it; idempotent on (inbox, external_id).

    Finds or creates the customer by the sender's normalised identity (the same address is the same
    customer in every inbox), continues or opens the conversation (reopening one that was resolved,
    pending or snoozed), appends the entry and publishes after commit. Receiving an envelope that is
    already stored returns the stored entry with ``created=False`` and publishes nothing.
    Binds ``envelope.attachment_ids`` to the entry when the same sender uploaded them to this inbox and
    they are not bound yet; otherwise stores nothing and raises ``ValidationError``.
    Raises ``ValidationError`` for a sender value that does not normalise, ``Inbox.DoesNotExist``.
    """
    value = normalize_identity(envelope.sender.kind, envelope.sender.value)
    hot = hot_path.applies(envelope)
    for attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                known_sender = True
                if hot:
                    entry = hot_path.append(envelope, value)
                    if entry is hot_path.DUPLICATE:
                        raise _StoredAlready
                    if entry is hot_path.NEW_SENDER:
                        known_sender = False
                    elif entry is not None:
                        return ReceiveResult(entry, created=True)
                if attempt > 0 or not hot:
                    # A copy of a stored message that took no hot path (on the first try, a copy that did
                    # not fails on the unique constraint below and is found here on the next).
                    stored = _stored_entry(envelope)
                    if stored is not None:
                        return ReceiveResult(stored, created=False)
                return ReceiveResult(_receive(envelope, value, known_sender=known_sender), created=True)
        except _StoredAlready:
            # Rolled back: the hot path had taken a seq for the copy.
            return ReceiveResult(_stored_entry(envelope), created=False)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
            logger.info("inbound %s lost a race to a concurrent twin; retrying", envelope.external_id)
    raise AssertionError("unreachable")


def do_receive_raw(
    source: str, fields: dict[str, Any], parse: Callable[[dict[str, Any]], InboundEnvelope]
) -> RawInbound:
    """What a provider's webhook delivered (``fields``), stored as it came, then parsed by the adapter's
    ``parse`` and received. Returns the ``RawInbound`` row: ``stored`` with its entry, or
    ``quarantined`` with the reason when ``parse`` or ``do_receive_inbound`` refused it
    (``ValidationError``, an inbox that is gone). Any other error leaves the row ``received`` and raises."""
    raw = RawInbound.objects.create(source=source, fields=fields)
    try:
        result = do_receive_inbound(parse(fields))
    except (ValidationError, Inbox.DoesNotExist) as exc:
        raw.state = RawInbound.State.QUARANTINED
        raw.error = "; ".join(exc.messages) if isinstance(exc, ValidationError) else "the inbox no longer exists"
        raw.save(update_fields=["state", "error"])
        logger.warning("%s #%s quarantined: %s", source, raw.pk, raw.error)
        return raw
    raw.state, raw.entry = RawInbound.State.STORED, result.entry
    raw.save(update_fields=["state", "entry"])
    return raw


def _stored_entry(envelope: InboundEnvelope) -> TimelineEntry | None:
    return TimelineEntry.objects.filter(inbox_id=envelope.inbox_id, external_id=envelope.external_id).first()


def _receive(envelope: InboundEnvelope, value: str, *, known_sender: bool = True) -> TimelineEntry:
    """The path of every message the hot path does not take: a new customer or conversation, a reopen,
    a thread hint, attachments. At most 8 statements for the first message of a conversation
    (tests/actions/test_hot_path.py). ``known_sender=False``: the hot path found no one with the
    sender's identity in this transaction, so it is not looked up again."""
    now = timezone.now()
    inbox = Inbox.objects.select_related("team").get(pk=envelope.inbox_id)
    # Checked first: a refused attachment must not leave a new customer or conversation behind.
    attachment_ids = claim_attachments(
        inbox.pk, f"{envelope.sender.kind}:{envelope.sender.value}", envelope.attachment_ids
    )
    identity = Identity.objects.filter(kind=envelope.sender.kind, value=value).first() if known_sender else None
    if identity is None:
        # A concurrent twin may create the same identity: the unique constraint fails this transaction
        # and do_receive_inbound retries, then finds the twin's identity and customer.
        customer = Customer.objects.create(name=envelope.sender.display_name, last_seen_at=now)
        identity = Identity.objects.create(customer=customer, kind=envelope.sender.kind, value=value)
        conversation = _open_conversation(inbox, customer, identity, envelope, now)
    else:
        # Locking the customer serialises concurrent first messages, so they share one new conversation.
        customer = Customer.objects.select_for_update().get(pk=identity.customer_id)
        conversation = _find_or_open_conversation(inbox, customer, identity, envelope, now)
    entry = append_entry(
        conversation,
        kind=envelope.kind,
        direction=TimelineEntry.Direction.IN,
        body=envelope.body,
        payload=envelope.payload,
        external_id=envelope.external_id,
        attachment_ids=attachment_ids,
        created_at=now,
    )
    if customer.last_seen_at != now:
        customer.last_seen_at = now
        customer.save(update_fields=["last_seen_at"])
    return entry


def _find_or_open_conversation(
    inbox: Inbox, customer: Customer, identity: Identity, envelope: InboundEnvelope, now
) -> Conversation:
    candidates = Conversation.objects.filter(inbox=inbox, customer=customer)
    found = None
    if envelope.thread_hint is not None:
        # A reply to a conversation since merged continues the one it was merged into.
        hinted = candidates.filter(pk=envelope.thread_hint).values_list("pk", "merged_into").first()
        found = hinted and (hinted[1] or hinted[0])
    if found is None and envelope.continue_latest:
        found = (
            candidates.filter(merged_into__isnull=True)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
    if found is None:
        return _open_conversation(inbox, customer, identity, envelope, now)
    conversation = lock_conversation(found)
    if conversation.status != Conversation.Status.OPEN:
        previous = conversation.status
        conversation.status = Conversation.Status.OPEN
        conversation.resolved_at = None
        conversation.snoozed_until = None
        conversation.save(update_fields=["status", "resolved_at", "snoozed_until"])
        append_activity(
            conversation,
            body="Reopened: the customer wrote again",
            payload={"event": "status", "from": previous, "to": Conversation.Status.OPEN},
        )
    return conversation


def _open_conversation(
    inbox: Inbox, customer: Customer, identity: Identity, envelope: InboundEnvelope, now
) -> Conversation:
    """A new conversation, with what its summary shows already in hand: nobody else can see the row
    before this transaction commits, so it needs neither a lock nor a read back."""
    conversation = Conversation.objects.create(
        customer=customer,
        inbox=inbox,
        identity=identity,
        team=inbox.team,  # the inbox's team takes its new conversations
        subject=envelope.subject[:255],
        last_activity_at=now,
    )
    conversation._prefetched_objects_cache = {"labels": Label.objects.none()}
    if auto_assign_enabled(inbox):
        wake_workers_on_commit()  # a worker assigns it now rather than at its next poll
    return conversation
