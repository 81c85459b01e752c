"""The visitor socket, /ws/widget/ (docs/protocols/widget-socket.md), spoken to as the widget frame does."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core import signing
from django.test import override_settings

from contact_center import history
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.models import Inbox, TimelineEntry
from tests.consumers import WAIT, close_code, deliver_outbox, hello, open_visitor, receive_until, send, visitor_socket
from widget.tokens import issue_visitor_token

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_BAD_TOKEN = 4401
CLOSE_BAD_ORIGIN = 4403


@database_sync_to_async
def stored_messages(**filters) -> list[TimelineEntry]:
    return list(TimelineEntry.objects.filter(**filters).order_by("conversation_id", "seq"))


# --- Connecting ---------------------------------------------------------------------------------------


async def test_it_refuses_a_handshake_without_a_token(website):
    assert await close_code(visitor_socket(None)) == CLOSE_BAD_TOKEN


async def test_it_refuses_a_tampered_token(website):
    token = issue_visitor_token(website.public_key, "vera")
    value, signature = token.rsplit(":", 1)
    tampered = f"{value}:{signature[:5]}{'B' if signature[5] == 'A' else 'A'}{signature[6:]}"
    assert await close_code(visitor_socket(tampered)) == CLOSE_BAD_TOKEN


async def test_it_refuses_a_token_signed_with_another_key(website):
    forged = signing.dumps({"i": website.public_key, "v": "vera"}, key="not-our-secret", salt="parley.widget.visitor")
    assert await close_code(visitor_socket(forged)) == CLOSE_BAD_TOKEN


async def test_it_refuses_a_token_for_an_unknown_inbox(website):
    assert await close_code(visitor_socket(issue_visitor_token("no-such-inbox", "vera"))) == CLOSE_BAD_TOKEN


async def test_it_refuses_a_token_for_an_inbox_that_is_not_a_widget(website):
    mailbox = await database_sync_to_async(Inbox.objects.create)(
        name="Support mail", kind=Inbox.Kind.EMAIL, allowed_origins=["https://shop.example"]
    )
    assert await close_code(visitor_socket(issue_visitor_token(mailbox.public_key, "vera"))) == CLOSE_BAD_TOKEN


async def test_it_refuses_a_foreign_origin(website):
    token = issue_visitor_token(website.public_key, "vera")
    assert await close_code(visitor_socket(token, origin="https://evil.example")) == CLOSE_BAD_ORIGIN


async def test_it_refuses_a_handshake_without_an_origin(website):
    token = issue_visitor_token(website.public_key, "vera")
    assert await close_code(visitor_socket(token, origin=None)) == CLOSE_BAD_ORIGIN


async def test_it_ignores_frames_sent_to_a_refused_socket(website):
    communicator = visitor_socket(issue_visitor_token(website.public_key, "vera"), origin="https://evil.example")
    assert await close_code(communicator) == CLOSE_BAD_ORIGIN

    await communicator.send_json_to({"type": "send", "client_id": "client-0001", "body": "Sneaking in"})

    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()  # raises if the consumer crashed
    assert await stored_messages(inbox=website) == []


async def test_it_accepts_an_allowed_origin_of_the_inbox(website):
    # A refused socket is accepted too, then closed with 4403: only an answered hello tells them apart.
    communicator = await open_visitor(website, "vera", origin="https://shop.example")
    _, ready = await hello(communicator)
    assert ready == {"type": "ready", "conversation": None}
    await communicator.disconnect()


@override_settings(PUBLIC_BASE_URL="https://parley.example")
async def test_it_accepts_parleys_own_origin(other_inbox):
    # other_inbox allows no origin of its own: only the frame served by Parley may connect.
    communicator = await open_visitor(other_inbox, "vera", origin="https://parley.example")
    _, ready = await hello(communicator)
    assert ready == {"type": "ready", "conversation": None}
    await communicator.disconnect()
    token = issue_visitor_token(other_inbox.public_key, "vera")
    assert await close_code(visitor_socket(token, origin="https://shop.example")) == CLOSE_BAD_ORIGIN


# --- hello and send -----------------------------------------------------------------------------------


async def test_it_answers_a_new_visitors_hello_with_ready_and_no_conversation(website):
    communicator = await open_visitor(website, "vera")
    replayed, ready = await hello(communicator)
    assert replayed == []
    assert ready == {"type": "ready", "conversation": None}
    await communicator.disconnect()


async def test_it_acks_a_message_with_the_stored_message(website):
    communicator = await open_visitor(website, "vera")
    await hello(communicator)
    ack = await send(communicator, "client-0001", "  Do you ship to Norway?  ")

    [stored] = await stored_messages(inbox=website)
    assert ack["client_id"] == "client-0001"
    assert ack["message"] == {
        "id": stored.pk,
        "conversation": stored.conversation_id,
        "seq": 1,
        "direction": "in",
        "author_name": None,
        "author_avatar": None,
        "body": "Do you ship to Norway?",
        "client_id": "client-0001",
        "attachments": [],
        "created_at": stored.created_at.isoformat(),
    }
    assert (stored.body, stored.public_seq, stored.direction) == ("Do you ship to Norway?", 1, "in")
    _, ready = await hello(communicator, last_seq=1)
    assert ready["conversation"] == stored.conversation_id
    await communicator.disconnect()


async def test_it_stores_a_message_resent_after_a_reconnect_once(website):
    communicator = await open_visitor(website, "vera")
    first = await send(communicator, "client-0001", "Hello?")
    await communicator.disconnect()

    communicator = await open_visitor(website, "vera")
    replayed, _ = await hello(communicator)
    again = await send(communicator, "client-0001", "Hello? (resent)")

    assert again["message"] == first["message"]
    assert replayed == [first["message"]]
    assert [m.body for m in await stored_messages(inbox=website)] == ["Hello?"]
    await communicator.disconnect()


@pytest.mark.parametrize("client_id", [None, "", "short", 12345678, "x" * 65])
async def test_it_rejects_a_send_without_a_valid_client_id(website, client_id):
    communicator = await open_visitor(website, "vera")
    frame = {"type": "send", "body": "Hello"}
    if client_id is not None:
        frame["client_id"] = client_id
    await communicator.send_json_to(frame)

    error = await communicator.receive_json_from(timeout=WAIT)
    assert (error["type"], error["code"]) == ("error", "bad_frame")
    assert await stored_messages(inbox=website) == []
    await communicator.disconnect()


async def test_it_rejects_an_empty_body_naming_the_client_id(website):
    communicator = await open_visitor(website, "vera")
    await communicator.send_json_to({"type": "send", "client_id": "client-0001", "body": "   "})

    error = await communicator.receive_json_from(timeout=WAIT)
    assert error["type"] == "error"
    assert error["code"] == "invalid"
    assert error["client_id"] == "client-0001"
    assert await stored_messages(inbox=website) == []
    await communicator.disconnect()


async def test_it_answers_an_unknown_frame_with_an_error_and_stays_open(website):
    communicator = await open_visitor(website, "vera")
    await communicator.send_json_to({"type": "shout"})
    error = await communicator.receive_json_from(timeout=WAIT)
    assert (error["type"], error["code"]) == ("error", "bad_frame")
    _, ready = await hello(communicator)
    assert ready["type"] == "ready"
    await communicator.disconnect()


@pytest.mark.parametrize(
    "frame",
    [{"text_data": "not json"}, {"text_data": "[1, 2]"}, {"bytes_data": b"\x00\x01"}, {"text_data": "x" * 70_000}],
    ids=["not-json", "not-an-object", "binary", "oversized"],
)
async def test_it_answers_an_undecodable_frame_with_an_error_and_stays_open(website, frame):
    communicator = await open_visitor(website, "vera")
    await communicator.send_to(**frame)
    error = await communicator.receive_json_from(timeout=WAIT)
    assert (error["type"], error["code"]) == ("error", "bad_frame")
    _, ready = await hello(communicator)
    assert ready["type"] == "ready"
    await communicator.disconnect()


async def test_a_new_visitors_other_tab_hears_the_first_message_and_the_reply_live(website, alice):
    first_tab = await open_visitor(website, "vera")
    second_tab = await open_visitor(website, "vera")
    await hello(first_tab)
    await hello(second_tab)

    ack = await send(first_tab, "client-0001", "Hello from tab one")
    conversation_id = ack["message"]["conversation"]
    heard = await second_tab.receive_json_from(timeout=WAIT)
    assert (heard["type"], heard["message"]["body"], heard["message"]["seq"]) == ("message", "Hello from tab one", 1)

    await database_sync_to_async(do_send_reply)(alice, conversation_id, "Hi Vera", client_id="reply-0001")
    assert await deliver_outbox() == 1
    for tab in (first_tab, second_tab):
        frame, _ = await receive_until(tab, "message")
        assert frame["message"]["body"] == "Hi Vera"
    await first_tab.disconnect()
    await second_tab.disconnect()


async def test_another_new_visitor_hears_nothing_of_the_first_message(website):
    vera = await open_visitor(website, "vera")
    victor = await open_visitor(website, "victor")
    await hello(vera)
    await hello(victor)

    await send(vera, "client-0001", "Private to Vera")

    assert await victor.receive_nothing(timeout=0.3)
    await vera.disconnect()
    await victor.disconnect()


# --- Resuming -----------------------------------------------------------------------------------------


async def write_three_and_get_a_reply(inbox, agent, visitor="vera") -> int:
    """The visitor writes three messages, leaves, and an agent's reply is delivered. Returns the conversation."""
    communicator = await open_visitor(inbox, visitor)
    await hello(communicator)
    acks = [await send(communicator, f"{visitor}-msg-{n}", f"Message {n}") for n in (1, 2, 3)]
    await communicator.disconnect()
    conversation_id = acks[0]["message"]["conversation"]
    await database_sync_to_async(do_send_reply)(agent, conversation_id, "Here is your answer", client_id="reply-0001")
    assert await deliver_outbox() == 1
    return conversation_id


async def test_it_replays_what_the_visitor_missed_in_order_then_ready(website, alice):
    conversation_id = await write_three_and_get_a_reply(website, alice)

    communicator = await open_visitor(website, "vera")
    replayed, ready = await hello(communicator, last_seq=1)

    assert [(m["seq"], m["direction"], m["body"]) for m in replayed] == [
        (2, "in", "Message 2"),
        (3, "in", "Message 3"),
        (4, "out", "Here is your answer"),
    ]
    assert replayed[2]["author_name"] == "Alice"
    assert {m["conversation"] for m in replayed} == {conversation_id}
    assert ready == {"type": "ready", "conversation": conversation_id}
    await communicator.disconnect()


async def test_it_replays_nothing_to_a_visitor_who_is_up_to_date(website, alice):
    conversation_id = await write_three_and_get_a_reply(website, alice)

    communicator = await open_visitor(website, "vera")
    replayed, ready = await hello(communicator, last_seq=4)

    assert replayed == []
    assert ready == {"type": "ready", "conversation": conversation_id}
    assert await communicator.receive_nothing()
    await communicator.disconnect()


async def test_it_reads_no_entries_for_a_hello_that_holds_them_all(website, alice, monkeypatch):
    conversation_id = await write_three_and_get_a_reply(website, alice)
    reads = []
    real = history.public_entries_after
    monkeypatch.setattr(history, "public_entries_after", lambda *args: reads.append(args) or real(*args))

    up_to_date = await open_visitor(website, "vera")
    assert await hello(up_to_date, last_seq=4) == ([], {"type": "ready", "conversation": conversation_id})
    behind = await open_visitor(website, "vera")
    replayed, _ = await hello(behind, last_seq=3)

    assert reads == [(conversation_id, 3)]  # the conversation's last public seq said there was nothing after 4
    assert [m["seq"] for m in replayed] == [4]
    await up_to_date.disconnect()
    await behind.disconnect()


async def test_it_fills_a_gap_on_sync_and_ends_with_synced_not_ready(website, alice):
    conversation_id = await write_three_and_get_a_reply(website, alice)

    communicator = await open_visitor(website, "vera")
    await communicator.send_json_to({"type": "sync", "after": 2})
    synced, replayed = await receive_until(communicator, "synced")

    assert [f["message"]["seq"] for f in replayed] == [3, 4]
    # Not ready: a client resends its pending messages after ready, and a gap is no reason to.
    assert synced == {"type": "synced", "conversation": conversation_id, "seq": 4}
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


# --- What a visitor receives, and what never ----------------------------------------------------------


async def test_it_never_sends_a_note_to_the_visitor(website, alice):
    communicator = await open_visitor(website, "vera")
    ack = await send(communicator, "vera-msg-1", "Is anyone there?")
    conversation_id = ack["message"]["conversation"]

    await database_sync_to_async(do_add_note)(alice, conversation_id, "VIP: be nice", client_id="note-0001")
    assert await communicator.receive_nothing(timeout=0.3)

    await database_sync_to_async(do_send_reply)(alice, conversation_id, "Yes, Alice here", client_id="reply-0001")
    await deliver_outbox()
    # The next frame is the reply, with the next public seq: the note took no visitor seq.
    live = await communicator.receive_json_from(timeout=WAIT)
    assert live["type"] == "message"
    assert (live["message"]["seq"], live["message"]["body"]) == (2, "Yes, Alice here")
    await communicator.disconnect()

    communicator = await open_visitor(website, "vera")
    replayed, _ = await hello(communicator)
    assert [(m["seq"], m["body"]) for m in replayed] == [(1, "Is anyone there?"), (2, "Yes, Alice here")]
    await communicator.disconnect()
    # The agents' numbering counts the note; the visitor's does not.
    assert [(e.seq, e.public_seq, e.kind) for e in await stored_messages(conversation_id=conversation_id)] == [
        (1, 1, "message"),
        (2, None, "note"),
        (3, 2, "message"),
    ]


async def test_it_keeps_each_visitor_to_their_own_conversation(website, alice):
    vera = await open_visitor(website, "vera")
    victor = await open_visitor(website, "victor")
    vera_conversation = (await send(vera, "vera-msg-1", "Vera here"))["message"]["conversation"]
    victor_conversation = (await send(victor, "victor-msg-1", "Victor here"))["message"]["conversation"]
    assert vera_conversation != victor_conversation

    await send(vera, "vera-msg-2", "Vera again")
    await database_sync_to_async(do_send_reply)(alice, vera_conversation, "For Vera only", client_id="reply-0001")
    await deliver_outbox()

    # Vera gets the reply (her own message came back as its ack, not again live) ...
    live, _ = await receive_until(vera, "message")
    assert live["message"]["body"] == "For Vera only"
    # ... Victor nothing of it, live or on replay.
    assert await victor.receive_nothing(timeout=0.3)
    replayed, ready = await hello(victor)
    assert [m["body"] for m in replayed] == ["Victor here"]
    assert ready["conversation"] == victor_conversation
    await victor.send_json_to({"type": "send", "client_id": "victor-msg-2", "body": "Victor again"})
    ack, before = await receive_until(victor, "ack")
    assert before == []
    assert ack["message"]["body"] == "Victor again"
    assert await victor.receive_nothing(timeout=0.3)  # the ack is the one copy of one's own message
    await vera.disconnect()
    await victor.disconnect()
