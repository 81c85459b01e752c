"""actions.typing: ephemeral typing signals, published to the right people and stored nowhere."""

from __future__ import annotations

import pytest

from contact_center.access import AccessDenied
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.typing import do_send_agent_typing, do_send_visitor_typing
from contact_center.models import Inbox, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(website):
    return do_receive_inbound(
        visitor_envelope(website, visitor="vera", body="Hello", external_id="m1")
    ).entry.conversation


def test_it_tells_the_visitor_which_agent_is_typing(conversation, alice, published, django_capture_on_commit_callbacks):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_send_agent_typing(alice, conversation.pk, True)

    assert published == [
        (
            {"type": "typing", "conversation": conversation.pk, "typing": True, "author_name": "Alice"},
            [f"visitor.{conversation.inbox_id}.{conversation.customer_id}"],
        )
    ]
    assert TimelineEntry.objects.count() == 1


def test_it_refuses_typing_from_an_agent_outside_the_inbox(
    conversation, bob, published, django_capture_on_commit_callbacks
):
    published.clear()
    with pytest.raises(AccessDenied), django_capture_on_commit_callbacks(execute=True):
        do_send_agent_typing(bob, conversation.pk, True)
    assert published == []


def test_it_shows_agents_of_the_inbox_a_capped_preview(conversation, published, django_capture_on_commit_callbacks):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_send_visitor_typing(conversation.inbox_id, conversation.customer_id, conversation.pk, "x" * 900)

    [(event, groups)] = published
    assert groups == [f"inbox.{conversation.inbox_id}"]
    assert (event["type"], event["conversation"], event["preview"]) == ("visitor.typing", conversation.pk, "x" * 500)


def test_it_drops_a_visitor_preview_for_a_conversation_that_is_not_theirs(
    website, conversation, published, django_capture_on_commit_callbacks
):
    victor = do_receive_inbound(visitor_envelope(website, visitor="victor", body="Hi", external_id="v1")).entry
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_send_visitor_typing(website.pk, victor.customer_id, conversation.pk, "peek")

    assert published == []


def test_it_never_tells_a_customer_of_another_channel(alice, published, django_capture_on_commit_callbacks):
    mailbox = Inbox.objects.create(name="Mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    mailbox.members.add(alice)
    entry = do_receive_inbound(visitor_envelope(mailbox, visitor="vera", body="Hello", external_id="e1")).entry
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_send_agent_typing(alice, entry.conversation_id, True)

    assert published == []
