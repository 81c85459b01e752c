"""The one message path stays a few statements (issue 11), and its hand-written SQL builds what the ORM reads.

Counted: the statements that read or write rows. Transaction control (BEGIN, COMMIT, savepoints) is
left out: it differs between the backends (SQLite's BEGIN IMMEDIATE is a statement Django issues,
PostgreSQL's is implicit) and is the same one transaction on both.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contact_center.actions import hot_path
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_send_reply
from contact_center.lib import payloads
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Conversation, Customer, Identity, Label, Team, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db(transaction=True)

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def statements_of(receive) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        receive()
    sql = (query["sql"].strip() for query in captured.captured_queries)
    return [statement for statement in sql if not statement.upper().startswith(_TRANSACTION_CONTROL)]


def first_words(statements: list[str]) -> list[str]:
    """``UPDATE cc_conversation``, ``INSERT INTO cc_timeline_entry``...: what each statement does, to what."""
    words = []
    for statement in statements:
        parts = statement.replace('"', "").split()
        words.append(" ".join(parts[:3] if parts[0] == "INSERT" else parts[:2]))
    return words


def test_a_message_into_an_open_conversation_is_three_statements(website):
    do_receive_inbound(visitor_envelope(website, external_id="m1"))

    statements = statements_of(lambda: do_receive_inbound(visitor_envelope(website, external_id="m2")))

    assert first_words(statements) == [
        "UPDATE cc_customer",
        "UPDATE cc_conversation",
        "INSERT INTO cc_timeline_entry",
    ], statements


def test_a_message_that_starts_a_wait_for_a_response_target_is_four(website, alice):
    website.config = {"sla": {"first_response_minutes": 5, "next_response_minutes": 30}}
    website.save()
    first = do_receive_inbound(visitor_envelope(website, external_id="m1")).entry
    do_send_reply(alice, first.conversation_id, "Hi, how can I help?")

    statements = statements_of(lambda: do_receive_inbound(visitor_envelope(website, external_id="m2")))

    assert first_words(statements) == [
        "UPDATE cc_customer",
        "UPDATE cc_conversation",
        "INSERT INTO cc_timeline_entry",
        "UPDATE cc_conversation",
    ], statements
    conversation = Conversation.objects.get()
    # Answered once already: the next-response target applies, from this message on.
    assert conversation.waiting_since == TimelineEntry.objects.get(external_id="m2").created_at
    assert conversation.sla_due_at == conversation.waiting_since + timedelta(minutes=30)


def test_a_wait_that_goes_on_keeps_its_clock(website):
    website.config = {"sla": {"first_response_minutes": 5}}
    website.save()
    first = do_receive_inbound(visitor_envelope(website, external_id="m1")).entry
    due = Conversation.objects.get().sla_due_at

    do_receive_inbound(visitor_envelope(website, external_id="m2"))

    conversation = Conversation.objects.get()
    assert conversation.waiting_since == first.created_at
    assert conversation.sla_due_at == due == first.created_at + timedelta(minutes=5)
    assert conversation.last_customer_seq == 2


def test_the_first_message_of_a_new_customer_is_at_most_eight_statements(website):
    statements = statements_of(lambda: do_receive_inbound(visitor_envelope(website, external_id="m1")))

    assert len(statements) <= 8, "\n".join(statements)
    assert not any(statement.startswith('SELECT "cc_identity"') for statement in statements), (
        "the hot path's first statement found no one with this identity already"
    )
    customer = Customer.objects.get()
    assert customer.last_seen_at == TimelineEntry.objects.get().created_at


def test_a_known_customer_opening_a_conversation_is_at_most_eight_statements(website):
    customer = Customer.objects.create(name="Dana")
    Identity.objects.create(customer=customer, kind="email", value="dana@example.com")
    envelope = InboundEnvelope(
        inbox_id=website.pk,
        external_id="mail-1",
        sender=Sender(kind="email", value="dana@example.com"),
        body="A question",
        subject="Order 17",
        continue_latest=False,  # an email without reply headers starts a conversation
    )

    statements = statements_of(lambda: do_receive_inbound(envelope))

    assert len(statements) <= 8, "\n".join(statements)
    assert Conversation.objects.get().subject == "Order 17"


def test_the_hot_path_publishes_what_the_orm_reads_back(website, alice, published):
    team = Team.objects.create(name="Billing")
    first = do_receive_inbound(visitor_envelope(website, external_id="m1")).entry
    conversation = Conversation.objects.get(pk=first.conversation_id)
    conversation.assignee, conversation.team, conversation.subject = alice, team, "Refund"
    conversation.priority = Conversation.Priority.HIGH
    conversation.save()
    conversation.labels.set(
        [Label.objects.create(name="vip", color="red"), Label.objects.create(name="Billing", color="#123456")]
    )
    Customer.objects.filter(pk=first.customer_id).update(name="Vera Visitor")
    published.clear()

    entry = do_receive_inbound(visitor_envelope(website, body="Where is it?", external_id="m2")).entry

    stored = TimelineEntry.objects.get(pk=entry.pk)
    reread = (
        Conversation.objects.select_related(*payloads.SUMMARY_RELATED)
        .prefetch_related("labels")
        .get(pk=conversation.pk)
    )
    to_agents, to_visitor = published
    assert to_agents[0] == {
        "type": "entry.created",
        "conversation": payloads.conversation_summary(reread),
        "entry": payloads.entry_for_agent(stored),
    }
    assert to_visitor[0] == {"type": "message", "message": payloads.entry_for_visitor(stored)}
    assert to_agents[0]["conversation"]["labels"][0]["name"] == "Billing"  # sorted as the ORM path sorts
    assert (stored.seq, stored.public_seq, reread.last_seq) == (2, 2, 2)


def test_a_copy_is_stored_once_and_takes_no_seq(website, published):
    do_receive_inbound(visitor_envelope(website, external_id="m1"))
    second = do_receive_inbound(visitor_envelope(website, external_id="m2"))
    published.clear()

    again = do_receive_inbound(visitor_envelope(website, external_id="m2"))
    third = do_receive_inbound(visitor_envelope(website, external_id="m3"))

    assert (again.created, again.entry.pk) == (False, second.entry.pk)
    assert third.entry.seq == 3
    assert Conversation.objects.get().last_seq == 3
    assert [event["entry"]["seq"] for event, _ in published if event["type"] == "entry.created"] == [3]


@pytest.mark.parametrize(
    "envelope_changes",
    [{"thread_hint": 1}, {"continue_latest": False}, {"attachment_ids": (1,)}, {"kind": "note"}],
    ids=["thread hint", "a new conversation asked for", "attachments", "an entry customers cannot see"],
)
def test_what_the_hot_path_does_not_take(website, envelope_changes):
    assert hot_path.applies(visitor_envelope(website))
    assert not hot_path.applies(visitor_envelope(website, **envelope_changes))


def test_a_resolved_conversation_is_left_to_the_orm_path_which_reopens_it(website):
    first = do_receive_inbound(visitor_envelope(website, external_id="m1")).entry
    Conversation.objects.filter(pk=first.conversation_id).update(status=Conversation.Status.RESOLVED)

    entry = do_receive_inbound(visitor_envelope(website, external_id="m2")).entry

    conversation = Conversation.objects.get()
    assert entry.conversation_id == conversation.pk
    assert conversation.status == Conversation.Status.OPEN
    # The reopening activity line, then the message.
    assert list(conversation.entries.values_list("seq", "kind")) == [(1, "message"), (2, "activity"), (3, "message")]
