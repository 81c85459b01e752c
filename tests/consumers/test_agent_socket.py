"""The console socket, /ws/console/ (docs/protocols/console-socket.md), spoken to as console.js does."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_add_note
from contact_center.consumers import AgentConsumer
from contact_center.models import Agent, Delivery, TimelineEntry
from tests.conftest import visitor_envelope
from tests.consumers import (
    WAIT,
    close_code,
    console_socket,
    open_agent,
    open_visitor,
    receive_until,
    send,
    session_cookie,
)

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_UNAUTHENTICATED = 4401


@database_sync_to_async
def visitor_writes(inbox, visitor: str, *bodies: str) -> int:
    """``visitor`` writes ``bodies`` to ``inbox`` (through the inbound action); returns the conversation."""
    entry = None
    for body in bodies:
        envelope = visitor_envelope(inbox, visitor=visitor, body=body, external_id=uuid.uuid4().hex)
        entry = do_receive_inbound(envelope).entry
    return entry.conversation_id


@database_sync_to_async
def stored(**filters) -> list[TimelineEntry]:
    return list(TimelineEntry.objects.filter(**filters).order_by("seq"))


async def receive_frames(communicator, count: int) -> dict[str, dict]:
    """The next ``count`` frames by type, whatever their order (an ack and its live event race)."""
    frames = [await communicator.receive_json_from(timeout=WAIT) for _ in range(count)]
    by_type = {frame["type"]: frame for frame in frames}
    assert len(by_type) == count, frames
    return by_type


async def say_hello(communicator, resume: dict | None = None) -> tuple[list[dict], dict]:
    await communicator.send_json_to({"type": "hello", "resume": resume or {}})
    ready, before = await receive_until(communicator, "ready")
    return before, ready


# --- Connecting ---------------------------------------------------------------------------------------


async def test_it_closes_an_anonymous_socket_with_4401(alice):
    assert await close_code(console_socket(cookie=None)) == CLOSE_UNAUTHENTICATED


async def test_it_closes_a_socket_with_an_unknown_session_with_4401(alice):
    assert await close_code(console_socket(cookie="sessionid=not-a-session")) == CLOSE_UNAUTHENTICATED


async def test_it_closes_the_socket_of_a_deactivated_agent_with_4401(alice):
    cookie = await session_cookie(alice)
    await database_sync_to_async(Agent.objects.filter(pk=alice.pk).update)(is_active=False)
    assert await close_code(console_socket(cookie)) == CLOSE_UNAUTHENTICATED


async def test_it_ignores_frames_sent_to_a_refused_socket(website, alice):
    conversation_id = await visitor_writes(website, "vera", "Hello")
    communicator = console_socket(cookie=None)
    assert await close_code(communicator) == CLOSE_UNAUTHENTICATED

    await communicator.send_json_to({"type": "hello", "resume": {str(conversation_id): 0}})
    await communicator.send_json_to(
        {"type": "reply", "conversation": conversation_id, "body": "Sneaking in", "client_id": "reply-0001"}
    )

    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()  # raises if the consumer crashed
    assert len(await stored(conversation_id=conversation_id)) == 1


async def test_it_accepts_a_logged_in_agent_from_a_same_host_origin(alice):
    communicator = await open_agent(alice, origin="http://127.0.0.1:8000")
    messages, ready = await say_hello(communicator)
    assert (messages, ready) == ([], {"type": "ready"})
    await communicator.disconnect()


@pytest.mark.parametrize("origin", ["https://evil.example", None])
async def test_it_refuses_a_logged_in_agent_from_a_foreign_or_missing_origin(alice, origin):
    # The session cookie rides along with any site's handshake: the Origin is what tells them apart.
    connected, _ = await console_socket(await session_cookie(alice), origin=origin).connect(timeout=WAIT)
    assert not connected


# --- Live events --------------------------------------------------------------------------------------


async def test_it_tells_the_agents_who_may_see_an_inbox_of_a_new_message(website, other_inbox, alice, bob, charlie):
    alice_socket, bob_socket, charlie_socket = [await open_agent(agent) for agent in (alice, bob, charlie)]

    vera = await open_visitor(website, "vera")
    ack = await send(vera, "vera-msg-1", "Do you ship to Norway?")

    for agent_socket in (alice_socket, charlie_socket):
        event = await agent_socket.receive_json_from(timeout=WAIT)
        assert event["type"] == "entry.created"
        assert event["conversation"]["id"] == ack["message"]["conversation"]
        assert event["conversation"]["inbox"]["id"] == website.pk
        assert event["entry"]["id"] == ack["message"]["id"]
        assert (event["entry"]["seq"], event["entry"]["direction"]) == (1, "in")
        assert event["entry"]["body"] == "Do you ship to Norway?"
        assert event["entry"]["payload"]["client_id"] == "vera-msg-1"
    assert await bob_socket.receive_nothing(timeout=0.3)
    # What Bob hears next is about his own inbox: nothing of the website's came before it.
    other_conversation = await visitor_writes(other_inbox, "victor", "Hi partner")
    event = await bob_socket.receive_json_from(timeout=WAIT)
    assert (event["type"], event["conversation"]["id"]) == ("entry.created", other_conversation)
    assert event["conversation"]["inbox"]["id"] == other_inbox.pk

    for communicator in (vera, alice_socket, bob_socket, charlie_socket):
        await communicator.disconnect()


# --- Writing ------------------------------------------------------------------------------------------


async def test_it_acks_a_reply_with_the_queued_entry_and_publishes_it(website, alice):
    conversation_id = await visitor_writes(website, "vera", "Where is my order?")
    communicator = await open_agent(alice)
    other_tab = await open_agent(alice)

    await communicator.send_json_to(
        {"type": "reply", "conversation": conversation_id, "body": "On its way", "client_id": "reply-0001"}
    )
    ack = await communicator.receive_json_from(timeout=WAIT)
    # The writing socket holds the entry from its ack: of the live event it gets only the summary.
    echo = await communicator.receive_json_from(timeout=WAIT)
    event = await other_tab.receive_json_from(timeout=WAIT)

    assert (ack["type"], echo["type"], event["type"]) == ("ack", "conversation.updated", "entry.created")
    assert echo["conversation"] == event["conversation"]
    assert ack["client_id"] == "reply-0001"
    entry = ack["entry"]
    assert entry["conversation"] == conversation_id
    assert (entry["seq"], entry["kind"], entry["direction"]) == (2, "message", "out")
    assert entry["delivery_status"] == "queued"
    assert entry["author"] == {"id": alice.pk, "name": "Alice"}
    assert entry["body"] == "On its way"
    assert event["entry"] == entry
    assert event["conversation"]["id"] == conversation_id
    [reply] = await stored(conversation_id=conversation_id, direction="out")
    assert reply.pk == entry["id"]
    await communicator.disconnect()
    await other_tab.disconnect()


async def test_it_stores_a_resent_reply_once(website, alice):
    conversation_id = await visitor_writes(website, "vera", "Where is my order?")
    communicator = await open_agent(alice)
    frame = {"type": "reply", "conversation": conversation_id, "body": "On its way", "client_id": "reply-0001"}
    await communicator.send_json_to(frame)
    first = (await receive_frames(communicator, 2))["ack"]
    await communicator.disconnect()

    communicator = await open_agent(alice)
    await communicator.send_json_to({**frame, "body": "On its way (resent)"})
    again = await communicator.receive_json_from(timeout=WAIT)

    assert again["type"] == "ack"
    assert again["entry"] == first["entry"]
    assert [e.body for e in await stored(conversation_id=conversation_id, direction="out")] == ["On its way"]
    assert await database_sync_to_async(Delivery.objects.count)() == 1
    assert await communicator.receive_nothing(timeout=0.3)  # a resend publishes nothing
    await communicator.disconnect()


async def test_it_refuses_a_reply_to_a_conversation_the_agent_may_not_see(website, alice, bob):
    conversation_id = await visitor_writes(website, "vera", "Where is my order?")
    communicator = await open_agent(bob)

    await communicator.send_json_to(
        {"type": "reply", "conversation": conversation_id, "body": "Hi from Bob", "client_id": "reply-0001"}
    )
    error = await communicator.receive_json_from(timeout=WAIT)

    assert error == {"type": "error", "code": "not_found", "client_id": "reply-0001"}
    assert [e.seq for e in await stored(conversation_id=conversation_id)] == [1]
    assert await database_sync_to_async(Delivery.objects.count)() == 0
    await communicator.disconnect()


async def test_it_acks_a_note_as_an_internal_entry(website, alice):
    conversation_id = await visitor_writes(website, "vera", "Where is my order?")
    communicator = await open_agent(alice)

    await communicator.send_json_to(
        {"type": "note", "conversation": conversation_id, "body": "Second ask this week", "client_id": "note-0001"}
    )
    frames = await receive_frames(communicator, 2)

    entry = frames["ack"]["entry"]
    assert (entry["kind"], entry["direction"], entry["delivery_status"]) == ("note", "internal", "")
    assert entry["seq"] == 2
    assert frames["conversation.updated"]["conversation"]["id"] == conversation_id  # not the entry again
    assert await database_sync_to_async(Delivery.objects.count)() == 0
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "reply", "body": "Hi", "client_id": "short"}, "bad_frame"),
        ({"type": "reply", "body": "Hi"}, "bad_frame"),
        ({"type": "reply", "body": "   ", "client_id": "reply-0001"}, "invalid"),
        ({"type": "shout"}, "bad_frame"),
    ],
)
async def test_it_answers_a_bad_write_with_an_error_and_stores_nothing(website, alice, frame, code):
    conversation_id = await visitor_writes(website, "vera", "Where is my order?")
    communicator = await open_agent(alice)

    await communicator.send_json_to({"conversation": conversation_id, **frame})
    error = await communicator.receive_json_from(timeout=WAIT)

    assert (error["type"], error["code"]) == ("error", code)
    assert len(await stored(conversation_id=conversation_id)) == 1
    await communicator.disconnect()


@pytest.mark.parametrize(
    "frame",
    [{"text_data": "{oops"}, {"text_data": '"hello"'}, {"bytes_data": b"\xff"}],
    ids=["not-json", "string", "binary"],
)
async def test_it_answers_an_undecodable_frame_with_an_error_and_stays_open(alice, frame):
    communicator = await open_agent(alice)
    await communicator.send_to(**frame)
    error = await communicator.receive_json_from(timeout=WAIT)
    assert (error["type"], error["code"]) == ("error", "bad_frame")
    await communicator.send_json_to({"type": "hello"})
    assert (await communicator.receive_json_from(timeout=WAIT))["type"] == "ready"
    await communicator.disconnect()


# --- Resuming -----------------------------------------------------------------------------------------


async def test_it_replays_what_the_agent_missed_in_seq_order_then_ready(website, alice, charlie):
    communicator = await open_agent(alice)
    conversation_id = await visitor_writes(website, "vera", "First")
    seen = await communicator.receive_json_from(timeout=WAIT)
    assert seen["entry"]["seq"] == 1
    await communicator.disconnect()

    # While Alice is away: two more messages and a colleague's note.
    await visitor_writes(website, "vera", "Second", "Third")
    await database_sync_to_async(do_add_note)(charlie, conversation_id, "Looking into it", client_id="note-0001")

    communicator = await open_agent(alice)
    replayed, ready = await say_hello(communicator, {str(conversation_id): 1})

    assert [(f["type"], f["entry"]["seq"], f["entry"]["body"]) for f in replayed] == [
        ("entry.created", 2, "Second"),
        ("entry.created", 3, "Third"),
        ("entry.created", 4, "Looking into it"),
    ]
    assert {f["conversation"]["id"] for f in replayed} == {conversation_id}
    assert ready == {"type": "ready"}
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_it_refuses_to_replay_a_conversation_the_agent_may_not_see(website, alice, bob):
    conversation_id = await visitor_writes(website, "vera", "Private to the website team")
    communicator = await open_agent(bob)

    replayed, ready = await say_hello(communicator, {str(conversation_id): 0, "999999": 0})

    assert replayed == [
        {"type": "error", "code": "not_found", "conversation": conversation_id},
        {"type": "error", "code": "not_found", "conversation": 999999},
    ]
    assert ready == {"type": "ready"}
    await communicator.disconnect()


async def test_it_fills_a_gap_on_sync_and_ends_with_synced_not_ready(website, alice):
    conversation_id = await visitor_writes(website, "vera", "First", "Second", "Third")
    communicator = await open_agent(alice)

    await communicator.send_json_to({"type": "sync", "conversation": conversation_id, "after": 1})
    frames = [await communicator.receive_json_from(timeout=WAIT) for _ in range(2)]
    synced = await communicator.receive_json_from(timeout=WAIT)

    assert [(f["type"], f["entry"]["seq"], f["entry"]["body"]) for f in frames] == [
        ("entry.created", 2, "Second"),
        ("entry.created", 3, "Third"),
    ]
    assert synced == {"type": "synced", "conversation": conversation_id, "seq": 3}
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_it_refuses_to_sync_a_conversation_the_agent_may_not_see(website, alice, bob):
    conversation_id = await visitor_writes(website, "vera", "Private to the website team")
    communicator = await open_agent(bob)

    await communicator.send_json_to({"type": "sync", "conversation": conversation_id, "after": 0})

    assert await communicator.receive_json_from(timeout=WAIT) == {
        "type": "error",
        "code": "not_found",
        "conversation": conversation_id,
    }
    # Every sync ends with synced, so a client's one sync in flight is over.
    assert await communicator.receive_json_from(timeout=WAIT) == {
        "type": "synced",
        "conversation": conversation_id,
        "seq": None,
    }
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


# --- Long-lived sockets -------------------------------------------------------------------------------

# The embedded layer forgetting memberships after 1 s, standing in for the default 24 h so the test takes seconds.
FORGETFUL_LAYER = {
    "default": {"BACKEND": "contact_center.channel_layer.InProcessChannelLayer", "CONFIG": {"group_expiry": 1}}
}


@pytest.mark.parametrize(("renew_seconds", "hears_it"), [(0.3, True), (3600, False)], ids=["renewing", "control"])
async def test_it_keeps_hearing_events_after_the_layer_would_have_expired_its_groups(
    website, alice, settings, monkeypatch, renew_seconds, hears_it
):
    # The control run (no renewal within the test) shows the expiry is real, so the renewing run's
    # success is the renewal's doing.
    settings.CHANNEL_LAYERS = FORGETFUL_LAYER
    monkeypatch.setattr(AgentConsumer, "group_renew_seconds", renew_seconds)
    communicator = await open_agent(alice)
    await asyncio.sleep(2.6)

    await visitor_writes(website, "vera", "Still there?")

    if hears_it:
        event = await communicator.receive_json_from(timeout=WAIT)
        assert event["entry"]["body"] == "Still there?"
    else:
        assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
