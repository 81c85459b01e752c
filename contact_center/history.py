"""Reading timelines: replays for resuming clients and pages for the console.

Everything here is keyed on seq, never on OFFSET, so page 100 costs what page 1 costs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, prefetch_related_objects

from contact_center.access import access_customer, visible_inboxes
from contact_center.lib import cursors, payloads
from contact_center.lib.csat import csat_enabled, csat_request
from contact_center.models import Agent, Conversation, Identity, SatisfactionRating, TimelineEntry

REPLAY_BATCH = 200
CUSTOMER_PAGE = 50


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


def customer_entries_before(
    agent: Agent, customer_id: int, cursor: str | None = None, limit: int = CUSTOMER_PAGE
) -> dict[str, Any]:
    """One page of the customer's whole history, every conversation and channel on one timeline.

    The newest page, or the one just older than ``cursor``; entries oldest first, each conversation
    they belong to summarised once, and the cursor of the next older page (None at the beginning).
    Only entries of inboxes ``agent`` may see are shown. Keyed on (created_at, id) over the
    customer's index, so any page costs what the first does: one query for the entries, one for
    attachments when the page has any, one access check when the page is empty (a customer with no
    visible entry must be told apart from one the agent may not see). Raises ``AccessDenied`` and
    ``ValidationError`` (a cursor this function did not give out).
    """
    rows = TimelineEntry.objects.filter(customer_id=customer_id).select_related("author", "conversation__inbox")
    if not agent.sees_every_inbox:
        rows = rows.filter(inbox_id__in=visible_inboxes(agent).values("pk"))
    if cursor:
        at, pk = _decode_entry_cursor(cursor)
        # The plain range is what an index can seek on; the OR only settles ties within it.
        rows = rows.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk), created_at__lte=at)
    page = list(rows.order_by("-created_at", "-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    if not page and not cursor:
        access_customer(agent, customer_id)  # raises for a customer the agent may not see
    page.reverse()
    # Nearly no entry has files: fetch attachments only for those that do.
    prefetch_related_objects([e for e in page if e.payload.get("attachments")], "attachments")
    conversations = {}
    for entry in page:
        conversations.setdefault(entry.conversation_id, entry.conversation)
    return {
        "entries": [payloads.entry_for_agent(entry) for entry in page],
        "conversations": {str(pk): payloads.conversation_heading(c) for pk, c in conversations.items()},
        "next": cursors.encode([page[0].created_at.isoformat(), page[0].pk]) if more else None,
    }


def customer_cursor_before(entry: dict[str, Any]) -> str:
    """The ``customer_entries_before`` cursor of the customer's history older than ``entry`` (an agent
    payload): where a conversation's own timeline ends, the customer's earlier history goes on."""
    return cursors.encode([entry["created_at"], entry["id"]])


def _decode_entry_cursor(cursor: str) -> tuple[datetime, int]:
    key = cursors.decode(cursor)
    try:
        at, pk = key
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise TypeError("pk")
        return datetime.fromisoformat(at), pk
    except (ValueError, TypeError):
        raise cursors.invalid() from None


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
        Conversation.objects.filter(inbox_id=inbox_id, customer_id=customer_id, merged_into__isnull=True)
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
