"""actions.conversations: an agent changes a conversation's status, or marks it read."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contact_center.access import AccessDenied
from contact_center.actions.conversations import do_change_status, do_mark_read
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.models import Conversation, Inbox, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(website):
    """Vera's conversation in the website inbox, opened by her first message."""
    return do_receive_inbound(
        visitor_envelope(website, visitor="vera", body="Hello", external_id="m1")
    ).entry.conversation


def vera_group(conversation):
    return f"visitor.{conversation.inbox_id}.{conversation.customer_id}"


# --- Status ---------------------------------------------------------------------------------------


def test_it_resolves_records_who_did_it_and_asks_the_visitor_to_rate(
    conversation, alice, published, django_capture_on_commit_callbacks
):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_change_status(alice, conversation.pk, "resolved")

    conversation.refresh_from_db()
    assert conversation.status == "resolved" and conversation.resolved_at is not None
    activity = TimelineEntry.objects.get(kind="activity")
    assert (activity.direction, activity.author_id, activity.public_seq) == ("internal", alice.pk, None)
    assert activity.payload == {"event": "status", "from": "open", "to": "resolved"}
    assert [(event["type"], groups) for event, groups in published] == [
        ("entry.created", [f"inbox.{conversation.inbox_id}"]),
        ("csat.request", [vera_group(conversation)]),
    ]
    assert published[0][0]["conversation"]["status"] == "resolved"
    assert published[1][0] == {
        "type": "csat.request",
        "conversation": conversation.pk,
        "resolved_at": conversation.resolved_at.isoformat(),
    }


def test_it_does_not_ask_for_a_rating_when_the_inbox_turned_csat_off(
    website, conversation, alice, published, django_capture_on_commit_callbacks
):
    Inbox.objects.filter(pk=website.pk).update(config={"csat": False})
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_change_status(alice, conversation.pk, "resolved")

    assert [event["type"] for event, _ in published] == ["entry.created"]


def test_it_reopens_clearing_resolved_at_without_asking_anything(
    conversation, alice, published, django_capture_on_commit_callbacks
):
    do_change_status(alice, conversation.pk, "resolved")
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_change_status(alice, conversation.pk, "open")

    conversation.refresh_from_db()
    assert (conversation.status, conversation.resolved_at) == ("open", None)
    assert [event["type"] for event, _ in published] == ["entry.created"]
    assert published[0][0]["entry"]["payload"] == {"event": "status", "from": "resolved", "to": "open"}


def test_it_changes_nothing_when_the_status_is_already_set(
    conversation, alice, published, django_capture_on_commit_callbacks
):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_change_status(alice, conversation.pk, "open")

    assert published == []
    assert TimelineEntry.objects.filter(kind="activity").count() == 0


def test_it_refuses_an_unknown_status(conversation, alice):
    with pytest.raises(ValidationError):
        do_change_status(alice, conversation.pk, "closed")
    assert Conversation.objects.get().status == "open"


def test_it_refuses_an_agent_outside_the_inbox(conversation, bob):
    with pytest.raises(AccessDenied):
        do_change_status(bob, conversation.pk, "resolved")
    assert Conversation.objects.get().status == "open"


# --- Read position --------------------------------------------------------------------------------


def test_it_stores_the_public_seq_of_what_the_agent_read_and_tells_the_visitor(
    website, conversation, alice, published, django_capture_on_commit_callbacks
):
    do_add_note(alice, conversation.pk, "VIP")  # seq 2, no public seq
    do_receive_inbound(visitor_envelope(website, visitor="vera", body="Anyone?", external_id="m2"))  # seq 3, public 2
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert do_mark_read(alice, conversation.pk, 3) == 2

    assert Conversation.objects.get().agent_read_seq == 2
    assert published == [
        ({"type": "read", "conversation": conversation.pk, "seq": 2}, [vera_group(conversation)]),
        # ... and every console of the inbox, whose unread counts drop it.
        ({"type": "conversation.read", "conversation": conversation.pk, "seq": 2}, [f"inbox.{website.pk}"]),
    ]


def test_it_never_moves_the_read_position_backwards(
    website, conversation, alice, published, django_capture_on_commit_callbacks
):
    do_receive_inbound(visitor_envelope(website, visitor="vera", body="Anyone?", external_id="m2"))
    do_mark_read(alice, conversation.pk, 2)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert do_mark_read(alice, conversation.pk, 1) is None
        assert do_mark_read(alice, conversation.pk, 2) is None

    assert Conversation.objects.get().agent_read_seq == 2
    assert published == []


def test_it_counts_only_up_to_the_seq_the_agent_reported(website, conversation, alice):
    do_send_reply(alice, conversation.pk, "Hi!")  # seq 2, public 2
    do_receive_inbound(visitor_envelope(website, visitor="vera", body="Thanks", external_id="m2"))  # seq 3

    assert do_mark_read(alice, conversation.pk, 2) == 2
    assert Conversation.objects.get().agent_read_seq == 2


def test_it_refuses_a_read_receipt_from_an_agent_outside_the_inbox(conversation, bob):
    with pytest.raises(AccessDenied):
        do_mark_read(bob, conversation.pk, 1)
    assert Conversation.objects.get().agent_read_seq == 0
