"""What agents write: replies to customers and internal notes."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from contact_center.access import access_conversation
from contact_center.actions.outbox import enqueue_delivery
from contact_center.actions.timeline import append_entry, lock_conversation
from contact_center.models import Agent, TimelineEntry


def check_body(body: str, *, allow_empty: bool = False) -> str:
    """``body`` trimmed; raises ``ValidationError`` when it is too long, or empty unless ``allow_empty``
    (a message that carries attachments needs no text)."""
    body = (body or "").strip()
    if not body and not allow_empty:
        raise ValidationError("a message cannot be empty")
    if len(body) > settings.PARLEY_MESSAGE_MAX_CHARS:
        raise ValidationError(f"a message is at most {settings.PARLEY_MESSAGE_MAX_CHARS} characters")
    return body


def do_send_reply(agent: Agent, conversation_id: int, body: str, *, client_id: str | None = None) -> TimelineEntry:
    """Write ``agent``'s reply and its outbox row in one transaction; a worker delivers it.

    Idempotent on ``client_id``: the console's resend of a reply it never saw acknowledged returns the
    stored entry. Records the conversation's first response time. Raises ``AccessDenied`` when the
    agent may not see the conversation and ``ValidationError`` for an empty or oversized body.
    """
    body = check_body(body)
    return _write(agent, conversation_id, body, client_id, kind=TimelineEntry.Kind.MESSAGE)


def do_add_note(agent: Agent, conversation_id: int, body: str, *, client_id: str | None = None) -> TimelineEntry:
    """An internal note: agents of the inbox see it, the customer never does."""
    body = check_body(body)
    return _write(agent, conversation_id, body, client_id, kind=TimelineEntry.Kind.NOTE)


def _write(agent: Agent, conversation_id: int, body: str, client_id: str | None, *, kind: str) -> TimelineEntry:
    conversation = access_conversation(agent, conversation_id)
    external_id = f"agent:{agent.pk}:{client_id}" if client_id else None
    is_reply = kind == TimelineEntry.Kind.MESSAGE
    with transaction.atomic():
        conversation = lock_conversation(conversation.pk)
        # Looked up under the conversation's lock: a resend racing the original waits here for it to
        # commit and then finds it, instead of failing on the (inbox, external_id) constraint.
        if external_id:
            stored = TimelineEntry.objects.filter(inbox_id=conversation.inbox_id, external_id=external_id).first()
            if stored is not None:
                return stored
        entry = append_entry(
            conversation,
            kind=kind,
            direction=TimelineEntry.Direction.OUT if is_reply else TimelineEntry.Direction.INTERNAL,
            body=body,
            author=agent,
            payload={"client_id": client_id} if client_id else {},
            external_id=external_id,
            delivery_status=TimelineEntry.DeliveryStatus.QUEUED if is_reply else "",
        )
        if is_reply:
            # Offline-mode conversations are answered by email, whatever the inbox's own channel.
            enqueue_delivery(entry, "email" if conversation.reply_email else conversation.inbox.kind)
            if conversation.first_response_at is None:
                conversation.first_response_at = entry.created_at
                conversation.save(update_fields=["first_response_at"])
    return entry
