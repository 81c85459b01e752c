"""Hostile frames on both sockets (issue 10): each is answered with bad_frame (or the error the protocol
names), the socket stays open, a later valid frame still works, and nothing is logged as an error.

Each case here crashed the consumer before the schema layer (contact_center/lib/schema.py): a 1011
close and a traceback. Protocols: docs/protocols/widget-socket.md and console-socket.md, "Frames".
"""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async

from contact_center.actions.inbound import do_receive_inbound
from contact_center.lib.sockets import MAX_FRAME_CHARS
from contact_center.models import TimelineEntry
from tests.conftest import visitor_envelope
from tests.consumers import WAIT, hello, open_agent, open_visitor, receive_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_error_logged")]

CLIENT_ID = "hostile-0001"
# Under the frame size limit, so it reaches the parser.
NESTED = "[" * 50_000


@database_sync_to_async
def visitor_writes(inbox, visitor: str, body: str) -> int:
    envelope = visitor_envelope(inbox, visitor=visitor, body=body, external_id=uuid.uuid4().hex)
    return do_receive_inbound(envelope).entry.conversation_id


@database_sync_to_async
def stored_bodies(inbox) -> list[str]:
    return list(TimelineEntry.objects.filter(inbox=inbox).values_list("body", flat=True))


async def answer(socket, text: str) -> dict:
    await socket.send_to(text_data=text)
    return await socket.receive_json_from(timeout=WAIT)


def frame(**fields) -> str:
    return json.dumps(fields)


# --- The visitor socket ----------------------------------------------------------------------------------

VISITOR_CASES = {
    # RecursionError in json.loads.
    "deeply nested": (NESTED, {}),
    "deeply nested inside a send": ('{"type": "send", "client_id": "hostile-0001", "body": ' + NESTED, {}),
    # 1e999 parsed as an infinity, then int(inf): OverflowError.
    "an infinite last_seq": ('{"type": "hello", "last_seq": 1e999}', {}),
    "Infinity as a seq": ('{"type": "seen", "conversation": 1, "seq": Infinity}', {}),
    # Wrong JSON types: AttributeError / TypeError in the handlers.
    "a list as the type": (frame(type=["send"]), {}),
    "an object as the type": (frame(type={"a": 1}), {}),
    "a list as the body": (frame(type="send", client_id=CLIENT_ID, body=["Hi"]), {"client_id": CLIENT_ID}),
    "an object as the preview": (frame(type="typing", preview={"a": 1}), {}),
    "a list as user_id": (frame(type="identify", user_id=[1]), {"for": "identify"}),
    # Integers a database column cannot hold: OverflowError in SQLite.
    "an attachment id of 2^63": (
        frame(type="send", client_id=CLIENT_ID, body="Hi", attachments=[2**63]),
        {"client_id": CLIENT_ID},
    ),
    "a seen seq of 2^64": (frame(type="seen", conversation=1, seq=2**64 - 1), {}),
    # A NUL byte: PostgreSQL refuses it.
    "a NUL in the body": (frame(type="send", client_id=CLIENT_ID, body="Hi\x00there"), {"client_id": CLIENT_ID}),
    "a NUL in a page": (frame(type="page", page={"url": "https://shop.example/\x00", "title": ""}), {}),
    "a NUL in an attribute": (frame(type="attributes", attributes={"plan": "pro\x00"}), {"for": "attributes"}),
    "a frame over the size limit": ("x" * (MAX_FRAME_CHARS + 1), {}),
}


@pytest.mark.parametrize("text", [case[0] for case in VISITOR_CASES.values()], ids=list(VISITOR_CASES))
async def test_it_answers_a_hostile_visitor_frame_with_bad_frame_and_stays_open(website, text):
    socket = await open_visitor(website, "vera")
    echoed = next(extra for raw, extra in VISITOR_CASES.values() if raw == text)

    error = await answer(socket, text)

    assert (error["type"], error["code"]) == ("error", "bad_frame")
    assert isinstance(error["message"], str) and error["message"]
    assert {key: error[key] for key in ("client_id", "for") if key in error} == echoed
    assert await stored_bodies(website) == []
    _, ready = await hello(socket)
    assert ready["type"] == "ready"


async def test_it_still_stores_a_valid_send_after_a_hostile_one(website):
    socket = await open_visitor(website, "vera")
    await answer(socket, frame(type="send", client_id=CLIENT_ID, body="Hi\x00"))

    await socket.send_json_to({"type": "send", "client_id": "valid-00001", "body": "Hi"})
    ack, _ = await receive_until(socket, "ack")

    assert ack["message"]["body"] == "Hi"
    assert await stored_bodies(website) == ["Hi"]


async def test_it_reads_a_missing_or_negative_last_seq_as_zero(website):
    await visitor_writes(website, "vera", "Hello?")
    socket = await open_visitor(website, "vera")

    await socket.send_to(text_data=frame(type="hello", last_seq=-(2**63)))
    ready, replayed = await receive_until(socket, "ready")

    assert [item["message"]["body"] for item in replayed if item["type"] == "message"] == ["Hello?"]


# --- The console socket ----------------------------------------------------------------------------------


def console_cases(conversation: int) -> dict[str, tuple[str, dict]]:
    return {
        "deeply nested": (NESTED, {}),
        "an infinite after": ('{"type": "sync", "conversation": ' + str(conversation) + ', "after": 1e999}', {}),
        "an infinite resume seq": ('{"type": "hello", "resume": {"' + str(conversation) + '": 1e999}}', {}),
        "Infinity as a conversation": ('{"type": "typing", "conversation": Infinity, "typing": true}', {}),
        "a list as the type": (frame(type=["reply"]), {}),
        "a list as the body": (
            frame(type="reply", conversation=conversation, body=["Hi"], client_id=CLIENT_ID),
            {"client_id": CLIENT_ID},
        ),
        "a list as the conversation": (
            frame(type="note", conversation=[conversation], body="Hi", client_id=CLIENT_ID),
            {"client_id": CLIENT_ID},
        ),
        "a list as the resume": (frame(type="hello", resume=[conversation]), {}),
        "a label id of 2^63": (frame(type="labels", conversation=conversation, labels=[2**63]), {}),
        "a read seq of 2^63": (frame(type="read", conversation=conversation, seq=2**63), {}),
        "a customer label of 2^63": (frame(type="customer", customer=1, labels=[2**63]), {"customer": 1}),
        "a NUL in a reply": (
            frame(type="reply", conversation=conversation, body="Hi\x00", client_id=CLIENT_ID),
            {"client_id": CLIENT_ID},
        ),
        "a NUL in a view's name": (frame(type="view.save", name="a\x00", filters={}), {}),
        "a frame over the size limit": ("x" * (MAX_FRAME_CHARS + 1), {}),
    }


CONSOLE_CASE_IDS = list(console_cases(1))


@pytest.mark.parametrize("case", CONSOLE_CASE_IDS)
async def test_it_answers_a_hostile_console_frame_with_bad_frame_and_stays_open(website, alice, case):
    conversation = await visitor_writes(website, "vera", "Where is my order?")
    text, echoed = console_cases(conversation)[case]
    socket = await open_agent(alice)

    error = await answer(socket, text)

    assert (error["type"], error["code"]) == ("error", "bad_frame")
    assert {key: error[key] for key in ("client_id", "customer") if key in error} == echoed
    assert await stored_bodies(website) == ["Where is my order?"]
    await socket.send_json_to({"type": "hello", "resume": {}})
    ready, _ = await receive_until(socket, "ready")
    assert ready == {"type": "ready"}


async def test_it_answers_a_resume_of_a_conversation_id_no_row_can_have_with_not_found(website, alice):
    conversation = await visitor_writes(website, "vera", "Where is my order?")
    socket = await open_agent(alice)
    await socket.send_json_to({"type": "hello", "resume": {str(2**64): 0, str(conversation): 2**70 * 1.0}})
    ready, before = await receive_until(socket, "ready")

    assert before == [{"type": "error", "code": "not_found", "conversation": 2**64}]
    assert ready == {"type": "ready"}


async def test_it_still_sends_a_valid_reply_after_a_hostile_one(website, alice):
    conversation = await visitor_writes(website, "vera", "Where is my order?")
    socket = await open_agent(alice)
    await answer(socket, frame(type="reply", conversation=conversation, body=["Hi"], client_id=CLIENT_ID))

    valid = {"type": "reply", "conversation": conversation, "body": "On its way", "client_id": CLIENT_ID}
    await socket.send_json_to(valid)
    ack, _ = await receive_until(socket, "ack")

    assert ack["entry"]["body"] == "On its way"
