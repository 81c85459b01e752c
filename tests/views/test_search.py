"""Console search: /console/api/search/?q=&kind=messages|conversations|customers&cursor=.

Alice sees the website inbox, Bob only the partner site, Charlie (an admin) every inbox. Vera writes
to the website; what she wrote, her conversation's subject, her name and her addresses are searched.
Every test runs on the backend the suite runs on: SQLite's FTS5 by default, PostgreSQL's full-text
indexes with DATABASE_URL.
"""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.utils import timezone

from contact_center import search, search_index
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.merging import do_merge, do_move_to_inbox
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.lib import cursors
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Conversation, Customer, Identity, Inbox, TimelineEntry
from tests.conftest import visitor_envelope
from tests.support.queries import Counted, assert_each_costs, get_counted

pytestmark = pytest.mark.django_db

URL = "/console/api/search/"
_ids = itertools.count(1)


def write(inbox, body: str, visitor: str = "vera") -> TimelineEntry:
    """A visitor's message in ``inbox`` (their one conversation there, continued)."""
    return do_receive_inbound(visitor_envelope(inbox, visitor=visitor, body=body, external_id=f"m{next(_ids)}")).entry


def found(client, q: str, kind: str = "messages", **params) -> dict:
    response = client.get(URL, {"q": q, "kind": kind, **params})
    assert response.status_code == 200, response.content
    return response.json()


def found_ids(client, q: str, kind: str = "messages") -> list[int]:
    """The ids a search finds: entry ids for messages, conversation ids for conversations, customer ids."""
    results = found(client, q, kind)["results"]
    if kind == "messages":
        return [r["entry"]["id"] for r in results]
    if kind == "conversations":
        return [r["conversation"]["id"] for r in results]
    return [r["customer"]["id"] for r in results]


def marked(result: dict) -> list[str]:
    return [text for text, match in result["snippet"] if match]


@pytest.fixture
def vera(website):
    """Vera asked the website about a refund; her conversation has a subject and she gave her email."""
    entry = write(website, "Hello, I would like a refund for my hiking boots please")
    Conversation.objects.filter(pk=entry.conversation_id).update(subject="Refund request for order 1077")
    Customer.objects.filter(pk=entry.customer_id).update(name="Vera Lynn")
    Identity.objects.create(customer=entry.customer, kind="email", value="vera.lynn@home.example")
    Identity.objects.create(customer=entry.customer, kind="phone", value="+4915112345678")
    return entry


# --- What is found --------------------------------------------------------------------------------


def test_it_finds_a_message_by_a_word_of_its_text_with_what_the_console_shows(client, alice, vera):
    client.force_login(alice)

    page = found(client, "boots")

    assert page["next"] is None
    [result] = page["results"]
    assert result["type"] == "message"
    assert result["entry"] == {
        "id": vera.pk,
        "seq": vera.seq,
        "kind": "message",
        "direction": "in",
        "author": None,
        "created_at": vera.created_at.isoformat(),
    }
    # The conversation as a list row shows it: the console opens it from here.
    assert result["conversation"]["id"] == vera.conversation_id
    assert result["conversation"]["customer"] == {"id": vera.customer_id, "name": "Vera Lynn"}
    assert "".join(text for text, _ in result["snippet"]) == vera.body
    assert marked(result) == ["boots"]


def test_it_finds_internal_notes_and_agents_replies(client, alice, vera):
    note = do_add_note(alice, vera.conversation_id, "Customer is a VIP, approve the refund quickly")
    reply = do_send_reply(alice, vera.conversation_id, "Your refund is on its way")
    client.force_login(alice)

    assert set(found_ids(client, "refund")) == {vera.pk, note.pk, reply.pk}
    [result] = found(client, "vip")["results"]
    assert result["entry"]["kind"] == "note"
    assert result["entry"]["author"] == {"id": alice.pk, "name": "Alice"}


def test_it_leaves_out_activity_lines(client, alice, vera):
    TimelineEntry.objects.create(
        conversation=vera.conversation,
        customer=vera.customer,
        inbox=vera.inbox,
        seq=vera.conversation.last_seq + 1,
        kind="activity",
        direction="internal",
        body="Boots label added",
    )
    client.force_login(alice)

    assert found_ids(client, "boots") == [vera.pk]


def test_it_finds_a_conversation_by_its_subject_or_its_customers_name(client, alice, vera):
    client.force_login(alice)

    [by_subject] = found(client, "1077", "conversations")["results"]
    [by_name] = found(client, "lynn", "conversations")["results"]

    assert by_subject["conversation"]["id"] == by_name["conversation"]["id"] == vera.conversation_id
    assert (by_subject["matched"], marked(by_subject)) == ("subject", ["1077"])
    assert (by_name["matched"], marked(by_name)) == ("customer", ["Lynn"])


def test_it_finds_a_customer_by_name_with_their_latest_conversation_to_open(client, alice, website, vera):
    later = Conversation.objects.create(customer=vera.customer, inbox=website, last_activity_at=timezone.now())
    client.force_login(alice)

    [result] = found(client, "vera", "customers")["results"]

    assert result["type"] == "customer"
    assert result["customer"]["id"] == vera.customer_id
    assert result["customer"]["display_name"] == "Vera Lynn"
    assert result["conversation"]["id"] == later.pk != vera.conversation_id
    assert (result["matched"], marked(result)) == ("name", ["Vera"])


@pytest.mark.parametrize("q", ["vera.lynn@home.example", "home.example", "lynn@home", "VERA.LYNN", "home.exa"])
def test_it_finds_a_customer_by_their_email_address_whole_or_by_its_words(client, alice, vera, q):
    Customer.objects.filter(pk=vera.customer_id).update(name="")
    client.force_login(alice)

    [result] = found(client, q, "customers")["results"]

    assert result["customer"]["id"] == vera.customer_id
    assert result["matched"] == "email"


@pytest.mark.parametrize("q", ["+49 151 12345678", "4915112345678", "+49 (151) 123-45", "491511", "0049 151 123"])
def test_it_finds_a_customer_by_the_digits_of_their_phone_number(client, alice, vera, q):
    client.force_login(alice)

    [result] = found(client, q, "customers")["results"]

    assert (result["customer"]["id"], result["matched"]) == (vera.customer_id, "phone")


def test_widget_visitor_ids_are_not_searchable(client, alice, vera):
    client.force_login(alice)

    assert found_ids(client, "vera", "customers") == [vera.customer_id]  # by her name, not her visitor id
    Customer.objects.filter(pk=vera.customer_id).update(name="")
    assert found_ids(client, "vera", "customers") == [vera.customer_id]  # her email starts with vera
    Identity.objects.filter(customer=vera.customer, kind="email").delete()
    assert found_ids(client, "vera", "customers") == []


def test_every_word_must_be_there_and_only_the_last_may_be_the_start_of_one(client, alice, vera):
    client.force_login(alice)

    assert found_ids(client, "refund boots") == [vera.pk]
    assert found_ids(client, "boots refund") == [vera.pk]  # in any order
    assert found_ids(client, "refund sandals") == []
    assert found_ids(client, "hik") == [vera.pk]  # as the agent types "hiking"
    assert found_ids(client, "hik boots") == []  # a finished word is a whole word
    assert found_ids(client, "refunds") == []
    assert found_ids(client, "h") == []  # one letter begins too many words: it is a word itself
    assert found_ids(client, "boots i") == [vera.pk]


def test_it_finds_words_whatever_their_case_and_accents_are_the_same(client, alice, website):
    entry = write(website, "Grüße aus München, my ORDER is late")
    client.force_login(alice)

    assert found_ids(client, "order") == [entry.pk]
    assert found_ids(client, "münchen") == [entry.pk]
    assert found_ids(client, "MÜNCHEN") == [entry.pk]
    assert found_ids(client, "grüße") == [entry.pk]


@pytest.mark.parametrize(
    "text,q", [("मुझे हिन्दी में मदद चाहिए", "हिन्दी"), ("ขอบคุณ ดีมาก ครับ", "ดีมาก"), ("שָׁלוֹם עֲלֵיכֶם", "שָׁלוֹם")]
)
def test_it_finds_words_of_scripts_that_write_vowels_as_marks(client, alice, website, text, q):
    entry = write(website, text)
    client.force_login(alice)

    [result] = found(client, q)["results"]

    assert result["entry"]["id"] == entry.pk
    assert marked(result) == [q]


def test_it_ranks_better_matches_first_then_the_most_recent(client, alice, website):
    once = write(website, "the tent pole broke and the rain came in", visitor="v1")
    newer_once = write(website, "my tent has a hole, rain everywhere", visitor="v2")
    twice = write(website, "tent tent: which tent fits two?", visitor="v3")
    client.force_login(alice)

    ranked = found_ids(client, "tent")

    assert ranked[0] == twice.pk
    assert set(ranked[1:]) == {once.pk, newer_once.pk}
    # One "rain" each: the shorter (SQLite's bm25) and the newer (PostgreSQL's ts_rank) is this one.
    assert found_ids(client, "rain") == [newer_once.pk, once.pk]


# --- Who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,q", [("messages", "boots"), ("conversations", "lynn"), ("customers", "vera")])
def test_an_agent_outside_the_inbox_finds_nothing_not_even_the_customer(client, bob, vera, kind, q):
    client.force_login(bob)

    assert found(client, q, kind) == {"results": [], "next": None}


@pytest.mark.parametrize("kind,q", [("messages", "boots"), ("conversations", "lynn"), ("customers", "vera")])
def test_admins_find_what_is_in_every_inbox(client, charlie, vera, kind, q):
    client.force_login(charlie)

    assert len(found(client, q, kind)["results"]) == 1


def test_a_customer_is_found_only_with_the_conversations_the_agent_sees(client, alice, bob, other_inbox, vera):
    elsewhere = write(other_inbox, "Boots again, from the partner site")
    assert elsewhere.customer_id == vera.customer_id
    client.force_login(bob)

    [customer] = found(client, "vera", "customers")["results"]
    assert customer["conversation"]["id"] == elsewhere.conversation_id  # not the website one
    assert found_ids(client, "boots") == [elsewhere.pk]
    client.force_login(alice)
    assert found_ids(client, "boots") == [vera.pk]


def test_merged_conversations_are_left_out_and_their_messages_found_in_the_merged_one(client, alice, website, vera):
    source = Conversation.objects.create(
        customer=vera.customer, inbox=website, subject="Refund for order 1077, again", last_activity_at=vera.created_at
    )
    do_receive_inbound(
        InboundEnvelope(
            inbox_id=website.pk,
            external_id="second",
            sender=Sender(kind="visitor", value="vera"),
            body="Second try: the boots are too small",
            thread_hint=source.pk,
        )
    )
    moved = TimelineEntry.objects.get(body__startswith="Second try")
    assert moved.conversation_id == source.pk
    client.force_login(alice)
    assert set(found_ids(client, "1077", "conversations")) == {vera.conversation_id, source.pk}

    do_merge(alice, source.pk, vera.conversation_id)

    assert found_ids(client, "1077", "conversations") == [vera.conversation_id]
    [result] = found(client, "small")["results"]
    assert (result["entry"]["id"], result["conversation"]["id"]) == (moved.pk, vera.conversation_id)
    assert result["conversation"]["merged_into"] is None
    assert found(client, "vera", "customers")["results"][0]["conversation"]["id"] == vera.conversation_id


def test_a_conversation_moved_to_another_inbox_is_found_by_that_inbox_only(client, alice, bob):
    sales = Inbox.objects.create(name="Sales", kind=Inbox.Kind.EMAIL, address="sales@shop.example")
    support = Inbox.objects.create(name="Support", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    sales.members.add(alice, bob)
    support.members.add(alice)
    entry = do_receive_inbound(
        InboundEnvelope(
            inbox_id=sales.pk,
            external_id="<a@home.example>",
            sender=Sender(kind="email", value="wes@home.example"),
            body="My invoice shows the wrong address",
            subject="Invoice",
        )
    ).entry
    client.force_login(bob)
    assert found_ids(client, "invoice") == [entry.pk]

    do_move_to_inbox(alice, entry.conversation_id, support.pk)

    for kind, q in [("messages", "invoice"), ("conversations", "invoice"), ("customers", "wes")]:
        assert found_ids(client, q, kind) == [], kind
    client.force_login(alice)
    assert found_ids(client, "invoice") == [entry.pk]
    assert found_ids(client, "invoice", "conversations") == [entry.conversation_id]


# --- The index follows every change ---------------------------------------------------------------


def test_renamed_customers_and_new_subjects_are_found_by_their_new_words(client, alice, vera):
    client.force_login(alice)
    customer = Customer.objects.get(pk=vera.customer_id)
    customer.name = "Vera Smith"
    customer.save()
    conversation = Conversation.objects.get(pk=vera.conversation_id)
    conversation.subject = "Exchange for a bigger size"
    conversation.save()

    assert found_ids(client, "smith", "customers") == [vera.customer_id]
    assert found_ids(client, "smith", "conversations") == [vera.conversation_id]
    assert found_ids(client, "lynn", "conversations") == []  # her email still says lynn: not her name
    assert found_ids(client, "exchange", "conversations") == [vera.conversation_id]
    assert found_ids(client, "1077", "conversations") == []


def test_deleted_rows_are_no_longer_found(client, alice, vera, website):
    other = write(website, "Boots for my son too", visitor="walt")
    client.force_login(alice)
    Identity.objects.filter(kind="email").delete()
    TimelineEntry.objects.filter(pk=vera.pk).delete()

    assert found_ids(client, "boots") == [other.pk]
    assert found_ids(client, "home", "customers") == []
    Customer.objects.filter(pk=vera.customer_id).delete()
    assert found_ids(client, "vera", "customers") == []
    assert found_ids(client, "refund", "conversations") == []


def test_only_the_start_of_a_huge_text_is_indexed_and_it_is_stored_whole(client, alice, website):
    body = "needle " + "lorem ipsum " * 10_000 + "haystack"
    entry = write(website, body)
    client.force_login(alice)

    assert TimelineEntry.objects.get(pk=entry.pk).body == body
    [result] = found(client, "needle")["results"]
    assert len("".join(text for text, _ in result["snippet"])) <= search.SNIPPET_CHARS + 2
    assert found_ids(client, "haystack") == []


# --- Paging ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", search.KINDS)
def test_it_pages_through_every_result_with_the_cursor_and_never_repeats_one(client, charlie, website, kind):
    # Equal scores, so the recency and id tie-breaks carry the order across pages.
    entries = [write(website, "Parcel never arrived", visitor=f"parcel-{n}") for n in range(45)]
    Customer.objects.filter(pk__in=[e.customer_id for e in entries]).update(name="Parcel Person")
    Conversation.objects.filter(pk__in=[e.conversation_id for e in entries]).update(subject="Parcel")
    client.force_login(charlie)

    seen, pages, cursor = [], 0, None
    while True:
        page = found(client, "parcel", kind, **({"cursor": cursor} if cursor else {}))
        assert len(page["results"]) <= search.PAGE_SIZE
        seen += [(r.get("entry") or r.get("customer") or r["conversation"])["id"] for r in page["results"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break

    assert pages == 3
    assert len(seen) == len(set(seen)) == 45


def test_a_cursor_belongs_to_its_search(client, alice, website):
    for n in range(25):
        write(website, "Parcel never arrived", visitor=f"parcel-{n}")
    client.force_login(alice)
    cursor = found(client, "parcel")["next"]

    assert client.get(URL, {"q": "parcel", "cursor": cursor}).status_code == 200
    assert client.get(URL, {"q": "arrived", "cursor": cursor}).status_code == 400
    assert client.get(URL, {"q": "parcel", "kind": "customers", "cursor": cursor}).status_code == 400


# --- What agents type -----------------------------------------------------------------------------

HOSTILE = [
    '"',
    '"boots',
    'boots"',
    '""boots""',
    "*",
    "boots*",
    "*boots",
    "NEAR(boots refund)",
    "boots NEAR refund",
    "boots OR refund",
    "boots AND NOT refund",
    "NOT",
    "(boots",
    "boots)",
    "-boots",
    "^boots",
    "body:boots",
    "{body}: boots",
    "boots:*",
    "boots & refund | !hiking",
    "boots <-> refund",
    "'",
    "o'brien",
    "\\",
    "\\'boots",
    "%_%",
    "; DROP TABLE cc_timeline_entry; --",
    "\x00boots",
    "😀",
    "boots 😀",
    "日本語",
    "ßoots",
    "x²",
    "e\u0301te\u0301",
    "ⅷ",
    "a" * 200,
    " ".join(["boots"] * 30),
]


@pytest.mark.parametrize("q", HOSTILE)
@pytest.mark.parametrize("kind", search.KINDS)
def test_what_agents_type_is_never_query_syntax_and_never_an_error(client, alice, vera, kind, q):
    client.force_login(alice)

    page = found(client, q, kind)

    assert isinstance(page["results"], list)


@pytest.mark.parametrize(
    "q,finds",
    [
        ("boots OR refund", {"note"}),  # three words, "or" among them: only the note has it
        ("NOT boots", set()),
        ("NEAR(boots refund)", set()),  # "near boots" in a row, and "refund"
        ("-boots", {"message", "note"}),
        ('"boots', {"message", "note"}),
        ("(boots", {"message", "note"}),
        ("boots*", {"message", "note"}),
        ("boots:*", {"message", "note"}),
    ],
)
def test_operators_are_plain_words(client, alice, vera, q, finds):
    note = do_add_note(alice, vera.conversation_id, "Boots or refund? Near enough")
    client.force_login(alice)

    ids = set(found_ids(client, q))

    assert ids == {{"message": vera.pk, "note": note.pk}[name] for name in finds}


@pytest.mark.parametrize("q", ["!!!", "...", "*", "—", "😀", '"'])
def test_a_query_of_punctuation_alone_finds_nothing(client, alice, vera, q):
    client.force_login(alice)

    assert found(client, q) == {"results": [], "next": None}


@pytest.mark.parametrize(
    "params,error",
    [
        ({}, "q is what to search for"),
        ({"q": "   "}, "q is what to search for"),
        ({"q": "a" * 201}, "q is at most 200 characters"),
        ({"q": "boots", "kind": "tickets"}, "kind is one of messages, conversations, customers"),
        ({"q": "boots", "cursor": "garbage!"}, "cursor is not one this list gave out"),
        ({"q": "boots", "cursor": cursors.encode(["x", 1.0, "2024-01-01T00:00:00+00:00", 1])}, None),
        ({"q": "boots", "cursor": cursors.encode({"a": 1})}, None),
    ],
)
def test_it_answers_400_naming_a_bad_parameter(client, alice, params, error):
    client.force_login(alice)

    response = client.get(URL, params)

    assert response.status_code == 400
    if error:
        assert response.json() == {"error": error}


def test_it_asks_for_a_login(client):
    assert client.get(URL, {"q": "boots"}).status_code == 302


def test_snippets_are_plain_text_around_the_first_match(website):
    terms = search.parse_terms("refund")
    text = "<b>Hi</b> " + "word " * 60 + "I want a <script>refund</script> now " + "tail " * 60

    pieces = search.snippet(text, terms)

    joined = "".join(piece for piece, _ in pieces)
    assert joined.startswith("…") and joined.endswith("…")
    assert "<script>" in joined  # as text, for the console to show as text
    assert [piece for piece, match in pieces if match] == ["refund"]
    assert len(joined) <= search.SNIPPET_CHARS + 2


# --- What a page costs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,queries",
    [
        # user (the session comes from the cache); the ranked ids; the entries with their
        # conversations; the conversations' labels
        ("messages", 4),
        # user; the ranked ids; the conversations; their labels
        ("conversations", 4),
        # user; the ranked ids; the customers (latest conversation id in a subquery); their
        # identities; their latest conversations; those conversations' labels
        ("customers", 6),
    ],
)
def test_a_page_costs_the_same_number_of_queries_whatever_it_holds(client, alice, website, kind, queries):
    def grow(to: int, word: str) -> None:
        for n in range(to):
            entry = write(website, f"{word} question", visitor=f"{word}-{n}")
            Customer.objects.filter(pk=entry.customer_id).update(name=f"{word} Person")
            Conversation.objects.filter(pk=entry.conversation_id).update(subject=word)

    grow(2, "small")
    grow(30, "large")
    client.force_login(alice)
    first = get_counted(client, URL, {"q": "large", "kind": kind})

    # On PostgreSQL the ranking query comes with the planner settings that keep it on the indexes.
    assert_each_costs(
        queries + (connection.vendor == "postgresql"),
        {
            "page of 2": statements(get_counted(client, URL, {"q": "small", "kind": kind})),
            "page of 20": statements(first),
            "page after": statements(
                get_counted(client, URL, {"q": "large", "kind": kind, "cursor": first.json()["next"]})
            ),
        },
    )


def statements(read: Counted) -> Counted:
    """Without savepoints: the ranking query's transaction is one inside a test's own transaction."""
    return Counted(read.response, [q for q in read.queries if not q.startswith(_SAVEPOINTS)])


_SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


# --- The indexes ----------------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's GIN indexes")
@pytest.mark.parametrize("source", search_index.SOURCES, ids=lambda source: source.name)
def test_postgresql_matches_through_the_gin_index_of_each_source(source):
    """Searches repeat each indexed expression (``pg_document``) exactly; any difference, and the
    index cannot be used. (On a test's few rows PostgreSQL would rather read them all: not allowed.)"""
    where = f" AND {source.where('t')}" if source.condition else ""
    sql = (
        f"SELECT t.id FROM {source.table} t "  # noqa: S608  (names from search_index)
        f"WHERE {search_index.pg_document(source, 't')} @@ to_tsquery('simple', %s){where}"
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, [search.parse_terms("boots").tsquery()])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert f"Bitmap Index Scan on {source.name}" in plan, plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 triggers")
@pytest.mark.django_db(transaction=True)
def test_sqlite_puts_back_the_triggers_a_table_rebuild_drops(client, alice, website):
    """Django's SQLite schema editor rebuilds a table for many field changes, dropping its triggers;
    after ``migrate``, ``search_index.repair`` puts them back and reindexes what they serve."""
    write(website, "Before the rebuild", visitor="before")
    old = Customer._meta.get_field("name")
    new = Customer._meta.get_field("name").clone()
    new.set_attributes_from_name("name")
    new.max_length = 201

    def triggers() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cc_customer'")
            return {name for (name,) in cursor.fetchall()}

    assert triggers() == {"cc_search_customer_insert", "cc_search_customer_delete", "cc_search_customer_update"}
    try:
        with connection.schema_editor() as editor:
            editor.alter_field(Customer, old, new)
        assert triggers() == set()

        assert search_index.repair(connection) == ["cc_search_customer"]

        assert len(triggers()) == 3
        assert search_index.repair(connection) == []
        Customer.objects.filter(timeline__body="Before the rebuild").update(name="Rebuilt Rita")
        client.force_login(alice)
        assert len(found(client, "rita", "customers")["results"]) == 1
    finally:
        with connection.schema_editor() as editor:
            editor.alter_field(Customer, new, old)
        search_index.repair(connection)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 tables")
def test_sqlite_builds_the_index_of_a_database_that_applied_0011_while_it_was_empty(client, alice, vera):
    with connection.cursor() as cursor:
        for source in search_index.SOURCES:
            cursor.execute(f"DROP TABLE {source.name}")
            for trigger in search_index._trigger_names(source):
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")

    assert search_index.repair(connection) == [source.name for source in search_index.SOURCES]

    client.force_login(alice)
    assert found_ids(client, "boots") == [vera.pk]
    assert found_ids(client, "lynn@home", "customers") == [vera.customer_id]
