"""actions.replies.do_send_reply and do_add_note: what agents write on a conversation."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contact_center.access import AccessDenied
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.lib import payloads
from contact_center.models import Agent, Conversation, Delivery, TimelineEntry
from tests.actions import concurrently
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

WRITERS = [do_send_reply, do_add_note]


@pytest.fixture
def conversation(website):
    """Vera's conversation in the website inbox, opened by her first message."""
    entry = do_receive_inbound(visitor_envelope(website, visitor="vera", body="Hello", external_id="m1")).entry
    return entry.conversation


def agent_entries():
    return TimelineEntry.objects.exclude(direction=TimelineEntry.Direction.IN)


# --- Replies ------------------------------------------------------------------------------------------


def test_it_writes_the_reply_with_its_outbox_row(conversation, alice):
    entry = do_send_reply(alice, conversation.pk, "  How can I help?  ")

    assert (entry.kind, entry.direction, entry.author_id) == ("message", "out", alice.pk)
    assert (entry.seq, entry.public_seq, entry.body) == (2, 2, "How can I help?")
    assert entry.delivery_status == TimelineEntry.DeliveryStatus.QUEUED
    delivery = Delivery.objects.get()
    assert (delivery.entry_id, delivery.transport, delivery.state) == (entry.pk, "widget", Delivery.State.PENDING)
    assert (delivery.attempts, delivery.max_attempts) == (0, settings.PARLEY_OUTBOX["max_attempts"])
    # Due at once: a worker picks it up on its next pass.
    assert delivery.next_attempt_at <= timezone.now()
    assert (delivery.lease_expires_at, delivery.leased_by) == (None, "")


@pytest.mark.django_db(transaction=True)
def test_it_rolls_back_the_reply_and_its_outbox_row_together(website, alice, published):
    conversation_id = do_receive_inbound(visitor_envelope(website, external_id="m1")).entry.conversation_id
    published.clear()

    with pytest.raises(RuntimeError), transaction.atomic():
        do_send_reply(alice, conversation_id, "How can I help?")
        assert Delivery.objects.count() == 1
        raise RuntimeError("the caller failed after replying")

    assert not agent_entries().exists()
    assert not Delivery.objects.exists()
    assert Conversation.objects.get(pk=conversation_id).last_seq == 1
    assert published == []


def test_it_records_the_first_response_time_once(conversation, alice):
    first = do_send_reply(alice, conversation.pk, "How can I help?")
    do_send_reply(alice, conversation.pk, "Are you still there?")

    conversation.refresh_from_db()
    assert conversation.first_response_at == first.created_at


def test_it_does_not_count_a_note_as_a_response(conversation, alice):
    do_add_note(alice, conversation.pk, "Looking into it")

    conversation.refresh_from_db()
    assert conversation.first_response_at is None


def test_it_returns_the_stored_reply_when_the_console_resends_a_client_id(
    conversation, alice, published, django_capture_on_commit_callbacks
):
    first = do_send_reply(alice, conversation.pk, "How can I help?", client_id="c-123456")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = do_send_reply(alice, conversation.pk, "How can I help?", client_id="c-123456")

    assert again.pk == first.pk
    assert agent_entries().count() == 1
    assert Delivery.objects.count() == 1
    assert callbacks == []
    assert published == []
    assert first.payload == {"client_id": "c-123456"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("write", WRITERS)
def test_it_stores_one_entry_when_resends_of_a_client_id_arrive_concurrently(website, alice, write):
    conversation_id = do_receive_inbound(visitor_envelope(website, external_id="m1")).entry.conversation_id

    entries = concurrently(lambda _: write(alice, conversation_id, "How can I help?", client_id="c-123456"), range(6))

    assert len({entry.pk for entry in entries}) == 1
    assert agent_entries().count() == 1
    assert Delivery.objects.count() == (1 if write is do_send_reply else 0)
    assert Conversation.objects.get(pk=conversation_id).last_seq == 2


def test_it_keeps_the_client_ids_of_different_agents_apart(conversation, alice, charlie):
    mine = do_send_reply(alice, conversation.pk, "From Alice", client_id="c-123456")
    theirs = do_send_reply(charlie, conversation.pk, "From Charlie", client_id="c-123456")

    assert mine.pk != theirs.pk
    assert Delivery.objects.count() == 2


def test_it_writes_each_reply_without_a_client_id(conversation, alice):
    do_send_reply(alice, conversation.pk, "One")
    do_send_reply(alice, conversation.pk, "One")

    assert agent_entries().count() == 2


@pytest.mark.parametrize("write", WRITERS)
def test_it_denies_an_agent_outside_the_inbox(conversation, bob, write):
    with pytest.raises(AccessDenied):
        write(bob, conversation.pk, "Not my inbox")

    assert not agent_entries().exists()
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("write", WRITERS)
def test_it_denies_a_conversation_that_does_not_exist(alice, write):
    with pytest.raises(AccessDenied):
        write(alice, 999_999, "Anyone there?")


@pytest.mark.parametrize("write", WRITERS)
def test_it_lets_an_admin_write_in_any_inbox(conversation, charlie, write):
    entry = write(charlie, conversation.pk, "Admin here")

    assert entry.author_id == charlie.pk
    assert entry.conversation_id == conversation.pk


@pytest.mark.parametrize("write", WRITERS)
@pytest.mark.parametrize("body", ["", "   \n\t ", None, "x" * 10_001])
def test_it_refuses_an_empty_or_oversized_body(conversation, alice, write, body):
    with pytest.raises(ValidationError):
        write(alice, conversation.pk, body)

    assert not agent_entries().exists()
    assert not Delivery.objects.exists()


def test_it_accepts_a_body_of_the_maximum_length(conversation, alice):
    assert settings.PARLEY_MESSAGE_MAX_CHARS == 10_000
    entry = do_send_reply(alice, conversation.pk, "x" * 10_000)

    assert len(entry.body) == 10_000


def test_it_tells_only_the_inbox_agents_of_a_reply(conversation, alice, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        entry = do_send_reply(alice, conversation.pk, "How can I help?")

    # The visitor gets the reply through the outbox (the widget transport), not at write time.
    assert len(published) == 1
    event, groups = published[0]
    assert groups == [f"inbox.{conversation.inbox_id}"]
    assert event["type"] == "entry.created"
    assert event["entry"]["id"] == entry.pk
    assert event["entry"]["author"] == {"id": alice.pk, "name": "Alice"}
    assert event["entry"]["delivery_status"] == "queued"
    assert event["conversation"]["last_seq"] == 2


# --- Notes --------------------------------------------------------------------------------------------


def test_it_writes_a_note_without_an_outbox_row(conversation, alice):
    note = do_add_note(alice, conversation.pk, "Vera is a VIP", client_id="n-123456")

    assert (note.kind, note.direction, note.author_id) == ("note", "internal", alice.pk)
    assert (note.seq, note.public_seq, note.delivery_status) == (2, None, "")
    assert not Delivery.objects.exists()
    conversation.refresh_from_db()
    assert (conversation.last_seq, conversation.last_public_seq) == (2, 1)


def test_it_returns_the_stored_note_when_the_console_resends_a_client_id(conversation, alice):
    first = do_add_note(alice, conversation.pk, "Vera is a VIP", client_id="n-123456")
    again = do_add_note(alice, conversation.pk, "Vera is a VIP", client_id="n-123456")

    assert again.pk == first.pk
    assert agent_entries().count() == 1


def test_it_never_tells_a_visitor_of_a_note(conversation, alice, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        note = do_add_note(alice, conversation.pk, "Vera is a VIP")

    assert [(event["type"], event["entry"]["id"], groups) for event, groups in published] == [
        ("entry.created", note.pk, [f"inbox.{conversation.inbox_id}"])
    ]
    assert not any(group.startswith("visitor.") for _, groups in published for group in groups)


def test_visitors_see_the_agents_avatar_only_when_it_is_an_https_url(website, alice):
    conversation_id = do_receive_inbound(visitor_envelope(website)).entry.conversation_id
    entry = do_send_reply(alice, conversation_id, "Hi!")
    assert payloads.entry_for_visitor(entry)["author_avatar"] is None

    for url, shown in [
        ("https://cdn.shop.example/alice.png", "https://cdn.shop.example/alice.png"),
        ("http://cdn.shop.example/alice.png", None),
        ("javascript:alert(1)", None),
    ]:
        Agent.objects.filter(pk=alice.pk).update(avatar_url=url)
        entry.refresh_from_db()
        entry.author.refresh_from_db()
        assert payloads.entry_for_visitor(entry)["author_avatar"] == shown
