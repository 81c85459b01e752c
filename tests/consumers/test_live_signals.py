"""Live signals on both sockets: typing both ways, read receipts, resolving and the satisfaction survey.

Protocols: docs/protocols/widget-socket.md and console-socket.md, "Live signals" and "CSAT" frames.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from contact_center.actions.conversations import do_change_status
from contact_center.models import Conversation, SatisfactionRating
from tests.consumers import hello, open_agent, open_visitor, receive_until, send

pytestmark = pytest.mark.django_db(transaction=True)

# How long "nothing arrives" is watched for; events on the in-memory layer arrive in microseconds.
QUIET = 0.3


async def vera_writes(website, body="Hello") -> tuple:
    """Vera's socket, said hello, with her first message stored; returns (socket, conversation id)."""
    vera = await open_visitor(website, "vera")
    await hello(vera)
    ack = await send(vera, f"vera-{body[:20]}-client", body)
    return vera, ack["message"]["conversation"]


async def console_of(agent):
    socket = await open_agent(agent)
    await socket.send_json_to({"type": "hello", "resume": {}})
    await receive_until(socket, "ready")
    return socket


@database_sync_to_async
def conversation_row(conversation_id: int) -> Conversation:
    return Conversation.objects.get(pk=conversation_id)


@database_sync_to_async
def resolve(agent, conversation_id: int) -> Conversation:
    return do_change_status(agent, conversation_id, "resolved")


@database_sync_to_async
def ratings() -> list[tuple[int, str]]:
    return list(SatisfactionRating.objects.values_list("rating", "comment"))


# --- Typing -------------------------------------------------------------------------------------------


async def test_it_shows_the_visitor_which_agent_is_typing_and_nobody_else(website, alice):
    vera, conversation = await vera_writes(website)
    victor = await open_visitor(website, "victor")
    await hello(victor)
    await send(victor, "victor-client-1", "Me too")
    console = await console_of(alice)

    await console.send_json_to({"type": "typing", "conversation": conversation, "typing": True})
    typing, _ = await receive_until(vera, "typing")
    assert typing == {"type": "typing", "conversation": conversation, "typing": True, "author_name": "Alice"}
    await console.send_json_to({"type": "typing", "conversation": conversation, "typing": False})
    stopped, _ = await receive_until(vera, "typing")
    assert stopped["typing"] is False

    assert await victor.receive_nothing(timeout=QUIET)
    assert await console.receive_nothing(timeout=QUIET)


async def test_it_answers_typing_for_a_conversation_the_agent_may_not_see_with_not_found(website, bob):
    vera, conversation = await vera_writes(website)
    console = await console_of(bob)

    await console.send_json_to({"type": "typing", "conversation": conversation, "typing": True})
    error = await console.receive_json_from()
    assert error == {"type": "error", "code": "not_found", "conversation": conversation}
    assert await vera.receive_nothing(timeout=QUIET)


async def test_it_shows_agents_of_the_inbox_what_the_visitor_is_typing(website, alice, bob, charlie):
    vera, conversation = await vera_writes(website)
    consoles = [await console_of(agent) for agent in (alice, bob, charlie)]
    alices, bobs, charlies = consoles

    await vera.send_json_to({"type": "typing", "preview": "Also, do you ship to " + "x" * 600})
    for console in (alices, charlies):
        preview, _ = await receive_until(console, "visitor.typing")
        assert preview["conversation"] == conversation
        assert preview["preview"].startswith("Also, do you ship to ") and len(preview["preview"]) == 500
    assert await bobs.receive_nothing(timeout=QUIET)
    # Nothing to answer on the visitor's side, and nothing stored.
    assert await vera.receive_nothing(timeout=QUIET)
    assert (await conversation_row(conversation)).last_seq == 1


async def test_it_forwards_at_most_one_preview_a_second_from_a_client_that_does_not_throttle(website, alice):
    vera, _ = await vera_writes(website)
    console = await console_of(alice)

    for text in ("D", "Do", "Do y", "Do you", "Do you ship"):
        await vera.send_json_to({"type": "typing", "preview": text})
    first, _ = await receive_until(console, "visitor.typing")
    assert first["preview"] == "D"
    assert await console.receive_nothing(timeout=QUIET)

    # Clearing the composer always reaches the agents, however soon it follows.
    await vera.send_json_to({"type": "typing", "preview": ""})
    cleared, _ = await receive_until(console, "visitor.typing")
    assert cleared["preview"] == ""


async def test_it_ignores_the_typing_of_a_visitor_with_no_conversation_yet(website, alice):
    console = await console_of(alice)
    newcomer = await open_visitor(website, "nina")
    await hello(newcomer)

    await newcomer.send_json_to({"type": "typing", "preview": "Hi"})
    assert await newcomer.receive_nothing(timeout=QUIET)
    assert await console.receive_nothing(timeout=QUIET)


async def test_it_rejects_a_preview_that_is_not_text(website):
    vera, _ = await vera_writes(website)
    await vera.send_json_to({"type": "typing", "preview": {"html": "<b>"}})
    error = await vera.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "bad_frame")


# --- Read receipts ------------------------------------------------------------------------------------


async def test_it_tells_the_visitor_how_far_the_agent_read_and_never_goes_back(website, alice):
    vera, conversation = await vera_writes(website, "First")
    await send(vera, "vera-second-client", "Second")
    console = await console_of(alice)

    await console.send_json_to({"type": "read", "conversation": conversation, "seq": 2})
    read, _ = await receive_until(vera, "read")
    assert read == {"type": "read", "conversation": conversation, "seq": 2}
    assert (await conversation_row(conversation)).agent_read_seq == 2

    await console.send_json_to({"type": "read", "conversation": conversation, "seq": 1})
    assert await vera.receive_nothing(timeout=QUIET)
    assert (await conversation_row(conversation)).agent_read_seq == 2


async def test_it_sends_the_read_position_to_a_resuming_widget_before_ready(website, alice):
    vera, conversation = await vera_writes(website)
    console = await console_of(alice)
    await console.send_json_to({"type": "read", "conversation": conversation, "seq": 1})
    await receive_until(vera, "read")
    await vera.disconnect()

    again = await open_visitor(website, "vera")
    await again.send_json_to({"type": "hello", "last_seq": 1})
    ready, before = await receive_until(again, "ready")
    assert before == [{"type": "read", "conversation": conversation, "seq": 1}]
    assert ready["conversation"] == conversation


async def test_it_refuses_a_read_receipt_from_an_agent_outside_the_inbox(website, bob):
    vera, conversation = await vera_writes(website)
    console = await console_of(bob)

    await console.send_json_to({"type": "read", "conversation": conversation, "seq": 1})
    assert (await console.receive_json_from())["code"] == "not_found"
    assert await vera.receive_nothing(timeout=QUIET)
    assert (await conversation_row(conversation)).agent_read_seq == 0


# --- Status and the survey ----------------------------------------------------------------------------


async def test_it_resolves_from_the_console_and_asks_only_that_visitor_to_rate(website, alice):
    vera, conversation = await vera_writes(website)
    victor = await open_visitor(website, "victor")
    await hello(victor)
    await send(victor, "victor-client-1", "Me too")
    console = await console_of(alice)

    await console.send_json_to({"type": "status", "conversation": conversation, "status": "resolved"})
    updated, before = await receive_until(console, "conversation.updated")
    assert updated["conversation"]["status"] == "resolved"
    activity = (before or [await console.receive_json_from()])[0]
    assert activity["type"] == "entry.created"
    assert activity["entry"]["payload"] == {"event": "status", "from": "open", "to": "resolved"}
    assert activity["conversation"]["status"] == "resolved"

    request, skipped = await receive_until(vera, "csat.request")
    assert skipped == []  # the activity entry itself is internal
    row = await conversation_row(conversation)
    assert request == {"type": "csat.request", "conversation": conversation, "resolved_at": row.resolved_at.isoformat()}
    assert await victor.receive_nothing(timeout=QUIET)


async def test_it_answers_an_unknown_status_with_invalid(website, alice):
    _, conversation = await vera_writes(website)
    console = await console_of(alice)
    await console.send_json_to({"type": "status", "conversation": conversation, "status": "closed"})
    error = await console.receive_json_from()
    assert (error["code"], error["conversation"]) == ("invalid", conversation)
    assert (await conversation_row(conversation)).status == "open"


async def test_it_asks_a_visitor_who_was_away_when_they_come_back(website, alice):
    vera, conversation = await vera_writes(website)
    await vera.disconnect()
    await resolve(alice, conversation)

    again = await open_visitor(website, "vera")
    await again.send_json_to({"type": "hello", "last_seq": 1})
    _, before = await receive_until(again, "ready")
    assert [frame["type"] for frame in before] == ["csat.request"]


async def test_it_stores_a_rating_once_and_shows_it_to_agents(website, alice):
    vera, conversation = await vera_writes(website)
    await resolve(alice, conversation)
    await receive_until(vera, "csat.request")
    console = await console_of(alice)

    frame = {"type": "csat", "conversation": conversation, "rating": 5, "comment": "Lovely"}
    await vera.send_json_to(frame)
    answered, _ = await receive_until(vera, "csat.answered")
    assert answered == {"type": "csat.answered", "conversation": conversation, "rating": 5}
    shown, _ = await receive_until(console, "entry.created")
    assert shown["entry"]["body"] == "Rated 5/5: Lovely"
    assert shown["entry"]["payload"]["rating"] == 5

    await vera.send_json_to({**frame, "rating": 1})
    again, _ = await receive_until(vera, "csat.answered")
    assert again["rating"] == 5
    assert await ratings() == [(5, "Lovely")]
    assert await console.receive_nothing(timeout=QUIET)

    # Answered: a resuming widget is not asked again.
    await vera.send_json_to({"type": "hello", "last_seq": 1})
    _, before = await receive_until(vera, "ready")
    assert [f["type"] for f in before if f["type"] != "csat.answered"] == []


async def test_it_refuses_a_rating_before_resolution(website):
    vera, conversation = await vera_writes(website)
    await vera.send_json_to({"type": "csat", "conversation": conversation, "rating": 5})
    error = await vera.receive_json_from()
    assert (error["type"], error["code"], error["conversation"]) == ("error", "invalid", conversation)
    assert await ratings() == []


async def test_it_refuses_a_rating_of_another_visitors_conversation(website, alice):
    vera, conversation = await vera_writes(website)
    await resolve(alice, conversation)
    victor = await open_visitor(website, "victor")
    await hello(victor)
    await send(victor, "victor-client-1", "Me too")

    await victor.send_json_to({"type": "csat", "conversation": conversation, "rating": 1})
    error, _ = await receive_until(victor, "error")
    assert (error["code"], error["conversation"]) == ("not_found", conversation)
    assert await ratings() == []


async def test_it_refuses_a_rating_from_a_visitor_who_never_wrote(website, alice):
    _, conversation = await vera_writes(website)
    await resolve(alice, conversation)
    stranger = await open_visitor(website, "nina")
    await hello(stranger)

    await stranger.send_json_to({"type": "csat", "conversation": conversation, "rating": 1})
    assert (await stranger.receive_json_from())["code"] == "not_found"
    assert await ratings() == []


@pytest.mark.parametrize("seq", ["2", 0, -1, True, None])
async def test_it_rejects_a_read_receipt_without_a_positive_integer_seq(website, alice, seq):
    vera, conversation = await vera_writes(website)
    console = await console_of(alice)

    await console.send_json_to({"type": "read", "conversation": conversation, "seq": seq})
    error = await console.receive_json_from()
    assert (error["code"], error["conversation"]) == ("bad_frame", conversation)
    assert (await conversation_row(conversation)).agent_read_seq == 0


# --- The visitor's read receipts: agents see their replies "read" --------------------------------


@database_sync_to_async
def agent_replies(agent, conversation_id: int, body: str) -> int:
    from contact_center.actions.replies import do_send_reply

    return do_send_reply(agent, conversation_id, body).pk


@database_sync_to_async
def status_of(entry_id: int) -> str:
    from contact_center.models import TimelineEntry

    return TimelineEntry.objects.get(pk=entry_id).delivery_status


async def test_the_visitor_reports_what_they_saw_and_every_console_shows_the_reply_read(website, alice, charlie):
    vera, conversation = await vera_writes(website)
    first = await agent_replies(alice, conversation, "Hi Vera")
    second = await agent_replies(alice, conversation, "How can I help?")
    console = await console_of(charlie)

    # Public seqs: 1 is Vera's message, 2 and 3 the replies. She has seen up to the first reply.
    await vera.send_json_to({"type": "seen", "conversation": conversation, "seq": 2})

    updated, _ = await receive_until(console, "entry.updated")
    assert (updated["entry"]["id"], updated["entry"]["delivery_status"]) == (first, "read")
    assert (await status_of(first), await status_of(second)) == ("read", "queued")
    assert await console.receive_nothing(timeout=QUIET)

    # Seeing the same again changes nothing, and says nothing.
    await vera.send_json_to({"type": "seen", "conversation": conversation, "seq": 2})
    assert await console.receive_nothing(timeout=QUIET)


async def test_a_receipt_for_another_conversation_changes_nothing(website, alice, other_inbox):
    vera, conversation = await vera_writes(website)
    reply = await agent_replies(alice, conversation, "Hi Vera")

    await vera.send_json_to({"type": "seen", "conversation": conversation + 1000, "seq": 5})
    await vera.send_json_to({"type": "seen", "conversation": conversation, "seq": "all"})

    error = await vera.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "bad_frame")
    assert await status_of(reply) == "queued"
