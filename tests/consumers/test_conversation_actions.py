"""Console socket frames that change a conversation: snooze, assign, priority
(docs/protocols/console-socket.md, "Changing a conversation")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from contact_center.models import Conversation, Team
from tests.consumers import hello, open_agent, open_visitor, receive_until, send

pytestmark = pytest.mark.django_db(transaction=True)

QUIET = 0.3


async def vera_writes(website) -> tuple:
    vera = await open_visitor(website, "vera")
    await hello(vera)
    ack = await send(vera, "vera-client-0001", "Hello")
    return vera, ack["message"]["conversation"]


async def console_of(agent):
    socket = await open_agent(agent)
    await socket.send_json_to({"type": "hello", "resume": {}})
    await receive_until(socket, "ready")
    return socket


@database_sync_to_async
def row(conversation_id: int) -> Conversation:
    return Conversation.objects.select_related("assignee").get(pk=conversation_id)


async def test_it_snoozes_from_one_console_and_every_console_of_the_inbox_hears_it(website, alice, charlie):
    vera, conversation = await vera_writes(website)
    alices, charlies = await console_of(alice), await console_of(charlie)
    until = (timezone.now() + timedelta(hours=2)).replace(microsecond=0).isoformat()

    await alices.send_json_to({"type": "snooze", "conversation": conversation, "until": until})

    updated, _ = await receive_until(alices, "conversation.updated")
    assert (updated["conversation"]["status"], updated["conversation"]["snoozed_until"]) == ("snoozed", until)
    heard, _ = await receive_until(charlies, "entry.created")
    assert heard["entry"]["payload"] == {"event": "status", "from": "open", "to": "snoozed", "until": until}
    assert heard["conversation"]["snoozed_until"] == until
    # Internal activity: the visitor hears nothing of it.
    assert await vera.receive_nothing(timeout=QUIET)


async def test_it_answers_a_snooze_in_the_past_with_invalid(website, alice):
    _, conversation = await vera_writes(website)
    console = await console_of(alice)

    await console.send_json_to({"type": "snooze", "conversation": conversation, "until": "2001-01-01T00:00:00Z"})

    error = await console.receive_json_from()
    assert (error["type"], error["code"], error["conversation"]) == ("error", "invalid", conversation)
    assert "future" in error["message"]
    assert (await row(conversation)).status == "open"


async def test_it_assigns_and_every_console_sees_the_new_assignee(website, alice, charlie):
    _, conversation = await vera_writes(website)
    alices, charlies = await console_of(alice), await console_of(charlie)

    await alices.send_json_to({"type": "assign", "conversation": conversation, "assignee": alice.pk})

    updated, _ = await receive_until(alices, "conversation.updated")
    assert updated["conversation"]["assignee"] == {"id": alice.pk, "name": "Alice"}
    heard, _ = await receive_until(charlies, "entry.created")
    assert heard["entry"]["body"] == "Alice took the conversation"
    assert (await row(conversation)).assignee_id == alice.pk


async def test_it_refuses_to_assign_an_agent_outside_the_inbox(website, alice, bob):
    _, conversation = await vera_writes(website)
    console = await console_of(alice)

    await console.send_json_to({"type": "assign", "conversation": conversation, "assignee": bob.pk})

    error = await console.receive_json_from()
    assert (error["code"], error["message"]) == ("invalid", "that agent cannot see this inbox")
    assert (await row(conversation)).assignee_id is None


async def test_it_needs_the_assignee_key_even_to_unassign(website, alice):
    _, conversation = await vera_writes(website)
    console = await console_of(alice)

    await console.send_json_to({"type": "assign", "conversation": conversation})

    error = await console.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "bad_frame")


async def test_it_sets_the_priority(website, alice):
    _, conversation = await vera_writes(website)
    console = await console_of(alice)

    await console.send_json_to({"type": "priority", "conversation": conversation, "priority": 3})

    updated, _ = await receive_until(console, "conversation.updated")
    assert updated["conversation"]["priority"] == 3
    assert (await row(conversation)).priority == 3


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "snooze", "until": "in an hour"},
        {"type": "assign", "assignee": None},
        {"type": "priority", "priority": 1},
        {"type": "merge", "into": 1},
        {"type": "move", "inbox": 1},
        {"type": "team", "team": None},
    ],
    ids=["snooze", "assign", "priority", "merge", "move", "team"],
)
async def test_an_agent_outside_the_inbox_changes_nothing_and_learns_nothing(website, alice, bob, frame):
    _, conversation = await vera_writes(website)
    console = await console_of(bob)
    if frame.get("until") == "in an hour":
        frame = {**frame, "until": (timezone.now() + timedelta(hours=1)).isoformat()}

    await console.send_json_to({**frame, "conversation": conversation})

    error = await console.receive_json_from()
    assert (error["type"], error["code"], error["conversation"]) == ("error", "not_found", conversation)
    saved = await row(conversation)
    assert (saved.status, saved.assignee_id, saved.priority) == ("open", None, 0)


async def test_it_gives_the_conversation_to_a_team_and_every_console_hears_it(website, alice, charlie):
    _, conversation = await vera_writes(website)
    team = await database_sync_to_async(Team.objects.create)(name="Returns")
    alices, charlies = await console_of(alice), await console_of(charlie)

    await alices.send_json_to({"type": "team", "conversation": conversation, "team": team.pk})

    updated, _ = await receive_until(alices, "conversation.updated")
    assert updated["conversation"]["team"] == {"id": team.pk, "name": "Returns"}
    heard, _ = await receive_until(charlies, "entry.created")
    assert heard["entry"]["body"] == "Assigned to team Returns"


async def test_it_needs_the_team_key_even_to_remove_the_team(website, alice):
    _, conversation = await vera_writes(website)
    console = await console_of(alice)

    await console.send_json_to({"type": "team", "conversation": conversation})

    error = await console.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "bad_frame")


@database_sync_to_async
def second_conversation_of(conversation_id: int) -> int:
    first = Conversation.objects.get(pk=conversation_id)
    return Conversation.objects.create(
        customer=first.customer, inbox=first.inbox, last_activity_at=first.last_activity_at
    ).pk


async def test_it_merges_and_every_console_hears_which_conversation_went_where(website, alice, charlie):
    _, conversation = await vera_writes(website)
    target = await second_conversation_of(conversation)
    alices, charlies = await console_of(alice), await console_of(charlie)

    await alices.send_json_to({"type": "merge", "conversation": conversation, "into": target})

    updated, _ = await receive_until(alices, "conversation.updated")
    assert (updated["conversation"]["id"], updated["conversation"]["last_seq"]) == (target, 2)
    merged, _ = await receive_until(charlies, "conversation.merged")
    assert (merged["conversation"]["id"], merged["conversation"]["merged_into"]) == (conversation, target)
    assert (await row(conversation)).merged_into_id == target


async def test_it_answers_a_merge_it_refuses_with_invalid(website, alice):
    _, conversation = await vera_writes(website)
    console = await console_of(alice)

    await console.send_json_to({"type": "merge", "conversation": conversation, "into": "the other one"})

    error = await console.receive_json_from()
    assert (error["type"], error["code"], error["message"]) == ("error", "invalid", "into is a conversation id")


async def test_it_refuses_to_move_a_live_chat(website, other_inbox, charlie):
    _, conversation = await vera_writes(website)
    console = await console_of(charlie)

    await console.send_json_to({"type": "move", "conversation": conversation, "inbox": other_inbox.pk})

    error = await console.receive_json_from()
    assert (error["code"], error["conversation"]) == ("invalid", conversation)
    assert "stays in its website's inbox" in error["message"]
    assert (await row(conversation)).inbox_id == website.pk


async def test_it_renames_a_customer_and_every_console_of_their_inboxes_hears_it(website, alice, charlie, bob):
    _, conversation = await vera_writes(website)
    customer_id = (await row(conversation)).customer_id
    alices, charlies, bobs = await console_of(alice), await console_of(charlie), await console_of(bob)

    await alices.send_json_to({"type": "customer", "customer": customer_id, "name": "Vera Nowak"})

    for console in (alices, charlies):
        updated, _ = await receive_until(console, "customer.updated")
        assert updated["customer"]["id"] == customer_id and updated["customer"]["name"] == "Vera Nowak"
    assert await bobs.receive_nothing(timeout=QUIET)


async def test_an_agent_who_cannot_see_the_customer_renames_nobody(website, bob):
    _, conversation = await vera_writes(website)
    customer_id = (await row(conversation)).customer_id
    console = await console_of(bob)

    await console.send_json_to({"type": "customer", "customer": customer_id, "name": "Someone"})

    error = await console.receive_json_from()
    assert (error["code"], error["customer"]) == ("not_found", customer_id)


async def test_a_mentioned_agent_hears_of_it_on_their_own_sockets_only(website, alice, charlie):
    _, conversation = await vera_writes(website)
    alices, charlies = await console_of(alice), await console_of(charlie)

    await alices.send_json_to(
        {"type": "note", "conversation": conversation, "body": "@charlie please look", "client_id": "note-client-1"}
    )

    mention, _ = await receive_until(charlies, "mention")
    assert (mention["conversation"]["id"], mention["entry"]["body"]) == (conversation, "@charlie please look")
    await receive_until(alices, "ack")
    frames = []
    while not await alices.receive_nothing(timeout=QUIET):
        frames.append(await alices.receive_json_from())
    assert "mention" not in [f["type"] for f in frames]


async def test_an_agent_viewing_a_conversation_is_announced_to_the_other_consoles_of_the_inbox(
    website, alice, charlie, bob
):
    vera, conversation = await vera_writes(website)
    alices, charlies, bobs = await console_of(alice), await console_of(charlie), await console_of(bob)

    await alices.send_json_to({"type": "viewing", "conversation": conversation, "typing": True})

    heard, _ = await receive_until(charlies, "agent.viewing")
    assert heard == {
        "type": "agent.viewing",
        "conversation": conversation,
        "agent": {"id": alice.pk, "name": "Alice"},
        "state": "typing",
        "ttl": 25,
    }
    await alices.send_json_to({"type": "viewing", "conversation": conversation, "left": True})
    left, _ = await receive_until(charlies, "agent.viewing")
    assert left["state"] == "left"
    # Nothing about it reaches an agent outside the inbox, nor the visitor.
    assert await bobs.receive_nothing(timeout=QUIET)
    assert await vera.receive_nothing(timeout=QUIET)


async def test_an_agent_outside_the_inbox_cannot_announce_viewing_it(website, bob):
    _, conversation = await vera_writes(website)
    console = await console_of(bob)

    await console.send_json_to({"type": "viewing", "conversation": conversation})

    error = await console.receive_json_from()
    assert (error["code"], error["conversation"]) == ("not_found", conversation)
