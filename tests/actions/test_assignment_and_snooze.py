"""actions.conversations: snoozing (and waking), assigning (to an agent, to a team) and prioritising a conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contact_center.access import AccessDenied
from contact_center.actions.conversations import (
    do_assign,
    do_assign_team,
    do_change_status,
    do_set_priority,
    do_snooze,
    do_wake_snoozed,
)
from contact_center.actions.inbound import do_receive_inbound
from contact_center.models import Agent, Conversation, Team, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(website):
    """Vera's conversation in the website inbox, opened by her first message."""
    return do_receive_inbound(
        visitor_envelope(website, visitor="vera", body="Hello", external_id="m1")
    ).entry.conversation


@pytest.fixture
def dana(website):
    """A second agent of the website inbox."""
    agent = Agent.objects.create_user("dana", password="dana-password", display_name="Dana")
    website.members.add(agent)
    return agent


def activities(conversation) -> list[TimelineEntry]:
    return list(TimelineEntry.objects.filter(conversation=conversation, kind="activity").order_by("seq"))


def in_an_hour():
    return (timezone.now() + timedelta(hours=1)).replace(microsecond=0)


# --- Snooze ---------------------------------------------------------------------------------------


def test_it_snoozes_until_a_time_and_tells_the_consoles(
    conversation, alice, published, django_capture_on_commit_callbacks
):
    until = in_an_hour()
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_snooze(alice, conversation.pk, until.isoformat())

    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == ("snoozed", until)
    [activity] = activities(conversation)
    assert activity.author == alice and activity.public_seq is None
    assert activity.payload == {"event": "status", "from": "open", "to": "snoozed", "until": until.isoformat()}
    assert activity.body == f"Snoozed until {until:%Y-%m-%d %H:%M} UTC"
    [(event, groups)] = published
    assert groups == [f"inbox.{conversation.inbox_id}"]
    assert event["conversation"]["snoozed_until"] == until.isoformat()


@pytest.mark.parametrize(
    "until, problem",
    [
        ("tomorrow", "ISO 8601"),
        ("2030-01-01T09:00:00", "time zone offset"),
        ("2001-01-01T09:00:00+00:00", "in the future"),
        ("2099-01-01T09:00:00+00:00", "at most a year"),
        (None, "ISO 8601"),
    ],
)
def test_it_refuses_a_snooze_time_it_cannot_honour(conversation, alice, until, problem):
    with pytest.raises(ValidationError, match=problem):
        do_snooze(alice, conversation.pk, until)
    conversation.refresh_from_db()
    assert conversation.status == "open" and activities(conversation) == []


def test_it_wakes_a_snoozed_conversation_once_its_time_has_come(
    conversation, alice, published, django_capture_on_commit_callbacks
):
    until = in_an_hour()
    do_snooze(alice, conversation.pk, until)
    published.clear()

    assert do_wake_snoozed(now=until - timedelta(seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert do_wake_snoozed(now=until) == 1
    assert do_wake_snoozed(now=until + timedelta(minutes=1)) == 0

    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == ("open", None)
    woke = activities(conversation)[-1]
    assert (woke.body, woke.author) == ("Reopened: the snooze ended", None)
    assert [event["conversation"]["status"] for event, _ in published] == ["open"]


def test_a_customer_who_writes_first_ends_the_snooze(website, conversation, alice):
    do_snooze(alice, conversation.pk, in_an_hour())

    do_receive_inbound(visitor_envelope(website, visitor="vera", body="Any news?", external_id="m2"))

    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == ("open", None)
    assert do_wake_snoozed(now=timezone.now() + timedelta(days=1)) == 0


def test_resolving_a_snoozed_conversation_cancels_its_wake_up(conversation, alice):
    do_snooze(alice, conversation.pk, in_an_hour())
    do_change_status(alice, conversation.pk, "resolved")

    assert do_wake_snoozed(now=timezone.now() + timedelta(days=1)) == 0
    conversation.refresh_from_db()
    assert (conversation.status, conversation.snoozed_until) == ("resolved", None)


def test_an_agent_outside_the_inbox_cannot_snooze(conversation, bob):
    with pytest.raises(AccessDenied):
        do_snooze(bob, conversation.pk, in_an_hour())


# --- Assignment -----------------------------------------------------------------------------------


def test_it_assigns_to_a_colleague_and_records_who_did_it(
    conversation, alice, dana, published, django_capture_on_commit_callbacks
):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_assign(alice, conversation.pk, dana.pk)

    conversation.refresh_from_db()
    assert conversation.assignee == dana
    [activity] = activities(conversation)
    assert (activity.body, activity.author) == ("Assigned to Dana", alice)
    assert activity.payload == {"event": "assignment", "from": None, "to": dana.pk}
    [(event, groups)] = published
    assert groups == [f"inbox.{conversation.inbox_id}"]
    assert event["conversation"]["assignee"] == {"id": dana.pk, "name": "Dana"}


def test_it_lets_an_agent_take_a_conversation_and_give_it_back(conversation, alice):
    do_assign(alice, conversation.pk, alice.pk)
    do_assign(alice, conversation.pk, alice.pk)  # already theirs: nothing new
    do_assign(alice, conversation.pk, None)

    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert [a.body for a in activities(conversation)] == ["Alice took the conversation", "Unassigned"]
    assert activities(conversation)[-1].payload == {"event": "assignment", "from": alice.pk, "to": None}


def test_an_admin_may_be_assigned_any_conversation(conversation, alice, charlie):
    do_assign(alice, conversation.pk, charlie.pk)
    conversation.refresh_from_db()
    assert conversation.assignee == charlie


@pytest.mark.parametrize("who", ["bob", "inactive", "nobody", "text"])
def test_it_refuses_an_assignee_who_could_not_work_on_it(conversation, alice, bob, who):
    inactive = Agent.objects.create_user("ivan", password="ivan-password", is_active=False)
    conversation.inbox.members.add(inactive)
    assignee = {"bob": bob.pk, "inactive": inactive.pk, "nobody": 999_999, "text": "alice"}[who]

    with pytest.raises(ValidationError):
        do_assign(alice, conversation.pk, assignee)
    conversation.refresh_from_db()
    assert conversation.assignee is None and activities(conversation) == []


def test_an_agent_outside_the_inbox_cannot_assign(conversation, bob):
    with pytest.raises(AccessDenied):
        do_assign(bob, conversation.pk, bob.pk)


# --- Priority -------------------------------------------------------------------------------------


def test_it_sets_the_priority_once(conversation, alice, published, django_capture_on_commit_callbacks):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_set_priority(alice, conversation.pk, Conversation.Priority.URGENT)
        do_set_priority(alice, conversation.pk, Conversation.Priority.URGENT)

    conversation.refresh_from_db()
    assert conversation.priority == Conversation.Priority.URGENT
    [activity] = activities(conversation)
    assert activity.body == "Priority set to urgent"
    assert activity.payload == {"event": "priority", "from": 0, "to": 4}
    assert [event["conversation"]["priority"] for event, _ in published] == [4]


@pytest.mark.parametrize("priority", [5, -1, "high", True, None])
def test_it_refuses_an_unknown_priority(conversation, alice, priority):
    with pytest.raises(ValidationError, match="priority is one of"):
        do_set_priority(alice, conversation.pk, priority)


# --- Team -----------------------------------------------------------------------------------------


def test_it_gives_the_conversation_to_a_team_and_keeps_the_assignee(
    conversation, alice, published, django_capture_on_commit_callbacks
):
    returns = Team.objects.create(name="Returns")
    do_assign(alice, conversation.pk, alice.pk)
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        do_assign_team(alice, conversation.pk, returns.pk)

    conversation.refresh_from_db()
    assert (conversation.team_id, conversation.assignee_id) == (returns.pk, alice.pk)
    [(event, _)] = published
    assert event["entry"]["body"] == "Assigned to team Returns"
    assert event["entry"]["payload"] == {"event": "team", "from": None, "to": returns.pk}
    assert event["conversation"]["team"] == {"id": returns.pk, "name": "Returns"}


def test_it_takes_the_conversation_away_from_its_team_and_setting_it_again_writes_nothing(conversation, alice):
    returns = Team.objects.create(name="Returns")
    do_assign_team(alice, conversation.pk, returns.pk)
    do_assign_team(alice, conversation.pk, returns.pk)

    do_assign_team(alice, conversation.pk, None)

    assert [a.body for a in activities(conversation)] == ["Assigned to team Returns", "Removed from team Returns"]


@pytest.mark.parametrize("team", ["Returns", True, 999_999])
def test_it_refuses_what_is_not_a_team(conversation, alice, team):
    with pytest.raises(ValidationError):
        do_assign_team(alice, conversation.pk, team)


def test_a_new_conversation_goes_to_its_inboxs_team(website):
    returns = Team.objects.create(name="Returns")
    website.team = returns
    website.save()

    entry = do_receive_inbound(visitor_envelope(website, visitor="sam", external_id="s1")).entry

    assert Conversation.objects.get(pk=entry.conversation_id).team_id == returns.pk
