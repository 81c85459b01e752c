"""Appending entries to a conversation's timeline and telling everyone who may see them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from contact_center.actions.events import send_event_on_commit
from contact_center.lib import payloads, recipients, sla
from contact_center.lib.previews import preview_of
from contact_center.models import Agent, Attachment, Conversation, TimelineEntry


def append_entry(
    conversation: Conversation,
    *,
    kind: str,
    direction: str,
    body: str = "",
    author: Agent | None = None,
    payload: dict[str, Any] | None = None,
    external_id: str | None = None,
    delivery_status: str = "",
    attachment_ids: Sequence[int] = (),
    created_at: datetime | None = None,
) -> TimelineEntry:
    """Write the next entry of ``conversation``. The caller holds the conversation's row lock.

    Bumps the conversation's seq counters and activity time (saved here) and schedules the events:
    agents of the inbox always hear of it; the customer's live sessions only of what they may see.
    ``attachment_ids`` are bound to the entry before the events are built; the caller checked (and
    locked) them. ``created_at`` defaults to now.
    """
    if attachment_ids:
        payload = {**(payload or {}), "attachments": list(attachment_ids)}
    entry = TimelineEntry(
        conversation=conversation,
        customer_id=conversation.customer_id,
        inbox_id=conversation.inbox_id,
        kind=kind,
        direction=direction,
        body=body,
        author=author,
        payload=payload or {},
        external_id=external_id,
        delivery_status=delivery_status,
        created_at=created_at or timezone.now(),
    )
    conversation.last_seq += 1
    entry.seq = conversation.last_seq
    if entry.visible_to_customer:
        conversation.last_public_seq += 1
        entry.public_seq = conversation.last_public_seq
    entry.save()
    if attachment_ids:
        Attachment.objects.filter(pk__in=attachment_ids).update(entry=entry)
    conversation.last_activity_at = entry.created_at
    _update_waiting(conversation, entry)
    preview = preview_of(kind, direction, body, payload)
    if preview is not None:
        conversation.preview, conversation.preview_from = preview
    conversation.save(
        update_fields=[
            "preview",
            "preview_from",
            "last_seq",
            "last_public_seq",
            "last_activity_at",
            "waiting_since",
            "sla_due_at",
            "last_customer_seq",
        ]
    )
    publish_entry(conversation, entry, customer_too=direction != TimelineEntry.Direction.OUT)
    return entry


def _update_waiting(conversation: Conversation, entry: TimelineEntry) -> None:
    """The customer writes: they wait (from their oldest unanswered message) and it is unread. An agent
    answers: nobody waits. Notes and activity change neither."""
    if entry.direction == TimelineEntry.Direction.IN and entry.public_seq is not None:
        conversation.last_customer_seq = entry.public_seq
        if conversation.waiting_since is None:
            conversation.waiting_since = entry.created_at
            conversation.sla_due_at = sla.due_at(
                conversation.inbox.config, entry.created_at, first=conversation.first_response_at is None
            )
    elif entry.direction == TimelineEntry.Direction.OUT and entry.author_id is not None:
        conversation.waiting_since = None
        conversation.sla_due_at = None


def append_activity(
    conversation: Conversation, *, body: str, payload: dict[str, Any], author: Agent | None = None, **extra
) -> TimelineEntry:
    """An internal activity line ("Resolved", "Assigned to Sam"): what happened to the conversation, by
    ``author`` (None when Parley did it), with the details in ``payload["event"]`` and beside it. Agents
    see it; customers never do. The caller holds the conversation's row lock."""
    return append_entry(
        conversation,
        kind=TimelineEntry.Kind.ACTIVITY,
        direction=TimelineEntry.Direction.INTERNAL,
        body=body,
        author=author,
        payload=payload,
        **extra,
    )


def publish_entry(conversation: Conversation, entry: TimelineEntry, *, customer_too: bool, type_="entry.created"):
    """Schedule the events for ``entry``. Outbound entries reach the customer through their transport."""
    send_event_on_commit(
        {
            "type": type_,
            "conversation": payloads.conversation_summary(conversation),
            "entry": payloads.entry_for_agent(entry),
        },
        recipients.agent_groups(conversation),
    )
    if customer_too:
        customer_groups = recipients.customer_groups(conversation, entry)
        if customer_groups:
            send_event_on_commit({"type": "message", "message": payloads.entry_for_visitor(entry)}, customer_groups)


def lock_conversation(conversation_id: int) -> Conversation:
    """The conversation, row-locked for the rest of the transaction, with what summaries need."""
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related(*payloads.SUMMARY_RELATED)
        .prefetch_related("labels")
        .get(pk=conversation_id)
    )


def now():
    return timezone.now()
