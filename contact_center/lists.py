"""Which conversations a console list shows: views, filters, sort orders and keyset cursors.

A list is one view (all, mine, unassigned, or mentions: conversations with a note naming the agent),
optionally narrowed to a status, an inbox and a label, in one sort order. Pages continue from an opaque
cursor holding the sort key of the last row shown, never from an OFFSET, so page 100 costs what page 1
costs; every row carries what its summary needs in two queries (the rows, then their labels).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet

from contact_center.access import visible_conversations
from contact_center.lib import cursors
from contact_center.models import Agent, Conversation, Mention

VIEWS = ("all", "mine", "unassigned", "mentions")
# name -> the ORDER BY; every order ends on the primary key so the cursor is unique.
SORTS = {
    "activity": ("-last_activity_at", "-pk"),  # most recent activity first
    "oldest": ("created_at", "pk"),  # opened first: who has been with us longest
    "priority": ("-priority", "-last_activity_at", "-pk"),  # urgent first, then most recent
}
PAGE_SIZE = 50


@dataclass(frozen=True)
class ListQuery:
    view: str = "all"
    status: str | None = None
    inbox_id: int | None = None
    label_id: int | None = None
    sort: str = "activity"
    after: tuple | None = None  # the sort key of the last row of the previous page


def check_list_query(params: Mapping[str, str]) -> ListQuery:
    """The list a request asks for (``?view=&status=&inbox=&label=&sort=&cursor=``); raises ValidationError."""
    view = params.get("view") or "all"
    if view not in VIEWS:
        raise ValidationError(f"view is one of {', '.join(VIEWS)}")
    status = params.get("status") or None
    if status is not None and status not in Conversation.Status.values:
        raise ValidationError(f"status is one of {', '.join(Conversation.Status.values)}")
    inbox = params.get("inbox") or None
    if inbox is not None and not inbox.isdigit():
        raise ValidationError("inbox is an inbox id")
    label = params.get("label") or None
    if label is not None and not label.isdigit():
        raise ValidationError("label is a label id")
    sort = params.get("sort") or "activity"
    if sort not in SORTS:
        raise ValidationError(f"sort is one of {', '.join(SORTS)}")
    cursor = params.get("cursor") or None
    after = _decode_cursor(sort, cursor) if cursor else None
    return ListQuery(
        view=view,
        status=status,
        inbox_id=int(inbox) if inbox else None,
        label_id=int(label) if label else None,
        sort=sort,
        after=after,
    )


def conversation_page(
    agent: Agent, query: ListQuery, limit: int | None = None
) -> tuple[list[Conversation], str | None]:
    """One page of the list (``PAGE_SIZE`` rows unless ``limit``) and the cursor of the next (None on
    the last page). Two queries (the rows, then their labels), whatever the page."""
    limit = limit or PAGE_SIZE
    rows = (
        _filtered(agent, query)
        .select_related("inbox", "customer", "assignee")
        .prefetch_related("labels")
        .order_by(*SORTS[query.sort])
    )
    if query.after is not None:
        rows = rows.filter(_after(query.sort, query.after))
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (_encode_cursor(query.sort, page[-1]) if more else None)


def view_counts(agent: Agent, status: str | None = Conversation.Status.OPEN) -> dict[str, int]:
    """How many conversations each view holds (open ones by default), in one query."""
    rows = visible_conversations(agent).filter(merged_into__isnull=True)
    if status is not None:
        rows = rows.filter(status=status)
    return rows.aggregate(
        all=Count("pk"),
        mine=Count("pk", filter=Q(assignee=agent)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        mentions=Count("pk", filter=Q(pk__in=_mentioned_in(agent))),
    )


def _mentioned_in(agent: Agent):
    return Mention.objects.filter(agent=agent).values("conversation_id")


def _filtered(agent: Agent, query: ListQuery) -> QuerySet[Conversation]:
    rows = visible_conversations(agent).filter(merged_into__isnull=True)
    if query.view == "mine":
        rows = rows.filter(assignee=agent)
    elif query.view == "unassigned":
        rows = rows.filter(assignee__isnull=True)
    elif query.view == "mentions":
        rows = rows.filter(pk__in=_mentioned_in(agent))
    if query.status is not None:
        rows = rows.filter(status=query.status)
    if query.inbox_id is not None:
        rows = rows.filter(inbox_id=query.inbox_id)
    if query.label_id is not None:
        # One label: at most one through row per conversation, so the join repeats no row.
        rows = rows.filter(labels=query.label_id)
    return rows


def _key(sort: str, conversation: Conversation) -> list[Any]:
    if sort == "activity":
        return [conversation.last_activity_at.isoformat(), conversation.pk]
    if sort == "oldest":
        return [conversation.created_at.isoformat(), conversation.pk]
    return [conversation.priority, conversation.last_activity_at.isoformat(), conversation.pk]


def _after(sort: str, key: tuple) -> Q:
    """Rows strictly after ``key`` in ``sort`` order."""
    if sort == "activity":
        at, pk = key
        return Q(last_activity_at__lt=at) | Q(last_activity_at=at, pk__lt=pk)
    if sort == "oldest":
        at, pk = key
        return Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk)
    priority, at, pk = key
    return (
        Q(priority__lt=priority)
        | Q(priority=priority, last_activity_at__lt=at)
        | Q(priority=priority, last_activity_at=at, pk__lt=pk)
    )


def _encode_cursor(sort: str, conversation: Conversation) -> str:
    return cursors.encode([sort, *_key(sort, conversation)])


def _decode_cursor(sort: str, cursor: str) -> tuple:
    """The key in a cursor made by ``_encode_cursor`` for the same sort; ValidationError otherwise."""
    raw = cursors.decode(cursor)
    try:
        name, *key = raw
        if name != sort:
            raise ValueError("cursor of another sort")
        *head, pk = key
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise ValueError("pk")
        if sort == "priority":
            priority, at = head
            if isinstance(priority, bool) or not isinstance(priority, int):
                raise ValueError("priority")
            return priority, datetime.fromisoformat(at), pk
        (at,) = head
        return datetime.fromisoformat(at), pk
    except (ValueError, TypeError):
        raise cursors.invalid() from None
