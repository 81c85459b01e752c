"""actions.autoassign: round robin among online members of an auto-assign inbox, within capacity."""

from __future__ import annotations

import pytest

from contact_center import presence
from contact_center.actions.autoassign import do_assign_waiting
from contact_center.actions.conversations import do_change_status
from contact_center.actions.inbound import do_receive_inbound
from contact_center.models import Agent, Conversation, Inbox, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def auto_inbox(website):
    Inbox.objects.filter(pk=website.pk).update(config={"auto_assign": True})
    website.refresh_from_db()
    return website


def agent_of(inbox, name: str, *, capacity: int | None = None, online: bool = True, console_open: bool = True):
    agent = Agent.objects.create_user(
        name.lower(),
        password="password",
        display_name=name,
        max_open_conversations=capacity,
        availability=Agent.Availability.ONLINE if online else Agent.Availability.BUSY,
    )
    inbox.members.add(agent)
    if console_open:
        presence.socket_alive(agent.pk, f"socket-of-{name}")
    return agent


def visitor_writes(inbox, visitor: str) -> Conversation:
    envelope = visitor_envelope(inbox, visitor=visitor, body="Hello", external_id=f"{visitor}-1")
    return do_receive_inbound(envelope).entry.conversation


def assignee_of(conversation: Conversation) -> str | None:
    conversation.refresh_from_db()
    return conversation.assignee.display_name if conversation.assignee else None


def test_it_takes_turns_among_the_online_members(auto_inbox):
    agent_of(auto_inbox, "Ann")
    agent_of(auto_inbox, "Ben")
    conversations = [visitor_writes(auto_inbox, f"visitor-{n}") for n in range(4)]

    assert do_assign_waiting() == 4

    names = [assignee_of(c) for c in conversations]
    assert sorted(names) == ["Ann", "Ann", "Ben", "Ben"]
    assert names[0] != names[1] and names[2] != names[3]  # turns, not one agent filling up first


def test_it_records_the_assignment_on_the_timeline_and_publishes_it(
    auto_inbox, published, django_capture_on_commit_callbacks
):
    ann = agent_of(auto_inbox, "Ann")
    conversation = visitor_writes(auto_inbox, "vera")
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        do_assign_waiting()

    activity = TimelineEntry.objects.get(conversation=conversation, kind="activity")
    assert (activity.body, activity.author) == ("Assigned to Ann automatically", None)
    assert activity.payload == {"event": "assignment", "from": None, "to": ann.pk, "automatic": True}
    [(event, groups)] = published
    assert event["conversation"]["assignee"] == {"id": ann.pk, "name": "Ann"}
    assert groups == [f"inbox.{auto_inbox.pk}"]


def test_it_skips_agents_at_capacity_and_lets_the_rest_wait_unassigned(auto_inbox):
    agent_of(auto_inbox, "Ann", capacity=1)
    agent_of(auto_inbox, "Ben", capacity=2)
    conversations = [visitor_writes(auto_inbox, f"visitor-{n}") for n in range(5)]

    assert do_assign_waiting() == 3

    names = [assignee_of(c) for c in conversations]
    assert sorted(filter(None, names)) == ["Ann", "Ben", "Ben"]
    # The oldest are served first; the newest wait.
    assert names[3:] == [None, None]


def test_a_waiting_conversation_goes_to_whoever_frees_up_capacity(auto_inbox):
    ann = agent_of(auto_inbox, "Ann", capacity=1)
    first, second = visitor_writes(auto_inbox, "vera"), visitor_writes(auto_inbox, "victor")
    do_assign_waiting()
    assert (assignee_of(first), assignee_of(second)) == ("Ann", None)

    do_change_status(ann, first.pk, "resolved")
    assert do_assign_waiting() == 1

    assert assignee_of(second) == "Ann"


def test_it_never_assigns_to_an_agent_who_is_busy_or_has_no_console_open(auto_inbox):
    agent_of(auto_inbox, "Busy", online=False)
    agent_of(auto_inbox, "Away", console_open=False)
    conversation = visitor_writes(auto_inbox, "vera")

    assert do_assign_waiting() == 0
    assert assignee_of(conversation) is None

    presence.socket_alive(Agent.objects.get(display_name="Away").pk, "a-console-at-last")
    assert do_assign_waiting() == 1
    assert assignee_of(conversation) == "Away"


def test_it_leaves_inboxes_without_auto_assign_alone(website):
    agent_of(website, "Ann")
    conversation = visitor_writes(website, "vera")

    assert do_assign_waiting() == 0
    assert assignee_of(conversation) is None


def test_it_leaves_conversations_an_agent_assigned_or_that_are_not_open(auto_inbox, alice):
    agent_of(auto_inbox, "Ann")
    taken = visitor_writes(auto_inbox, "vera")
    Conversation.objects.filter(pk=taken.pk).update(assignee=alice)
    pending = visitor_writes(auto_inbox, "victor")
    Conversation.objects.filter(pk=pending.pk).update(status="pending")

    assert do_assign_waiting() == 0
    assert (assignee_of(taken), assignee_of(pending)) == ("Alice", None)
