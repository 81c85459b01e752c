"""Console search: customers, conversations and message text, as the agent may see them.

``search(agent, q, kind, cursor)`` answers one page of one kind:

- ``messages``: messages and internal notes (every result goes to an agent) whose text holds the words;
- ``conversations``: those whose subject, or whose customer's name, holds them;
- ``customers``: those whose name, or an address or number they are known by, holds them.

What the agent may see is what the lists show (contact_center/access.py): entries and conversations
of the inboxes they see (every inbox for admins and supervisors), and a customer only through a
conversation they see. A conversation merged into another is never a result: its entries live in
the other one now.

Every word must appear (a word, not part of one: "refund" does not find "refunds"), except the last,
which may be the start of a longer word once it has two letters, so results come as the agent types.
Words joined by punctuation stay together: "vera@example.com" is vera, example and com in a row.
What the agent types is only ever words: quotes, ``*``, ``OR``, ``NEAR`` or parentheses are no query
syntax, and a query of punctuation alone finds nothing. For customers, a query that looks like a
phone number is its digits, the start of a stored number.

Pages are 20 results, best match first, then the most recent (messages: the latest stored;
conversations: the latest activity; customers: the newest); the cursor holds the sort key of the
last result shown (keyset paging: no OFFSET, a deep page costs what the first does). Of each index,
only the newest RANKED visible matches are ranked (see ``_window``). On PostgreSQL "best" is
``ts_rank`` over GIN expression indexes; on SQLite FTS5's ``bm25``, which weighs each word by how
rare it is in the whole index, so a write between two pages can shift scores and make a later page
repeat or skip a result near its edge (the console drops repeats). contact_center/search_index.py
describes the indexes, docs/decisions.md (D13) the choices.

A page costs a fixed number of queries whatever it holds: the ranked ids (on PostgreSQL after the
planner settings of ``_fetch``), then the rows and what their summaries need: three in all for
messages and conversations, five for customers.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from contact_center import search_index
from contact_center.access import visible_conversations, visible_inboxes
from contact_center.lib import cursors, payloads
from contact_center.models import Agent, Conversation, Customer, TimelineEntry

KINDS = ("messages", "conversations", "customers")
PAGE_SIZE = 20
MAX_QUERY_CHARS = 200
# Words beyond these are dropped: a pasted paragraph must not become a query of a hundred terms.
MAX_WORDS = 12
MIN_PREFIX_CHARS = 2
SNIPPET_CHARS = 160
SNIPPET_LEAD = 40  # characters shown before the first match when the text is cut
# How many of the newest matches of each index are ranked (see _window).
RANKED = 1000


_PHONE = re.compile(r"\+?[\d\s().-]+")
_MIN_PHONE_DIGITS = 4


# --- What the agent typed -------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """The words to find: every group must appear, its words next to each other in order, and the
    very last word may be the start of a longer one. Words are letters and digits only, so they can
    be quoted into either backend's query syntax and never be read as an operator."""

    groups: tuple[tuple[str, ...], ...]

    def __bool__(self) -> bool:
        return bool(self.groups)

    def fts5(self) -> str:
        """An FTS5 MATCH expression: one quoted phrase per group, the last one a prefix."""
        phrases = ['"' + " ".join(group).replace('"', '""') + '"' for group in self.groups]
        return " ".join(phrases) + (" *" if self.prefix else "")

    def tsquery(self) -> str:
        """The text of a ``to_tsquery('simple', ...)``: groups ANDed, words of a group in a row (<->)."""

        def lexeme(word: str) -> str:
            return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"

        *head, last = self.groups
        groups = [" <-> ".join(map(lexeme, group)) for group in head]
        groups.append(" <-> ".join([*map(lexeme, last[:-1]), lexeme(last[-1]) + (":*" if self.prefix else "")]))
        return " & ".join(groups)

    @property
    def prefix(self) -> bool:
        """Whether the last word may begin a longer one: not a single letter, which begins too many."""
        return len(self.groups[-1][-1]) >= MIN_PREFIX_CHARS

    def finds(self, word: str) -> bool:
        """Whether ``word`` of a result's text is one of the terms (for highlighting only)."""
        folded = _fold(word)
        last = _fold(self.groups[-1][-1])
        if self.prefix and folded.startswith(last):
            return True
        return any(folded == _fold(w) for group in self.groups for w in group)


def parse_terms(q: str, *, phone: bool = False) -> Terms:
    """The words of ``q`` (at most MAX_WORDS). With ``phone``, a query that looks like a phone number
    ("+49 151 234-567") is one word of its digits."""
    q = unicodedata.normalize("NFC", q)
    if phone and _PHONE.fullmatch(q.strip()):
        digits = re.sub(r"\D", "", q)
        # Numbers are stored in E.164 (+49...): "0049 ..." is the same number dialled from abroad.
        digits = digits[2:] if digits.startswith("00") else digits
        if len(digits) >= _MIN_PHONE_DIGITS:
            return Terms(((digits,),))
    groups, budget = [], MAX_WORDS
    for chunk in q.split():
        words = _word().findall(chunk)[:budget]
        if words:
            groups.append(tuple(words))
            budget -= len(words)
        if budget <= 0:
            break
    return Terms(tuple(groups))


@functools.cache
def _word() -> re.Pattern:
    """A word: letters and digits, with the combining marks inside them (Thai or Devanagari vowel
    signs, Hebrew points). Anything else breaks words, as in both indexes. Each backend tokenizes a
    quoted word again its own way, as it did the texts; this split only has to keep query syntax
    out and marks in. Python's ``\\w`` has no marks, so they are listed once, on first use."""
    marks, start = [], None
    for code in range(0x20000):
        is_mark = unicodedata.category(chr(code)).startswith("M")
        if is_mark and start is None:
            start = code
        elif not is_mark and start is not None:
            marks.append(f"{re.escape(chr(start))}-{re.escape(chr(code - 1))}")
            start = None
    return re.compile(r"[^\W_](?:[^\W_]|[" + "".join(marks) + "])*")


def _fold(text: str) -> str:
    """Case and accents away, as SQLite's tokenizer does ("Müller" and "muller" are one word)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --- The request ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    q: str
    kind: str
    after: tuple | None  # the sort key of the last result of the previous page


def check_search_query(q: str | None, kind: str | None, cursor: str | None) -> SearchQuery:
    """The search a request asks for; ValidationError naming what is wrong."""
    q = (q or "").strip()
    if not q:
        raise ValidationError("q is what to search for")
    if len(q) > MAX_QUERY_CHARS:
        raise ValidationError(f"q is at most {MAX_QUERY_CHARS} characters")
    kind = kind or "messages"
    if kind not in KINDS:
        raise ValidationError(f"kind is one of {', '.join(KINDS)}")
    return SearchQuery(q=q, kind=kind, after=_decode_cursor(q, kind, cursor) if cursor else None)


def search(agent: Agent, q: str | None, kind: str | None = "messages", cursor: str | None = None) -> dict[str, Any]:
    """One page of results, ``{"results": [...], "next": cursor or None}``; ValidationError for a bad
    request (an empty or too long ``q``, an unknown kind, a cursor this search did not give out)."""
    query = check_search_query(q, kind, cursor)
    terms = parse_terms(query.q, phone=query.kind == "customers")
    if not terms:
        return {"results": [], "next": None}
    kind_of = _KINDS[query.kind]
    ranked = _fetch(kind_of.ranked_sql(agent, terms, query.after))
    more = len(ranked) > PAGE_SIZE
    ranked = ranked[:PAGE_SIZE]
    rows = kind_of.load(agent, [pk for pk, _ in ranked])
    results, last = [], None
    for pk, score in ranked:
        row = rows.get(pk)
        if row is None:  # deleted, or moved out of sight, since the ranking query
            continue
        results.append(kind_of.result(row, terms))
        last = kind_of.key(row, score)
    # The key of the last result still there: any after it on this page are gone, so none is skipped.
    next_cursor = _encode_cursor(query.q, query.kind, last) if more and last is not None else None
    return {"results": results, "next": next_cursor}


# --- Ranking: one SQL query per page --------------------------------------------------------------


@dataclass(frozen=True)
class _Sql:
    """A piece of SQL and its parameters, in the order of their placeholders."""

    text: str
    params: tuple = ()

    def __add__(self, other: _Sql) -> _Sql:
        return _Sql(self.text + other.text, self.params + other.params)


def _sql(text: str, *params: Any) -> _Sql:
    return _Sql(text, params)


def _join(pieces: list[_Sql], separator: str) -> _Sql:
    return _Sql(separator.join(p.text for p in pieces), tuple(p for piece in pieces for p in piece.params))


def _window(source: search_index.Source, row: str, terms: Terms, *, where: _Sql, extra: str = "") -> _Sql:
    """``SELECT id, score[, extra]``: the newest RANKED rows of ``source`` holding ``terms`` (by id)
    that also meet ``where``, each with its relevance, higher is better.

    Only these are ranked: ranking every match of a word in half the timeline would re-read (on
    PostgreSQL, re-parse) half the timeline on every page. FTS5 hands out its matches in id order,
    so it stops after RANKED; PostgreSQL sorts the ids of the matches its GIN index gives (_fetch).
    """
    condition = where if not source.condition else _sql(f"{source.where(row)} AND ") + where
    columns = f"{row}.id AS id" + (f", {row}.{extra} AS {extra}" if extra else "")
    if connection.vendor == "postgresql":
        query = terms.tsquery()
        document = search_index.pg_document(source, row)
        inner = (
            _sql(
                f"SELECT {columns}, {row}.{source.column} FROM {source.table} {row} "
                f"WHERE {document} @@ to_tsquery('simple', %s) AND ",
                query,
            )
            + condition
            + _sql(f" ORDER BY {row}.id DESC LIMIT {RANKED}")
        )
        outer = "w.id" + (f", w.{extra}" if extra else "")
        return (
            _sql(
                f"SELECT {outer}, ts_rank({search_index.pg_document(source, 'w')}, to_tsquery('simple', %s))::float8"
                " AS score FROM (",
                query,
            )
            + inner
            + _sql(") w")
        )
    # bm25 is lower for better matches, and only known to the query that MATCHes.
    fts = source.name
    return (
        _sql(
            f"SELECT {columns}, -bm25({fts}) AS score FROM {fts} JOIN {source.table} {row} ON {row}.id = {fts}.rowid"
            f" WHERE {fts} MATCH %s AND ",
            terms.fts5(),
        )
        + condition
        + _sql(f" ORDER BY {fts}.rowid DESC LIMIT {RANKED}")
    )


def _fetch(sql: _Sql) -> list[tuple[int, float]]:
    """Run a ranking query: ``[(id, score), ...]``.

    On PostgreSQL the matches are found through the GIN indexes only. The planner cannot tell how
    many rows a prefix ("refu") or a rare word matches, guesses a few percent, and would then walk
    the primary key newest first, re-parsing every text it passes, until it has RANKED matches: ten
    seconds over a million entries for a word that is nowhere. From the index, the worst case is a
    word in every message, and it costs a heap visit per match, not a parse. The settings are local
    to a (sub)transaction that is rolled back, so they end with this query even inside a caller's
    transaction. On SQLite, FTS5 always answers from its index; no transaction is opened there
    (IMMEDIATE ones would take the write lock).
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as db:
            db.execute(sql.text, sql.params)
            return list(db.fetchall())
    with transaction.atomic(), connection.cursor() as db:
        db.execute("SELECT set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)")
        db.execute(sql.text, sql.params)
        rows = list(db.fetchall())
        transaction.set_rollback(True)
    return rows


def _visible_inboxes(agent: Agent) -> _Sql:
    """The ids of the inboxes ``agent`` sees, as a subquery: the rule stays access.py's."""
    sql, params = visible_inboxes(agent).order_by().values("pk").query.sql_with_params()
    return _Sql(sql, tuple(params))


def _in_sight(agent: Agent, conversation: str) -> _Sql:
    """``conversation`` (an alias of cc_conversation) is one the agent sees, and not merged away."""
    return (
        _sql(f"{conversation}.merged_into_id IS NULL AND {conversation}.inbox_id IN (")
        + _visible_inboxes(agent)
        + _sql(")")
    )


def _known(agent: Agent, customer_id: str) -> _Sql:
    """The customer is known to the agent through a conversation they see (access_customer's rule)."""
    return (
        _sql(f"EXISTS (SELECT 1 FROM cc_conversation k WHERE k.customer_id = {customer_id} AND ")
        + _in_sight(agent, "k")
        + _sql(")")
    )


def _best(*parts: _Sql) -> _Sql:
    """One row per id with its best score, from several ``SELECT id, score`` queries."""
    union = _join(
        [_sql("SELECT id, score FROM (") + part + _sql(f") p{n}") for n, part in enumerate(parts)], " UNION ALL "
    )
    return _sql("SELECT id, MAX(score) AS score FROM (") + union + _sql(") u GROUP BY id")


def _page(ranked: _Sql, *, at: str | None, after: tuple | None) -> _Sql:
    """The page of ``ranked`` (``id, score[, at]``) after ``after``: best score first, then the
    latest ``at`` (when given), then the highest id. Ranked once, in a materialized CTE, so the
    keyset and the ORDER BY do not each compute the score again."""
    order = ["score DESC"] + ([f"{at} DESC"] if at else []) + ["id DESC"]
    keyset = _sql("")
    if after is not None and at is None:
        score, pk = after
        keyset = _sql(" WHERE score < %s OR (score = %s AND id < %s)", score, score, pk)
    elif after is not None:
        score, at_value, pk = after
        at_value = connection.ops.adapt_datetimefield_value(at_value)
        keyset = _sql(
            f" WHERE score < %s OR (score = %s AND ({at} < %s OR ({at} = %s AND id < %s)))",
            score,
            score,
            at_value,
            at_value,
            pk,
        )
    return (
        _sql("WITH m AS MATERIALIZED (")
        + ranked
        + _sql(") SELECT id, score FROM m")
        + keyset
        + _sql(f" ORDER BY {', '.join(order)} LIMIT {PAGE_SIZE + 1}")
    )


class _Messages:
    @staticmethod
    def ranked_sql(agent: Agent, terms: Terms, after: tuple | None) -> _Sql:
        # Entries carry their conversation's inbox (a move rewrites it), and a merge moves every entry
        # out of the merged conversation: no join per match. load() checks both again.
        matches = _window(
            search_index.ENTRIES, "e", terms, where=_sql("e.inbox_id IN (") + _visible_inboxes(agent) + _sql(")")
        )
        return _page(matches, at=None, after=after)

    @staticmethod
    def load(agent: Agent, ids: list[int]) -> dict[int, TimelineEntry]:
        entries = (
            TimelineEntry.objects.filter(
                pk__in=ids, conversation__in=visible_conversations(agent), conversation__merged_into__isnull=True
            )
            .select_related("author", "conversation__inbox", "conversation__customer", "conversation__assignee")
            .prefetch_related("conversation__labels")
        )
        return {entry.pk: entry for entry in entries}

    @staticmethod
    def result(entry: TimelineEntry, terms: Terms) -> dict[str, Any]:
        author = entry.author
        return {
            "type": "message",
            "entry": {
                "id": entry.pk,
                "seq": entry.seq,
                "kind": entry.kind,
                "direction": entry.direction,
                "author": {"id": author.pk, "name": author.public_name} if author else None,
                "created_at": entry.created_at.isoformat(),
            },
            "conversation": payloads.conversation_summary(entry.conversation),
            "snippet": snippet(entry.body, terms),
        }

    @staticmethod
    def key(entry: TimelineEntry, score: float) -> list:
        return [score, entry.pk]


class _Conversations:
    @staticmethod
    def ranked_sql(agent: Agent, terms: Terms, after: tuple | None) -> _Sql:
        by_subject = _window(search_index.CONVERSATIONS, "c", terms, where=_in_sight(agent, "c"))
        names = _window(search_index.CUSTOMERS, "cu", terms, where=_known(agent, "cu.id"))
        by_name = (
            _sql("SELECT c.id AS id, n.score AS score FROM (")
            + names
            + _sql(") n JOIN cc_conversation c ON c.customer_id = n.id WHERE ")
            + _in_sight(agent, "c")
        )
        ranked = (
            _sql("SELECT b.id AS id, b.score AS score, c.last_activity_at AS at FROM (")
            + _best(by_subject, by_name)
            + _sql(") b JOIN cc_conversation c ON c.id = b.id")
        )
        return _page(ranked, at="at", after=after)

    @staticmethod
    def load(agent: Agent, ids: list[int]) -> dict[int, Conversation]:
        rows = (
            visible_conversations(agent)
            .filter(pk__in=ids)
            .select_related("inbox", "customer", "assignee")
            .prefetch_related("labels")
        )
        return {c.pk: c for c in rows}

    @staticmethod
    def result(conversation: Conversation, terms: Terms) -> dict[str, Any]:
        # Say what matched: the subject when it holds the words, else the customer's name.
        subject = snippet(conversation.subject, terms)
        matched = "subject" if _marked(subject) or not conversation.customer.name else "customer"
        return {
            "type": "conversation",
            "conversation": payloads.conversation_summary(conversation),
            "matched": matched,
            "snippet": subject if matched == "subject" else snippet(conversation.customer.name, terms),
        }

    @staticmethod
    def key(conversation: Conversation, score: float) -> list:
        return [score, conversation.last_activity_at.isoformat(), conversation.pk]


class _Customers:
    @staticmethod
    def ranked_sql(agent: Agent, terms: Terms, after: tuple | None) -> _Sql:
        by_name = _window(search_index.CUSTOMERS, "cu", terms, where=_known(agent, "cu.id"))
        handles = _window(
            search_index.IDENTITIES, "i", terms, where=_known(agent, "i.customer_id"), extra="customer_id"
        )
        by_handle = _sql("SELECT customer_id AS id, score FROM (") + handles + _sql(") h")
        return _page(_best(by_name, by_handle), at=None, after=after)

    @staticmethod
    def load(agent: Agent, ids: list[int]) -> dict[int, Customer]:
        latest = (
            visible_conversations(agent)
            .filter(customer=OuterRef("pk"), merged_into__isnull=True)
            .order_by("-last_activity_at", "-pk")
            .values("pk")[:1]
        )
        customers = list(
            Customer.objects.filter(pk__in=ids).annotate(latest_id=Subquery(latest)).prefetch_related("identities")
        )
        conversations = (
            Conversation.objects.filter(pk__in=[c.latest_id for c in customers if c.latest_id is not None])
            .select_related("inbox", "customer", "assignee")
            .prefetch_related("labels")
        )
        by_id = {c.pk: c for c in conversations}
        for customer in customers:
            customer.latest = by_id.get(customer.latest_id)
        return {c.pk: c for c in customers if c.latest is not None}

    @staticmethod
    def result(customer: Customer, terms: Terms) -> dict[str, Any]:
        # As the customer panel lists them (payloads.customer_for_agent): no widget visitor ids.
        identities = sorted(
            (i for i in customer.identities.all() if i.kind != "visitor"), key=lambda i: (i.kind, i.value)
        )
        name = snippet(str(customer), terms)
        matched, text = "name", name
        if not _marked(name):
            for identity in identities:
                found = snippet(identity.value, terms)
                if _marked(found):
                    matched, text = identity.kind, found
                    break
        return {
            "type": "customer",
            "customer": {
                "id": customer.pk,
                "display_name": str(customer),
                "identities": [{"kind": i.kind, "value": i.value, "verified": i.verified} for i in identities],
            },
            # Their most recent conversation the agent sees: what the console opens.
            "conversation": payloads.conversation_summary(customer.latest),
            "matched": matched,
            "snippet": text,
        }

    @staticmethod
    def key(customer: Customer, score: float) -> list:
        return [score, customer.pk]


_KINDS = {"messages": _Messages, "conversations": _Conversations, "customers": _Customers}


# --- Cursors --------------------------------------------------------------------------------------


def _fingerprint(q: str, kind: str) -> str:
    """Ties a cursor to its search: another q's cursor is refused instead of paging something else."""
    return hashlib.sha256(f"{kind}\n{q}".encode()).hexdigest()[:12]


def _encode_cursor(q: str, kind: str, key: list) -> str:
    return cursors.encode([_fingerprint(q, kind), *key])


def _decode_cursor(q: str, kind: str, cursor: str) -> tuple:
    raw = cursors.decode(cursor)
    try:
        fingerprint, score, *key = raw
        if fingerprint != _fingerprint(q, kind):
            raise ValueError("a cursor of another search")
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise ValueError("score")
        *head, pk = key
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise ValueError("pk")
        if kind != "conversations":
            if head:
                raise ValueError("only conversations have a time in their key")
            return float(score), pk
        (at,) = head
        at = datetime.fromisoformat(at)
        if at.tzinfo is None:
            raise ValueError("naive time")
        return float(score), at, pk
    except (ValueError, TypeError):
        raise cursors.invalid() from None


# --- Snippets -------------------------------------------------------------------------------------


def snippet(text: str, terms: Terms) -> list[list]:
    """About SNIPPET_CHARS of ``text`` on one line around its first match, as ``[[text, matched], ...]``.

    Plain text in pieces, the matched words marked: the console renders each piece as a text node
    (a ``<mark>`` for matches), so nothing a customer wrote is ever read as HTML.
    """
    flat = " ".join(text.split())
    marks = _merge([(m.start(), m.end()) for m in _word().finditer(flat) if terms.finds(m.group())], flat)
    start, end = 0, len(flat)
    if len(flat) > SNIPPET_CHARS:
        first = marks[0][0] if marks else 0
        if first > SNIPPET_LEAD:
            space = flat.find(" ", first - SNIPPET_LEAD, first)
            start = space + 1 if space >= 0 else first - SNIPPET_LEAD
        end = start + SNIPPET_CHARS
        if end < len(flat):
            space = flat.rfind(" ", start + SNIPPET_CHARS // 2, end)
            end = space if space > 0 else end
    pieces: list[list] = [["…", False]] if start > 0 else []
    at = start
    for mark_start, mark_end in marks:
        if mark_end <= start or mark_start >= end:
            continue
        mark_start, mark_end = max(mark_start, start), min(mark_end, end)
        if mark_start > at:
            pieces.append([flat[at:mark_start], False])
        pieces.append([flat[mark_start:mark_end], True])
        at = mark_end
    if at < end:
        pieces.append([flat[at:end], False])
    if end < len(flat):
        pieces.append(["…", False])
    return pieces


def _merge(marks: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Matches with only punctuation between them become one ("vera@example.com" is one mark)."""
    merged: list[tuple[int, int]] = []
    for start, end in marks:
        if merged and not any(ch.isspace() for ch in text[merged[-1][1] : start]):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _marked(pieces: list[list]) -> bool:
    return any(matched for _, matched in pieces)
