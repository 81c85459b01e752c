"""actions.merging: merging a customer's two conversations into one, and moving one to another inbox."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contact_center.access import AccessDenied
from contact_center.actions.conversations import do_assign, do_change_status, do_set_priority
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.merging import do_merge, do_move_to_inbox, move_targets
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.history import visitor_conversation
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Agent, Conversation, Inbox, Label, Mention, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(db, alice):
    inbox = Inbox.objects.create(name="Support", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    inbox.members.add(alice)
    return inbox


@pytest.fixture
def sales(db):
    return Inbox.objects.create(name="Sales", kind=Inbox.Kind.EMAIL, address="sales@shop.example")


@pytest.fixture
def dana(support):
    agent = Agent.objects.create_user("dana", password="dana-password", display_name="Dana")
    support.members.add(agent)
    return agent


def email(inbox, n: int, sender="vera@home.example", **extra) -> Conversation:
    """A new email thread (no reply headers: each opens its own conversation)."""
    return do_receive_inbound(
        InboundEnvelope(
            inbox_id=inbox.pk,
            external_id=f"<m{n}@home.example>",
            sender=Sender(kind="email", value=sender),
            body=f"email {n}",
            subject=f"Thread {n}",
            continue_latest=False,
            **extra,
        )
    ).entry.conversation


@pytest.fixture
def first(support, alice):
    """Vera's first thread: her email, Alice's reply, a note naming Dana."""
    conversation = email(support, 1)
    do_send_reply(alice, conversation.pk, "We are on it", client_id="console:r1")
    return conversation


@pytest.fixture
def second(support, first):
    """Her second thread about the same order, written later."""
    return email(support, 2)


def timeline(conversation) -> list[tuple[int, int | None, str]]:
    return list(
        TimelineEntry.objects.filter(conversation=conversation).order_by("seq").values_list("seq", "public_seq", "body")
    )


# --- Merge ----------------------------------------------------------------------------------------


def test_merging_appends_the_sources_entries_after_a_line_saying_so(first, second, alice):
    do_merge(alice, first.pk, second.pk)

    assert timeline(second) == [
        (1, 1, "email 2"),
        (2, None, f"Merged conversation #{first.pk} into this one (2 entries below)"),
        (3, 2, "email 1"),
        (4, 3, "We are on it"),
    ]
    second.refresh_from_db()
    assert (second.last_seq, second.last_public_seq) == (4, 3)
    assert timeline(first) == []


def test_the_source_is_left_resolved_and_pointing_at_the_target(first, second, alice):
    do_merge(alice, first.pk, second.pk)

    first.refresh_from_db()
    assert first.merged_into_id == second.pk
    assert first.status == Conversation.Status.RESOLVED


def test_the_next_reply_to_the_merged_thread_arrives_in_the_target(first, second, alice, support):
    do_merge(alice, first.pk, second.pk)

    reply = do_receive_inbound(
        InboundEnvelope(
            inbox_id=support.pk,
            external_id="<m3@home.example>",
            sender=Sender(kind="email", value="vera@home.example"),
            body="Any news?",
            thread_hint=first.pk,
            continue_latest=False,
        )
    ).entry

    assert reply.conversation_id == second.pk
    assert reply.seq == 5


def test_the_target_gains_the_sources_labels(first, second, alice, published, django_capture_on_commit_callbacks):
    billing, vip = Label.objects.create(name="billing"), Label.objects.create(name="vip")
    first.labels.add(billing, vip)
    second.labels.add(vip)

    with django_capture_on_commit_callbacks(execute=True):
        do_merge(alice, first.pk, second.pk)

    assert set(second.labels.values_list("name", flat=True)) == {"billing", "vip"}
    [merged] = [event for event, _ in published if event["type"] == "conversation.merged"]
    assert [label["name"] for label in merged["into"]["labels"]] == ["billing", "vip"]


def test_mentions_follow_their_notes(first, second, alice, dana):
    do_add_note(alice, first.pk, "@dana can you check?", client_id="console:n1")

    do_merge(alice, first.pk, second.pk)

    assert list(Mention.objects.filter(agent=dana).values_list("conversation_id", flat=True)) == [second.pk]


def test_the_target_is_reopened_when_the_source_was_open_and_keeps_the_higher_priority(first, second, alice, dana):
    do_change_status(alice, second.pk, Conversation.Status.RESOLVED)
    do_set_priority(alice, first.pk, 3)
    do_assign(alice, first.pk, dana.pk)

    do_merge(alice, first.pk, second.pk)

    second.refresh_from_db()
    assert (second.status, second.priority, second.assignee_id) == (Conversation.Status.OPEN, 3, dana.pk)
    assert [body for _, _, body in timeline(second)][2:4] == [
        "Reopened: merged with an open conversation",
        f"Merged conversation #{first.pk} into this one (4 entries below)",
    ]


def test_consoles_hear_one_merged_event_with_both_summaries(
    first, second, alice, support, published, django_capture_on_commit_callbacks
):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_merge(alice, first.pk, second.pk)

    merged = [(event, groups) for event, groups in published if event["type"] == "conversation.merged"]
    [(event, groups)] = merged
    assert (event["conversation"]["id"], event["conversation"]["merged_into"]) == (first.pk, second.pk)
    assert event["into"]["id"] == second.pk and event["into"]["last_seq"] == 4
    assert groups == [f"inbox.{support.pk}"]


def test_merging_a_conversation_merged_into_another_later_repoints_it(first, second, support, alice):
    third = email(support, 3)
    do_merge(alice, first.pk, second.pk)

    do_merge(alice, second.pk, third.pk)

    first.refresh_from_db()
    assert first.merged_into_id == third.pk
    assert [body for _, _, body in timeline(third)] == [
        "email 3",
        f"Merged conversation #{second.pk} into this one (4 entries below)",
        "email 2",
        f"Merged conversation #{first.pk} into this one (2 entries below)",
        "email 1",
        "We are on it",
    ]


def test_a_merged_widget_conversation_is_not_where_the_visitor_continues(website, alice):
    older = do_receive_inbound(visitor_envelope(website, visitor="vera", external_id="w1")).entry.conversation
    newer = Conversation.objects.create(customer=older.customer, inbox=website, last_activity_at=older.last_activity_at)

    do_merge(alice, newer.pk, older.pk)

    assert visitor_conversation(website.pk, "vera") == (older.pk, older.customer_id)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("itself", "a conversation cannot be merged into itself"),
        ("other customer", "only conversations of the same customer can be merged"),
        ("other inbox", "only conversations of the same inbox can be merged; the customer's timeline shows both"),
        ("merged", "was already merged into"),
    ],
)
def test_it_refuses_what_cannot_be_merged_and_changes_nothing(first, second, support, sales, alice, case, message):
    sales.members.add(alice)
    target = second
    if case == "itself":
        target = first
    elif case == "other customer":
        target = email(support, 9, sender="sam@work.example")
    elif case == "other inbox":
        target = email(sales, 9)
    elif case == "merged":
        do_merge(alice, first.pk, second.pk)
        target = email(support, 9)
    before = timeline(target)

    with pytest.raises(ValidationError, match=message):
        do_merge(alice, first.pk, target.pk)

    assert timeline(target) == before


def test_an_agent_who_cannot_see_both_cannot_merge_them(first, second, bob):
    with pytest.raises(AccessDenied):
        do_merge(bob, first.pk, second.pk)


# --- Move -----------------------------------------------------------------------------------------


def test_moving_takes_every_entry_along_and_says_so(first, sales, alice):
    sales.members.add(alice)

    do_move_to_inbox(alice, first.pk, sales.pk)

    first.refresh_from_db()
    assert first.inbox_id == sales.pk
    assert set(TimelineEntry.objects.filter(conversation=first).values_list("inbox_id", flat=True)) == {sales.pk}
    assert timeline(first)[-1][2] == "Moved from Support to Sales"


def test_an_assignee_who_cannot_see_the_new_inbox_is_unassigned_and_told_it_left(
    first, sales, alice, dana, published, django_capture_on_commit_callbacks
):
    sales.members.add(alice)
    do_assign(alice, first.pk, dana.pk)
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        do_move_to_inbox(alice, first.pk, sales.pk)

    first.refresh_from_db()
    assert first.assignee is None
    assert timeline(first)[-1][2] == "Moved from Support to Sales; unassigned from Dana"
    removed = [groups for event, groups in published if event["type"] == "conversation.removed"]
    assert removed == [[f"agent.{dana.pk}"]]
    created = [groups for event, groups in published if event["type"] == "entry.created"]
    assert created == [[f"inbox.{sales.pk}"]]


def test_it_moves_only_to_an_inbox_of_the_same_channel_the_agent_can_see(first, sales, alice, website):
    with pytest.raises(ValidationError, match="you cannot see that inbox"):
        do_move_to_inbox(alice, first.pk, sales.pk)
    with pytest.raises(ValidationError, match="can only move to another Email inbox"):
        do_move_to_inbox(alice, first.pk, website.pk)
    sales.members.add(alice)
    assert [inbox.name for inbox in move_targets(alice, first)] == ["Sales"]


def test_a_live_chat_stays_in_its_websites_inbox(website, other_inbox, charlie):
    chat = do_receive_inbound(visitor_envelope(website)).entry.conversation

    with pytest.raises(ValidationError, match="a live chat stays in its website's inbox"):
        do_move_to_inbox(charlie, chat.pk, other_inbox.pk)
    assert move_targets(charlie, chat) == []


def test_a_message_already_stored_in_the_new_inbox_stops_the_move(first, sales, alice):
    sales.members.add(alice)
    email(sales, 1)  # the same Message-ID, delivered to both addresses

    with pytest.raises(ValidationError, match="some of these messages are already in Sales"):
        do_move_to_inbox(alice, first.pk, sales.pk)

    first.refresh_from_db()
    assert first.inbox_id != sales.pk
