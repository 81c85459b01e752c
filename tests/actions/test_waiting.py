"""Who is waiting for an answer, and when the inbox's response-time target runs out (lib/sla.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from contact_center.actions.conversations import do_change_status, do_mark_read
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.lib.payloads import conversation_summary
from contact_center.lib.sla import check_sla
from contact_center.models import Conversation, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def targets(website):
    website.config = {"sla": {"first_response_minutes": 15, "next_response_minutes": 60}}
    website.save()
    return website


def vera_writes(inbox, n: int) -> TimelineEntry:
    return do_receive_inbound(visitor_envelope(inbox, visitor="vera", body=f"message {n}", external_id=f"m{n}")).entry


def saved(entry) -> Conversation:
    return Conversation.objects.get(pk=entry.conversation_id)


def test_a_customer_waits_from_their_first_unanswered_message_against_the_first_response_target(targets):
    first = vera_writes(targets, 1)
    vera_writes(targets, 2)

    conversation = saved(first)
    assert conversation.waiting_since == first.created_at
    assert conversation.sla_due_at == first.created_at + timedelta(minutes=15)


def test_a_reply_ends_the_wait_and_the_next_message_starts_one_against_the_next_response_target(targets, alice):
    first = vera_writes(targets, 1)
    do_send_reply(alice, first.conversation_id, "Hello Vera")
    assert (saved(first).waiting_since, saved(first).sla_due_at) == (None, None)

    again = vera_writes(targets, 2)

    assert saved(again).waiting_since == again.created_at
    assert saved(again).sla_due_at == again.created_at + timedelta(minutes=60)


def test_a_note_is_not_an_answer(targets, alice):
    first = vera_writes(targets, 1)

    do_add_note(alice, first.conversation_id, "Checking with the warehouse")

    assert saved(first).waiting_since == first.created_at


def test_resolving_without_a_reply_leaves_nobody_waiting(targets, alice):
    first = vera_writes(targets, 1)

    do_change_status(alice, first.conversation_id, "resolved")

    assert (saved(first).waiting_since, saved(first).sla_due_at) == (None, None)


def test_an_inbox_without_a_target_has_waits_but_no_due_time(website):
    first = vera_writes(website, 1)

    assert saved(first).waiting_since == first.created_at
    assert saved(first).sla_due_at is None


def test_a_malformed_target_counts_as_none_and_never_stops_a_message(website):
    website.config = {"sla": {"first_response_minutes": "soon"}}
    website.save()

    assert saved(vera_writes(website, 1)).sla_due_at is None


def test_the_summary_says_unread_until_an_agent_reads_the_customers_message(website, alice):
    first = vera_writes(website, 1)
    assert conversation_summary(saved(first))["unread"] is True

    do_mark_read(alice, first.conversation_id, first.seq)

    assert conversation_summary(saved(first))["unread"] is False
    assert conversation_summary(saved(vera_writes(website, 2)))["unread"] is True


@pytest.mark.parametrize(
    "config",
    [
        "an hour",
        {"first_response_minutes": 0},
        {"first_response_minutes": True},
        {"first_response_minutes": 60 * 24 * 32},
        {"resolution_minutes": 60},
    ],
)
def test_it_refuses_a_target_that_is_not_minutes(config):
    with pytest.raises(ValidationError):
        check_sla(config)


def test_it_accepts_either_target_alone():
    assert check_sla({"next_response_minutes": 240}) == {"next_response_minutes": 240}
    assert check_sla(None) is None
