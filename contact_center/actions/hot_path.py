"""The hot path: a customer's message into their open conversation, in three or four SQL statements.

Every channel's messages go through ``do_receive_inbound``; nearly all of them continue an open
conversation. Through the ORM that took twelve statements (the idempotency check, inbox, identity,
customer lock, conversation lookup, a row lock with four joins, labels, the insert and two updates:
10 ms of CPU a message on SQLite, docs/benchmarks.md). Here it takes, in one transaction:

1. ``UPDATE cc_customer ... RETURNING``: last seen, for the customer who has the sender's identity. It
   also locks the customer before the conversation, the order the ORM path locks them in (the other
   order deadlocks concurrent messages on PostgreSQL). No row: a new sender, for the ORM path.
2. ``UPDATE cc_conversation ... RETURNING``: the customer's latest conversation in the inbox, only if it is
   open and not merged: bumps its seqs, activity time and wait, and locks it, which orders concurrent
   messages. RETURNING brings back every column and what the console's summary shows of the inbox,
   assignee, team and labels (scalar subqueries). No row: the ORM path reopens or opens one.
3. ``INSERT INTO cc_timeline_entry ... ON CONFLICT DO NOTHING RETURNING``: the entry; no row back means
   the message is stored already (idempotency on ``(inbox, external_id)``): the caller rolls back.
4. only when this message starts a wait in an inbox with a response target: its SLA due time.

Anything else (a thread hint, attachments, an entry customers cannot see) takes the ORM path from the
start. The rows come back as model instances so that the events are built by the same payload functions
as everywhere else; tests/actions/test_hot_path.py checks them against what the ORM reads back. The SQL
is written from the models' metadata, the same on SQLite (3.35+, for RETURNING) and PostgreSQL but for
the JSON aggregate of the labels.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone

from contact_center.actions.timeline import publish_entry
from contact_center.lib import sla
from contact_center.lib.envelope import InboundEnvelope
from contact_center.lib.previews import preview_of
from contact_center.models import Agent, Conversation, Customer, Identity, Inbox, Label, Team, TimelineEntry

# What ``append`` returns when the message is stored already: the caller rolls back the seq it took.
DUPLICATE = object()
# What ``append`` returns when no customer has the sender's identity: the ORM path creates them.
NEW_SENDER = object()

# Related values the summary shows, returned beside the conversation's own columns.
_RELATED = (
    ("inbox_name", f"(SELECT name FROM {Inbox._meta.db_table} WHERE id = {{c}}.inbox_id)"),
    ("inbox_kind", f"(SELECT kind FROM {Inbox._meta.db_table} WHERE id = {{c}}.inbox_id)"),
    ("inbox_config", f"(SELECT config FROM {Inbox._meta.db_table} WHERE id = {{c}}.inbox_id)"),
    *(
        (f"assignee_{name}", f"(SELECT {name} FROM {Agent._meta.db_table} WHERE id = {{c}}.assignee_id)")
        for name in ("display_name", "first_name", "last_name", "username")
    ),
    ("team_name", f"(SELECT name FROM {Team._meta.db_table} WHERE id = {{c}}.team_id)"),
)


def applies(envelope: InboundEnvelope) -> bool:
    """Whether ``envelope`` may take the hot path (it still needs an open conversation to continue)."""
    return (
        envelope.continue_latest
        and envelope.thread_hint is None
        and not envelope.attachment_ids
        and envelope.kind in (TimelineEntry.Kind.MESSAGE, TimelineEntry.Kind.CALL)
    )


def append(envelope: InboundEnvelope, value: str) -> TimelineEntry | object | None:
    """Store ``envelope`` (from identity ``value``, normalised) in the sender's open conversation and
    schedule its events. Returns the entry; ``DUPLICATE`` if it was stored before (roll back);
    ``NEW_SENDER`` when nobody has that identity yet (nothing was changed); None when the sender has no
    open conversation here (only their last seen was changed). The caller holds a transaction."""
    now = timezone.now()
    preview = preview_of(envelope.kind, TimelineEntry.Direction.IN, envelope.body, envelope.payload)
    with connection.cursor() as cursor:
        # The customer first, as the ORM path locks them first (then the conversation): the same order
        # everywhere, or concurrent messages deadlock on PostgreSQL.
        cursor.execute(
            _statements().customer_seen,
            [_prep(Customer, "last_seen_at", now), envelope.sender.kind, value],
        )
        seen = cursor.fetchone()
        if seen is None:
            return NEW_SENDER
        customer = Customer(pk=seen[0], name=seen[1], last_seen_at=now)
        cursor.execute(
            _statements().continue_conversation,
            {
                "now": _prep(Conversation, "last_activity_at", now),
                "customer": customer.pk,
                "inbox": envelope.inbox_id,
                "open": Conversation.Status.OPEN,
                "preview": preview[0],
                "preview_from": preview[1],
            },
        )
        row = cursor.fetchone()
        if row is None:
            return None
        conversation = _conversation(row, customer)
        entry = TimelineEntry(
            conversation=conversation,
            customer_id=conversation.customer_id,
            inbox_id=conversation.inbox_id,
            seq=conversation.last_seq,
            public_seq=conversation.last_public_seq,
            kind=envelope.kind,
            direction=TimelineEntry.Direction.IN,
            body=envelope.body,
            payload=envelope.payload,
            external_id=envelope.external_id,
            delivery_status="",
            created_at=now,
        )
        cursor.execute(
            _statements().insert_entry, [_prep(TimelineEntry, name, getattr(entry, name)) for name in _ENTRY]
        )
        inserted = cursor.fetchone()
        if inserted is None:
            return DUPLICATE
        entry.pk = inserted[0]
        # waiting_since is the time of this message only if it starts a wait (nobody was waiting): its
        # SLA clock starts too (the update left sla_due_at alone).
        if conversation.waiting_since == now:
            conversation.sla_due_at = sla.due_at(
                conversation.inbox.config, now, first=conversation.first_response_at is None
            )
            if conversation.sla_due_at is not None:
                cursor.execute(
                    f"UPDATE {Conversation._meta.db_table} SET sla_due_at = %s WHERE id = %s",
                    [_prep(Conversation, "sla_due_at", conversation.sla_due_at), conversation.pk],
                )
    publish_entry(conversation, entry, customer_too=True)
    return entry


# The entry's columns the insert writes: all but the id, which comes from the database.
_ENTRY = tuple(f.attname for f in TimelineEntry._meta.concrete_fields if not f.primary_key)


class _Statements:
    def __init__(self, vendor: str):
        conversation = Conversation._meta.db_table
        columns = ", ".join(f"{conversation}.{f.column}" for f in _conversation_fields())
        related = ", ".join(f"{sql.format(c=conversation)} AS {name}" for name, sql in _RELATED)
        through = Conversation.labels.through._meta
        label_table = Label._meta.db_table
        if vendor == "postgresql":
            labels = f"(SELECT json_agg(json_build_array(l.id, l.name, l.color))::text FROM {label_table} l"
        else:
            labels = f"(SELECT json_group_array(json_array(l.id, l.name, l.color)) FROM {label_table} l"
        label_column = through.get_field("label").column
        conversation_column = through.get_field("conversation").column
        labels += f" JOIN {through.db_table} cl ON cl.{label_column} = l.id"
        labels += f" WHERE cl.{conversation_column} = {conversation}.id)"
        customer = Customer._meta.db_table
        self.customer_seen = f"""
            UPDATE {customer} SET last_seen_at = %s
            WHERE id = (SELECT customer_id FROM {Identity._meta.db_table} WHERE kind = %s AND value = %s)
            RETURNING id, name
        """
        # In an UPDATE every expression on the right reads the row as it was before: last_customer_seq
        # gets the new public seq, and waiting_since is only set when nobody was waiting.
        self.continue_conversation = f"""
            UPDATE {conversation} SET
                last_seq = {conversation}.last_seq + 1,
                last_public_seq = {conversation}.last_public_seq + 1,
                last_customer_seq = {conversation}.last_public_seq + 1,
                last_activity_at = %(now)s,
                preview = %(preview)s,
                preview_from = %(preview_from)s,
                waiting_since = COALESCE({conversation}.waiting_since, %(now)s)
            WHERE {conversation}.id = (
                SELECT latest.id FROM {conversation} latest
                WHERE latest.customer_id = %(customer)s
                    AND latest.inbox_id = %(inbox)s AND latest.merged_into_id IS NULL
                ORDER BY latest.created_at DESC, latest.id DESC
                LIMIT 1
            ) AND {conversation}.status = %(open)s
            RETURNING {columns}, {related}, {labels}
        """
        entry_columns = ", ".join(TimelineEntry._meta.get_field(name).column for name in _ENTRY)
        placeholders = ", ".join("%s" for _ in _ENTRY)
        self.insert_entry = (
            f"INSERT INTO {TimelineEntry._meta.db_table} ({entry_columns}) VALUES ({placeholders})"
            " ON CONFLICT DO NOTHING RETURNING id"
        )


def _statements() -> _Statements:
    return _statements_for(connection.vendor)


@cache
def _statements_for(vendor: str) -> _Statements:
    return _Statements(vendor)


@cache
def _conversation_fields() -> tuple[Field, ...]:
    return tuple(Conversation._meta.concrete_fields)


def _prep(model: type[Model], name: str, value: Any) -> Any:
    """``value`` as the ORM would send it for ``model.name`` (datetimes, JSON) on this connection."""
    return model._meta.get_field(name).get_db_prep_value(value, connection, prepared=False)


def _from_db(field: Field, value: Any) -> Any:
    """A column's value as the ORM would read it (SQLite returns datetimes and JSON as text)."""
    expression, converters = _converters(connection.vendor, field)
    for converter in converters:
        value = converter(value, expression, connection)
    return value


@cache
def _converters(vendor: str, field: Field) -> tuple:
    """The column expression of ``field`` and its converters on this backend, worked out once."""
    expression = field.get_col(field.model._meta.db_table)
    return expression, tuple(connection.ops.get_db_converters(expression) + field.get_db_converters(connection))


def _conversation(row: tuple, customer: Customer) -> Conversation:
    fields = _conversation_fields()
    values = [_from_db(field, value) for field, value in zip(fields, row, strict=False)]
    conversation = Conversation.from_db(connection.alias, [f.attname for f in fields], values)
    related = dict(zip((name for name, _ in _RELATED), row[len(fields) :], strict=False))
    config = related["inbox_config"]
    conversation.inbox = Inbox(
        pk=conversation.inbox_id,
        name=related["inbox_name"],
        kind=related["inbox_kind"],
        config=json.loads(config) if isinstance(config, str) else config,
    )
    conversation.customer = customer
    conversation.assignee = (
        Agent(
            pk=conversation.assignee_id,
            display_name=related["assignee_display_name"],
            first_name=related["assignee_first_name"],
            last_name=related["assignee_last_name"],
            username=related["assignee_username"],
        )
        if conversation.assignee_id
        else None
    )
    conversation.team = Team(pk=conversation.team_id, name=related["team_name"]) if conversation.team_id else None
    labels = [Label(pk=pk, name=name, color=color) for pk, name, color in json.loads(row[-1] or "[]")]
    conversation._prefetched_objects_cache = {"labels": _prefetched(labels)}
    return conversation


def _prefetched(labels: list[Label]):
    queryset = Label.objects.none()
    queryset._result_cache = labels
    queryset._prefetch_done = True
    return queryset
