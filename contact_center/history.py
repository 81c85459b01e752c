"""Reading timelines: replays for resuming clients and pages for the console.

Everything here is keyed on seq, never on OFFSET, so page 100 costs what page 1 costs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import connection, connections
from django.db.models import OuterRef, Subquery

from contact_center.access import access_customer
from contact_center.lib import cursors, payloads
from contact_center.lib.csat import csat_enabled, csat_request
from contact_center.models import (
    Agent,
    Attachment,
    Conversation,
    Identity,
    SatisfactionRating,
    TimelineEntry,
)

REPLAY_BATCH = 200
CUSTOMER_PAGE = 50


def entries_after(conversation_id: int, after: int, limit: int = REPLAY_BATCH) -> list[dict[str, Any]]:
    """Agent payloads of the entries with seq > ``after``, oldest first (the caller checked access)."""
    return _conversation_entries(_IN_CONVERSATION + _SEQ_AFTER + _OLDEST_FIRST, [conversation_id, after, limit])


def entries_before(conversation_id: int, before: int | None, limit: int = 50) -> list[dict[str, Any]]:
    """One page of the timeline ending just before seq ``before`` (the newest page if None), oldest first."""
    if before is None:
        entries = _conversation_entries(_IN_CONVERSATION + _NEWEST_SEQ_FIRST, [conversation_id, limit])
    else:
        entries = _conversation_entries(
            _IN_CONVERSATION + _SEQ_BEFORE + _NEWEST_SEQ_FIRST, [conversation_id, before, limit]
        )
    entries.reverse()
    return entries


def _conversation_entries(where: str, params: list) -> list[dict[str, Any]]:
    # Seeks the (conversation, seq) unique index; one query, and one more when a file is among them.
    with connection.cursor() as sql:
        sql.execute(_ENTRY_SELECT + where, params)
        entries = [_entry_from_row(row) for row in sql.fetchall()]
    return _with_attachments(entries)


def customer_entries_before(
    agent: Agent, customer_id: int, cursor: str | None = None, limit: int = CUSTOMER_PAGE
) -> dict[str, Any]:
    """One page of the customer's whole history, every conversation and channel on one timeline.

    The newest page, or the one just older than ``cursor``; entries oldest first (each as
    ``payloads.entry_for_agent`` has it), each conversation they belong to summarised once, and the
    cursor of the next older page (None at the beginning). Only entries of inboxes ``agent`` may see
    are shown. Keyed on (created_at, id) over the customer's index, so any page costs what the first
    does: one query for the entries, one for the conversations they belong to, one for attachments
    when the page has any, one access check when the page is empty (a customer with no visible entry
    must be told apart from one the agent may not see). Raises ``AccessDenied`` and
    ``ValidationError`` (a cursor this function did not give out).

    This is the console's hottest read (every thread opened, every page scrolled back), so it is
    plain SQL into plain dicts: through the ORM, compiling the query and building a model per row and
    per author cost five times the query itself (docs/benchmarks.md). tests/views/
    test_customer_timeline.py holds its entries equal to ``entry_for_agent``'s.
    """
    at = pk = None
    if cursor:
        at, pk = _decode_entry_cursor(cursor)
    with connection.cursor() as sql:
        sql.execute(*_entries_sql(connection, customer_id, None if agent.sees_every_inbox else agent.pk, at, pk, limit))
        rows = sql.fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        if not rows:
            if not cursor:
                access_customer(agent, customer_id)  # raises for a customer the agent may not see
            return {"entries": [], "conversations": {}, "next": None}
        rows.reverse()
        sql.execute(*_headings_sql(sorted({row[1] for row in rows})))
        headings = [_heading_from_row(row) for row in sql.fetchall()]
    entries = _with_attachments([_entry_from_row(row) for row in rows])
    oldest = entries[0]
    return {
        "entries": entries,
        "conversations": {str(heading["id"]): heading for heading in headings},
        "next": cursors.encode([oldest["created_at"], oldest["id"]]) if more else None,
    }


# Plain SQL on both backends, for the timelines' hot reads. Only these constant fragments are ever
# joined into a statement; every value goes as a parameter.
_ENTRY_SELECT = (
    # the columns _entry_from_row reads, in order
    "SELECT e.id, e.conversation_id, e.customer_id, e.seq, e.kind, e.direction, e.body, e.payload,"
    " e.delivery_status, e.created_at, a.id, a.display_name, a.first_name, a.last_name, a.username"
    " FROM cc_timeline_entry e LEFT JOIN cc_agent a ON a.id = e.author_id"
)
_IN_CONVERSATION = " WHERE e.conversation_id = %s"
_SEQ_AFTER = " AND e.seq > %s"
_SEQ_BEFORE = " AND e.seq < %s"
_OLDEST_FIRST = " ORDER BY e.seq LIMIT %s"
_NEWEST_SEQ_FIRST = " ORDER BY e.seq DESC LIMIT %s"
_OF_CUSTOMER = " WHERE e.customer_id = %s"
_IN_MEMBERS_INBOXES = " AND e.inbox_id IN (SELECT m.inbox_id FROM cc_inbox_members m WHERE m.agent_id = %s)"
# The plain range is what the (customer, created_at, id) index seeks on; the OR settles ties in it.
_OLDER_THAN = " AND e.created_at <= %s AND (e.created_at < %s OR e.id < %s)"
_NEWEST_FIRST = " ORDER BY e.created_at DESC, e.id DESC LIMIT %s"
_HEADINGS = (
    # the columns _heading_from_row reads, in order
    "SELECT c.id, c.inbox_id, i.name, i.kind, c.status, c.subject, c.created_at"
    " FROM cc_conversation c JOIN cc_inbox i ON i.id = c.inbox_id WHERE c.id IN "
)


def _entries_sql(db, customer_id: int, member_id: int | None, at: datetime | None, pk: int | None, limit: int):
    """The newest ``limit + 1`` entries of the customer older than (at, pk), in inboxes the agent
    ``member_id`` is a member of (any inbox if None), newest first."""
    query, params = _ENTRY_SELECT + _OF_CUSTOMER, [customer_id]
    if member_id is not None:
        query += _IN_MEMBERS_INBOXES
        params.append(member_id)
    if at is not None:
        when = db.ops.adapt_datetimefield_value(at)
        query += _OLDER_THAN
        params += [when, when, pk]
    return query + _NEWEST_FIRST, [*params, limit + 1]


def _headings_sql(conversation_ids: list[int]):
    return _HEADINGS + "(" + ", ".join(["%s"] * len(conversation_ids)) + ") ORDER BY c.id", conversation_ids


def _entry_from_row(row: tuple) -> dict[str, Any]:
    """``payloads.entry_for_agent`` of an entry, from the columns _ENTRY_SELECT reads (attachments filled
    in later)."""
    (pk, conversation_id, customer_id, seq, kind, direction, body, payload, delivery_status, created_at) = row[:10]
    author_id, display_name, first_name, last_name, username = row[10:]
    return {
        "id": pk,
        "conversation": conversation_id,
        "customer": customer_id,
        "seq": seq,
        "kind": kind,
        "direction": direction,
        "author": (
            {"id": author_id, "name": Agent.public_name_of(display_name, first_name, last_name, username)}
            if author_id is not None
            else None
        ),
        "body": body,
        "payload": _json(payload),
        "attachments": [],
        "delivery_status": delivery_status,
        "created_at": _aware(created_at).isoformat(),
    }


def _heading_from_row(row: tuple) -> dict[str, Any]:
    """``payloads.conversation_heading`` of a conversation, from _headings_sql's columns."""
    pk, inbox_id, inbox_name, inbox_kind, status, subject, created_at = row
    return {
        "id": pk,
        "inbox": {"id": inbox_id, "name": inbox_name, "kind": inbox_kind},
        "status": status,
        "subject": subject,
        "created_at": _aware(created_at).isoformat(),
    }


def _with_attachments(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` (from _entry_from_row) with their files: nearly none has any, so only the entries
    whose payload lists attachments cost a query, one for all of them."""
    with_files = [entry for entry in entries if entry["payload"].get("attachments")]
    if with_files:
        files: dict[int, list[dict[str, Any]]] = {}
        for attachment in Attachment.objects.filter(entry_id__in=[e["id"] for e in with_files]).order_by("pk"):
            files.setdefault(attachment.entry_id, []).append(payloads.attachment_payload(attachment))
        for entry in with_files:
            entry["attachments"] = files.get(entry["id"], [])
    return entries


def _json(value: Any) -> Any:
    # Both backends hand JSON columns over as text (Django parses them in JSONField.from_db_value).
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _aware(value: datetime) -> datetime:
    # PostgreSQL returns aware datetimes in UTC; SQLite's converter returns naive ones, stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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
    One query (every widget socket's connect asks): the conversation is a subquery of the identity's row.
    """
    found = _prepared(Identity, _visitor_conversation_query, {_INBOX_MARK: inbox_id, _VISITOR_MARK: visitor_id})
    return None if found is None else (found[0], found[1])


# Stand-ins for a query's values while Django builds its SQL (_prepared). In range for any integer
# column: Django folds away a lookup on an out-of-range integer.
_INBOX_MARK = 1_987_654_321
_VISITOR_MARK = "parley:prepared:visitor"
_CONVERSATION_MARK = 1_987_654_322


def _visitor_conversation_query():
    latest = (
        Conversation.objects.filter(inbox_id=_INBOX_MARK, customer_id=OuterRef("customer_id"), merged_into__isnull=True)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    return (
        Identity.objects.filter(kind="visitor", value=_VISITOR_MARK)
        .annotate(conversation_id=Subquery(latest))
        .values_list("conversation_id", "customer_id")
        .order_by("pk")[:1]  # what .first() does to an unordered query
    )


_prepared_sqls: dict[tuple, tuple[str, tuple]] = {}


def _prepared(model, build, values: dict) -> tuple | None:
    """The first row of ``build()``'s query (on ``model``) run with ``values`` in place of its marks.

    Every widget connect and hello runs these queries, and Django built their SQL anew each time: most
    of their CPU, more than SQLite took to run them (docs/benchmarks.md). The SQL does not depend on the
    values, so it is built once per database and query. Only for queries whose columns need no
    conversion from the database (integers, text, None checks)."""
    db = model.objects.db
    key = (build, db, connections[db].vendor)
    found = _prepared_sqls.get(key)
    if found is None:
        sql, params = build().query.get_compiler(db).as_sql()
        if sorted(repr(param) for param in params if param in values) != sorted(repr(mark) for mark in values):
            raise AssertionError(f"{build.__name__}: each mark once in the parameters, not {params!r}")
        found = _prepared_sqls[key] = (sql, tuple(params))
    sql, params = found
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [values.get(param, param) for param in params])
        return cursor.fetchone()


def visitor_signals(conversation_id: int) -> list[dict[str, Any]]:
    """What a resuming widget is owed besides messages: how far agents have read, and a survey the
    visitor has not answered yet (so one who was away when the conversation was resolved is asked).

    Every widget's hello asks, so the common case (an open conversation) is one narrow row: no model,
    no join; the inbox and the ratings are read only for a resolved conversation."""
    row = _signals_row(conversation_id)
    return [] if row is None else _signals(conversation_id, row)


def visitor_resume(conversation_id: int, after: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A widget's ``hello``: ``public_entries_after`` (the first batch) and ``visitor_signals``.

    The signals' row carries the conversation's last public seq, so a client that already holds every
    entry (most reconnects, and any conversation without a public entry yet) costs that one narrow
    query: the replay's query, with its join, was a quarter of a connect's CPU when it found nothing
    (docs/benchmarks.md). An entry committed after the row was read reaches the socket live: it joined
    its groups at connect, before its hello."""
    row = _signals_row(conversation_id)
    if row is None:
        return [], []
    entries = public_entries_after(conversation_id, after) if row["last_public_seq"] > after else []
    return entries, _signals(conversation_id, row)


_SIGNALS_COLUMNS = ("agent_read_seq", "status", "resolved_at", "last_public_seq")


def _signals_query():
    return Conversation.objects.filter(pk=_CONVERSATION_MARK).values_list(*_SIGNALS_COLUMNS).order_by("pk")[:1]


def _signals_row(conversation_id: int) -> dict[str, Any] | None:
    # resolved_at is only compared with None, so its raw value (text on SQLite) is enough here.
    row = _prepared(Conversation, _signals_query, {_CONVERSATION_MARK: conversation_id})
    return None if row is None else dict(zip(_SIGNALS_COLUMNS, row, strict=True))


def _signals(conversation_id: int, row: dict[str, Any]) -> list[dict[str, Any]]:
    signals = []
    if row["agent_read_seq"]:
        signals.append({"type": "read", "conversation": conversation_id, "seq": row["agent_read_seq"]})
    if row["status"] == Conversation.Status.RESOLVED and row["resolved_at"] is not None:
        conversation = Conversation.objects.select_related("inbox").get(pk=conversation_id)
        if (
            csat_enabled(conversation.inbox)
            and not SatisfactionRating.objects.filter(
                conversation=conversation, resolved_at=conversation.resolved_at
            ).exists()
        ):
            signals.append(csat_request(conversation))
    return signals
