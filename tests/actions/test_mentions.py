"""actions.replies: @mentions in internal notes."""

from __future__ import annotations

import pytest

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.lists import ListQuery, conversation_page, view_counts
from contact_center.models import Agent, Mention
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(website):
    return do_receive_inbound(visitor_envelope(website)).entry.conversation


@pytest.fixture
def dana(website):
    agent = Agent.objects.create_user("dana", password="dana-password", display_name="Dana")
    website.members.add(agent)
    return agent


def test_a_note_mentions_agents_of_the_inbox_and_tells_each_of_them_alone(
    conversation, alice, dana, charlie, published, django_capture_on_commit_callbacks
):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        entry = do_add_note(alice, conversation.pk, "@dana can you check? cc @Charlie.")

    assert entry.payload["mentions"] == [dana.pk, charlie.pk]
    assert sorted(m.agent_id for m in Mention.objects.filter(entry=entry)) == sorted([dana.pk, charlie.pk])
    mention_events = [(event, groups) for event, groups in published if event["type"] == "mention"]
    assert [groups for _, groups in mention_events] == [[f"agent.{dana.pk}", f"agent.{charlie.pk}"]]
    assert mention_events[0][0]["entry"]["id"] == entry.pk


def test_it_ignores_strangers_email_addresses_the_writer_and_replies(conversation, alice, bob, dana):
    note = do_add_note(
        alice, conversation.pk, "@bob is elsewhere, vera@dana.example is an address, @alice is me, @nobody"
    )
    reply = do_send_reply(alice, conversation.pk, "Thanks @dana")

    assert "mentions" not in note.payload and "mentions" not in reply.payload
    assert not Mention.objects.exists()


def test_a_mentioned_agent_finds_the_conversation_in_their_mentions_view(conversation, alice, dana):
    do_add_note(alice, conversation.pk, "@dana over to you")

    rows, _ = conversation_page(dana, ListQuery(view="mentions"))
    assert [c.pk for c in rows] == [conversation.pk]
    assert view_counts(dana)["open"]["mentions"] == 1
    assert view_counts(alice)["open"]["mentions"] == 0
