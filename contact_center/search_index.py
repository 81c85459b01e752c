"""What the database keeps for console search (contact_center/search.py), on each backend.

Four sources are searchable: the body of messages and notes, conversation subjects, customer names,
and customer identities (email addresses, phone numbers, site user ids; never widget visitor ids,
which are random tokens of a browser). Each source is one index:

- PostgreSQL: a GIN expression index on ``to_tsvector('simple', ...)`` of the column, built
  ``CONCURRENTLY`` so a migration on a big timeline does not hold up inbound messages. Nothing is
  stored beside the rows and no extension is needed (docs/decisions.md, D13).
- SQLite: an FTS5 table whose rowid is the source row's id, kept in step by triggers on the source
  table. The FTS5 table keeps its own copy of the text (no ``content=``): deleting a row from an
  external-content table with text it was never indexed with corrupts the index, and a trigger that
  went missing for a while would make every later delete of that row fail.

Only the text lives in an index. What decides whether a row is shown (its conversation, inbox,
merged state) is read from the row itself when searching, so an entry moved by a merge or a move to
another inbox is found where it is now with no reindexing.

Punctuation inside words becomes a word break on both backends: ``vera@example.com`` is found by
``vera``, ``example.com`` or the whole address, ``+49 151 2345678`` by its digits. (PostgreSQL's
parser would otherwise keep an address, a host name or a signed number as one word.)

Django's SQLite schema editor rebuilds a table (new table, copy, drop, rename) for many field
changes, and dropping the table drops its triggers. ``repair`` runs after every ``migrate``
(contact_center/apps.py) and puts back whatever is missing, reindexing that source once.

The migration (0011_search) calls ``create`` and ``drop``. Changing what is indexed here means a new
migration that drops and creates again; the query side (``pg_document``, the FTS5 table names) must
stay the same expression as the index, or PostgreSQL stops using it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

# Characters that glue words together for PostgreSQL's parser (addresses, hosts, paths, signed and
# decimal numbers, hyphenated words), turned into spaces before parsing. SQLite's unicode61 tokenizer
# breaks on all of them already.
_GLUE = "@.:/+-"
# Only the start of a very long text is indexed: a tsvector cannot exceed 1 MB, and a longer one
# would make PostgreSQL refuse the INSERT itself. 100,000 characters stay well below it.
INDEXED_CHARS = 100_000


@dataclass(frozen=True)
class Source:
    name: str  # the PostgreSQL index and the SQLite FTS5 table
    table: str
    column: str
    condition: str  # which rows are searchable, with {row} for the row's alias ("" for all)

    def where(self, row: str) -> str:
        return self.condition.format(row=row)


ENTRIES = Source("cc_search_entry", "cc_timeline_entry", "body", "{row}.kind IN ('message', 'note')")
CONVERSATIONS = Source("cc_search_conversation", "cc_conversation", "subject", "")
CUSTOMERS = Source("cc_search_customer", "cc_customer", "name", "")
IDENTITIES = Source("cc_search_identity", "cc_identity", "value", "{row}.kind <> 'visitor'")
SOURCES = (ENTRIES, CONVERSATIONS, CUSTOMERS, IDENTITIES)


def pg_document(source: Source, row: str) -> str:
    """The indexed expression of ``source`` for the row alias ``row``: queries must repeat it exactly."""
    spaces = " " * len(_GLUE)
    return (
        f"to_tsvector('simple'::regconfig, translate(left({row}.{source.column}, {INDEXED_CHARS}), "
        f"'{_GLUE}', '{spaces}'))"
    )


# --- Creating and dropping (migration 0011_search) ------------------------------------------------


def create(schema_editor) -> None:
    """Build every index on the migration's connection; a backend other than these two gets none."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for source in SOURCES:
            if connection.vendor == "postgresql":
                _create_pg_index(cursor, source)
            elif connection.vendor == "sqlite":
                _create_fts_table(cursor, source)
                _create_triggers(cursor, source)
                _reindex(cursor, source)


def drop(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for source in SOURCES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {source.name}")
        elif vendor == "sqlite":
            for trigger in _trigger_names(source):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {source.name}")


def _create_pg_index(cursor, source: Source) -> None:
    # Not in a transaction, so CONCURRENTLY: inbound messages keep arriving while a big timeline is
    # indexed. A build that failed half way leaves an invalid index, which IF NOT EXISTS would keep.
    if _pg_index_state(cursor, source) == "invalid":
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {source.name}")
    where = f" WHERE {source.where(source.table)}" if source.condition else ""
    cursor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {source.name} ON {source.table} "
        f"USING gin ({pg_document(source, source.table)}){where}"
    )


def _pg_index_state(cursor, source: Source) -> str:
    cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [source.name])
    row = cursor.fetchone()
    return "missing" if row is None else "valid" if row[0] else "invalid"


def _create_fts_table(cursor, source: Source) -> None:
    # remove_diacritics 2: "cafe" finds "café", "muller" finds "Müller". prefix: the words of 2 and 3
    # letters that begin longer ones are indexed too, so what an agent has just started typing
    # ("re", "ref") is found from one entry instead of a merge of every word it begins.
    cursor.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {source.name} "
        f"USING fts5({source.column}, tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    )


# --- SQLite triggers ------------------------------------------------------------------------------


def _trigger_names(source: Source) -> list[str]:
    return [f"{source.name}_{event}" for event in ("insert", "delete", "update")]


def _text(source: Source, row: str) -> str:
    return f"substr({row}.{source.column}, 1, {INDEXED_CHARS})"


def _create_triggers(cursor, source: Source) -> None:
    insert, delete, update = _trigger_names(source)
    when_new = f" WHEN {source.where('new')}" if source.condition else ""
    only_new = f" WHERE {source.where('new')}" if source.condition else ""
    # An UPDATE that leaves the text (and, for partial sources, the kind) alone touches no index:
    # Django's save() rewrites every column, a conversation's status changes often.
    watched = [source.column] + (["kind"] if source.condition else [])
    changed = " OR ".join(f"old.{column} IS NOT new.{column}" for column in watched)
    cursor.execute(
        f"CREATE TRIGGER IF NOT EXISTS {insert} AFTER INSERT ON {source.table}{when_new} BEGIN "
        f"INSERT INTO {source.name}(rowid, {source.column}) VALUES (new.id, {_text(source, 'new')}); END"
    )
    cursor.execute(
        f"CREATE TRIGGER IF NOT EXISTS {delete} AFTER DELETE ON {source.table} BEGIN "
        f"DELETE FROM {source.name} WHERE rowid = old.id; END"
    )
    cursor.execute(
        f"CREATE TRIGGER IF NOT EXISTS {update} AFTER UPDATE OF {', '.join(watched)} ON {source.table} "
        f"WHEN {changed} BEGIN "
        f"DELETE FROM {source.name} WHERE rowid = old.id; "
        f"INSERT INTO {source.name}(rowid, {source.column}) SELECT new.id, {_text(source, 'new')}{only_new}; END"
    )


def _reindex(cursor, source: Source) -> None:
    """Index every searchable row of ``source`` afresh (the backfill, and the repair)."""
    where = f" WHERE {source.where(source.table)}" if source.condition else ""
    cursor.execute(f"DELETE FROM {source.name}")
    cursor.execute(
        f"INSERT INTO {source.name}(rowid, {source.column}) "
        f"SELECT id, {_text(source, source.table)} FROM {source.table}{where}"
    )


def repair(connection) -> list[str]:
    """Put back whatever of the indexes is missing once migration 0011 is applied; returns the
    names of the sources repaired.

    SQLite: triggers a table rebuild dropped (their source is then reindexed), and tables of a
    database that applied 0011 while it was still an empty placeholder. PostgreSQL: a missing or
    invalid index (built again, CONCURRENTLY). Before 0011, or after it was unapplied, nothing.
    """
    if connection.vendor not in {"sqlite", "postgresql"} or not _applied(connection):
        return []
    repaired = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for source in SOURCES:
                if _pg_index_state(cursor, source) != "valid":
                    _create_pg_index(cursor, source)
                    repaired.append(source.name)
            return repaired
        cursor.execute("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {(kind, name) for kind, name in cursor.fetchall()}
    for source in SOURCES:
        if ("table", source.name) in present and all(("trigger", t) in present for t in _trigger_names(source)):
            continue
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            _create_fts_table(cursor, source)
            _create_triggers(cursor, source)
            _reindex(cursor, source)
        repaired.append(source.name)
    return repaired


def _applied(connection) -> bool:
    from django.db.migrations.recorder import MigrationRecorder

    return ("contact_center", "0011_search") in MigrationRecorder(connection).applied_migrations()
