"""Which conversations a console list shows: views, filters, sort orders and keyset cursors.

A list is one view (all, mine, unassigned, or mentions: conversations with a note naming the agent),
optionally narrowed to a status, an inbox, a team, a channel and a label, in one sort order (latest
activity, oldest, priority, longest waiting, SLA due). Pages continue from an opaque
cursor holding the sort key of the last row shown, never from an OFFSET, so page 100 costs what page 1
costs; every row carries what its summary needs in two queries (the rows, then their labels).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, QuerySet

from contact_center.access import visible_conversations
from contact_center.lib import cursors, payloads
from contact_center.models import Agent, Conversation, Inbox, Mention
from contact_center.models.conversation import SLA_KEY, WAITING_KEY

VIEWS = ("all", "mine", "unassigned", "mentions")
# Sort keys that are not plain columns: the waiting and SLA orders put "nobody waits" last (the
# expressions the list indexes hold: models/conversation.py).
KEYS = {"waiting_key": WAITING_KEY, "sla_key": SLA_KEY}
# name -> the ORDER BY as (attribute, descending, "time" | "int"); every order ends on the primary key
# so the cursor is unique.
SORTS = {
    # most recent activity first
    "activity": (("last_activity_at", True, "time"), ("pk", True, "int")),
    # opened first: who has been with us longest
    "oldest": (("created_at", False, "time"), ("pk", False, "int")),
    # urgent first, then most recent
    "priority": (("priority", True, "int"), ("last_activity_at", True, "time"), ("pk", True, "int")),
    # the customer who has waited longest for an answer first; nobody waiting last
    "waiting": (("waiting_key", False, "time"), ("pk", False, "int")),
    # the response-time target that runs out first (or ran out longest ago) first
    "sla": (("sla_key", False, "time"), ("pk", False, "int")),
}
PAGE_SIZE = 50


def order_of(sort: str) -> list[str]:
    return [f"{'-' if descending else ''}{attribute}" for attribute, descending, _ in SORTS[sort]]


@dataclass(frozen=True)
class ListQuery:
    view: str = "all"
    status: str | None = None
    inbox_id: int | None = None
    team_id: int | None = None
    channel: str | None = None  # an inbox kind: widget, email, sms, whatsapp, voice
    label_id: int | None = None
    sort: str = "activity"
    after: tuple | None = None  # the sort key of the last row of the previous page


def check_list_query(params: Mapping[str, str]) -> ListQuery:
    """The list a request asks for (``?view=&status=&inbox=&team=&channel=&label=&sort=&cursor=``);
    raises ValidationError."""
    view = params.get("view") or "all"
    if view not in VIEWS:
        raise ValidationError(f"view is one of {', '.join(VIEWS)}")
    status = params.get("status") or None
    if status is not None and status not in Conversation.Status.values:
        raise ValidationError(f"status is one of {', '.join(Conversation.Status.values)}")
    inbox = params.get("inbox") or None
    if inbox is not None and not inbox.isdigit():
        raise ValidationError("inbox is an inbox id")
    team = params.get("team") or None
    if team is not None and not team.isdigit():
        raise ValidationError("team is a team id")
    channel = params.get("channel") or None
    if channel is not None and channel not in Inbox.Kind.values:
        raise ValidationError(f"channel is one of {', '.join(Inbox.Kind.values)}")
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
        team_id=int(team) if team else None,
        channel=channel,
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
    rows = _filtered(agent, query).select_related(*payloads.SUMMARY_RELATED).prefetch_related("labels")
    keys = {name: KEYS[name] for name in (column for column, _, _ in SORTS[query.sort]) if name in KEYS}
    rows = rows.annotate(**keys).order_by(*order_of(query.sort))
    if query.after is not None:
        rows = rows.filter(_after(query.sort, query.after))
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (_encode_cursor(query.sort, page[-1]) if more else None)


def view_counts(agent: Agent, status: str | None = Conversation.Status.OPEN) -> dict[str, dict[str, int]]:
    """How many conversations each view holds (open ones by default), and how many of those have a
    customer message no agent has read: ``{"open": {"all": 9, ...}, "unread": {"all": 2, ...}}``. One
    query."""
    rows = visible_conversations(agent).filter(merged_into__isnull=True)
    if status is not None:
        rows = rows.filter(status=status)
    views = {
        "all": Q(),
        "mine": Q(assignee=agent),
        "unassigned": Q(assignee__isnull=True),
        "mentions": Q(pk__in=_mentioned_in(agent)),
    }
    unread = Q(last_customer_seq__gt=F("agent_read_seq"))
    counts = rows.aggregate(
        **{f"open_{name}": Count("pk", filter=where) for name, where in views.items()},
        **{f"unread_{name}": Count("pk", filter=where & unread) for name, where in views.items()},
    )
    return {kind: {name: counts[f"{kind}_{name}"] for name in views} for kind in ("open", "unread")}


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
    if query.team_id is not None:
        rows = rows.filter(team_id=query.team_id)
    if query.channel is not None:
        rows = rows.filter(inbox__kind=query.channel)
    if query.label_id is not None:
        # One label: at most one through row per conversation, so the join repeats no row.
        rows = rows.filter(labels=query.label_id)
    return rows


def _key(sort: str, conversation: Conversation) -> list[Any]:
    key = []
    for attribute, _, kind in SORTS[sort]:
        value = getattr(conversation, attribute)
        key.append(value.isoformat() if kind == "time" else value)
    return key


def _after(sort: str, key: tuple) -> Q:
    """Rows strictly after ``key`` in ``sort`` order: beyond it on the first column, or equal on the
    first columns and beyond it on the next. The leading ``<=`` (or ``>=``) on the first column alone
    is what an index can seek on; the rest only settles ties within it."""
    columns = SORTS[sort]
    beyond = Q()
    for i, (attribute, descending, _) in enumerate(columns):
        tied = {columns[j][0]: key[j] for j in range(i)}
        beyond |= Q(**tied, **{f"{attribute}__{'lt' if descending else 'gt'}": key[i]})
    first, descending, _ = columns[0]
    return beyond & Q(**{f"{first}__{'lte' if descending else 'gte'}": key[0]})


def _encode_cursor(sort: str, conversation: Conversation) -> str:
    return cursors.encode([sort, *_key(sort, conversation)])


def _decode_cursor(sort: str, cursor: str) -> tuple:
    """The key in a cursor made by ``_encode_cursor`` for the same sort; ValidationError otherwise."""
    raw = cursors.decode(cursor)
    try:
        name, *key = raw
        if name != sort or len(key) != len(SORTS[sort]):
            raise ValueError("cursor of another sort")
        values = []
        for value, (_, _, kind) in zip(key, SORTS[sort], strict=True):
            if kind == "time":
                values.append(datetime.fromisoformat(value))
            elif isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(kind)
            else:
                values.append(value)
        return tuple(values)
    except (ValueError, TypeError):
        raise cursors.invalid() from None
