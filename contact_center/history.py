"""Reading timelines: replays for resuming clients and pages for the console.

Everything here is keyed on seq, never on OFFSET, so page 100 costs what page 1 costs.
"""

from __future__ import annotations

from typing import Any

from contact_center.lib import payloads
from contact_center.lib.csat import csat_enabled, csat_request
from contact_center.models import Conversation, Identity, SatisfactionRating, TimelineEntry

REPLAY_BATCH = 200


def entries_after(conversation_id: int, after: int, limit: int = REPLAY_BATCH) -> list[dict[str, Any]]:
    """Agent payloads of the entries with seq > ``after``, oldest first (the caller checked access)."""
    rows = (
        TimelineEntry.objects.filter(conversation_id=conversation_id, seq__gt=after)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("seq")[:limit]
    )
    return [payloads.entry_for_agent(entry) for entry in rows]


def entries_before(conversation_id: int, before: int | None, limit: int = 50) -> list[dict[str, Any]]:
    """One page of the timeline ending just before seq ``before`` (the newest page if None), oldest first."""
    rows = (
        TimelineEntry.objects.filter(conversation_id=conversation_id)
        .select_related("author")
        .prefetch_related("attachments")
    )
    if before is not None:
        rows = rows.filter(seq__lt=before)
    page = list(rows.order_by("-seq")[:limit])
    page.reverse()
    return [payloads.entry_for_agent(entry) for entry in page]


def public_entries_after(conversation_id: int, after: int, limit: int = REPLAY_BATCH) -> list[dict[str, Any]]:
    """Visitor payloads of the entries the customer may see with public_seq > ``after``, oldest first."""
    rows = (
        TimelineEntry.objects.filter(conversation_id=conversation_id, public_seq__gt=after)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("public_seq")[:limit]
    )
    return [payloads.entry_for_visitor(entry) for entry in rows]


def visitor_conversation(inbox_id: int, visitor_id: str) -> tuple[int, int] | tuple[None, int] | None:
    """(conversation id, customer id) of the visitor's current conversation in the inbox.

    (None, customer id) when the visitor is known but has no conversation there; None when unknown.
    """
    customer_id = (
        Identity.objects.filter(kind="visitor", value=visitor_id).values_list("customer_id", flat=True).first()
    )
    if customer_id is None:
        return None
    conversation_id = (
        Conversation.objects.filter(inbox_id=inbox_id, customer_id=customer_id)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return conversation_id, customer_id


def visitor_signals(conversation_id: int) -> list[dict[str, Any]]:
    """What a resuming widget is owed besides messages: how far agents have read, and a survey the
    visitor has not answered yet (so one who was away when the conversation was resolved is asked)."""
    conversation = Conversation.objects.select_related("inbox").filter(pk=conversation_id).first()
    if conversation is None:
        return []
    signals = []
    if conversation.agent_read_seq:
        signals.append({"type": "read", "conversation": conversation.pk, "seq": conversation.agent_read_seq})
    if (
        conversation.status == Conversation.Status.RESOLVED
        and conversation.resolved_at is not None
        and csat_enabled(conversation.inbox)
        and not SatisfactionRating.objects.filter(
            conversation=conversation, resolved_at=conversation.resolved_at
        ).exists()
    ):
        signals.append(csat_request(conversation))
    return signals
