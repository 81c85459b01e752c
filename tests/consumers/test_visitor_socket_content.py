"""The visitor socket's `send` with attachments, and its rate limits (docs/protocols/widget-socket.md)."""

from __future__ import annotations

import io
import time

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from contact_center.actions.attachments import do_store_upload
from contact_center.models import TimelineEntry
from tests.consumers import WAIT, hello, open_visitor, send, visitor_socket
from widget.tokens import issue_visitor_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("whole_rate_window")]

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
LIMITS = {
    "messages_per_visitor": None,
    "messages_per_ip": None,
    "uploads_per_visitor": None,
    "uploads_per_ip": None,
    "conversations_per_ip": None,
}


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@database_sync_to_async
def upload(inbox, visitor: str, content: bytes = PNG, name: str = "photo.png") -> int:
    return do_store_upload(inbox, f"visitor:{visitor}", io.BytesIO(content), name, "").pk


@database_sync_to_async
def message_count() -> int:
    return TimelineEntry.objects.filter(kind="message").count()


async def open_from(inbox, visitor: str, ip: str):
    """A visitor socket whose connection comes from ``ip``."""
    communicator = visitor_socket(issue_visitor_token(inbox.public_key, visitor))
    communicator.scope["client"] = (ip, 50000)
    connected, code = await communicator.connect(timeout=WAIT)
    assert connected, code
    await hello(communicator)
    return communicator


async def send_frame(communicator, client_id: str, body: str = "", **extra) -> dict:
    """The answer to a send: its ack or its error (live copies of the message are skipped)."""
    await communicator.send_json_to({"type": "send", "client_id": client_id, "body": body, **extra})
    while True:
        frame = await communicator.receive_json_from(timeout=WAIT)
        if frame["type"] in ("ack", "error"):
            return frame


# --- Attachments ----------------------------------------------------------------------------------------


async def test_it_sends_a_message_of_attachments_alone_and_lists_them_in_the_ack(website):
    photo = await upload(website, "vera")
    communicator = await open_visitor(website, "vera")
    await hello(communicator)

    ack = await send_frame(communicator, "client-0001", "", attachments=[photo])

    assert ack["type"] == "ack"
    assert ack["message"]["body"] == ""
    [listed] = ack["message"]["attachments"]
    assert (listed["id"], listed["filename"], listed["is_image"]) == (photo, "photo.png", True)
    # A replay carries the same list, with a fresh link.
    replayed, _ = await hello(communicator)
    assert [a["id"] for a in replayed[0]["attachments"]] == [photo]
    await communicator.disconnect()


async def test_it_refuses_another_visitors_upload_and_stores_nothing(website):
    victors = await upload(website, "victor")
    communicator = await open_visitor(website, "vera")
    await hello(communicator)

    error = await send_frame(communicator, "client-0001", "look", attachments=[victors])

    assert error == {
        "type": "error",
        "code": "invalid",
        "message": "an attachment of this message is not available: upload it again",
        "client_id": "client-0001",
    }
    assert await message_count() == 0
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("attachments", "message"),
    [
        ("1", "attachments is a list of attachment ids"),
        ([True], "attachments is a list of attachment ids"),
        (list(range(11)), "a message carries at most 10 attachments"),
        ([], "a message cannot be empty"),
    ],
)
async def test_it_refuses_a_malformed_attachment_list(website, attachments, message):
    communicator = await open_visitor(website, "vera")

    error = await send_frame(communicator, "client-0001", "", attachments=attachments)

    assert (error["code"], error["message"]) == ("invalid", message)
    await communicator.disconnect()


async def test_it_says_how_long_a_message_may_be(website):
    communicator = await open_visitor(website, "vera")

    error = await send_frame(communicator, "client-0001", "x" * 10_001)

    assert (error["code"], error["message"]) == ("invalid", "a message is at most 10000 characters")
    await communicator.disconnect()


# --- Rate limits ----------------------------------------------------------------------------------------


@override_settings(PARLEY_RATE_LIMITS={**LIMITS, "messages_per_visitor": (2, 60)})
async def test_it_limits_messages_per_visitor_and_stores_nothing_over_the_limit(website):
    communicator = await open_from(website, "vera", "203.0.113.9")
    assert (await send(communicator, "client-0001", "one"))["type"] == "ack"
    assert (await send(communicator, "client-0002", "two"))["type"] == "ack"

    refused = await send_frame(communicator, "client-0003", "three")

    assert refused["type"] == "error"
    assert (refused["code"], refused["client_id"]) == ("rate_limited", "client-0003")
    assert 1 <= refused["retry_after"] <= 60
    assert refused["message"]
    assert await message_count() == 2
    # The limit is the visitor's own: someone else at the same address may still write.
    other = await open_from(website, "victor", "203.0.113.9")
    assert (await send_frame(other, "client-0004", "hello"))["type"] == "ack"
    await communicator.disconnect()
    await other.disconnect()


@override_settings(PARLEY_RATE_LIMITS={**LIMITS, "messages_per_ip": (3, 60)})
async def test_it_limits_messages_per_address_across_visitors(website):
    vera = await open_from(website, "vera", "203.0.113.9")
    victor = await open_from(website, "victor", "203.0.113.9")
    elsewhere = await open_from(website, "walter", "198.51.100.7")
    for n, communicator in enumerate([vera, victor, vera]):
        assert (await send_frame(communicator, f"client-000{n}", "hi"))["type"] == "ack"

    refused = await send_frame(victor, "client-0009", "hi again")

    assert refused["code"] == "rate_limited"
    assert (await send_frame(elsewhere, "client-0010", "hi"))["type"] == "ack"
    assert await message_count() == 4
    for communicator in (vera, victor, elsewhere):
        await communicator.disconnect()


@override_settings(PARLEY_RATE_LIMITS={**LIMITS, "conversations_per_ip": (1, 3600)})
async def test_it_limits_new_conversations_per_address_but_not_messages_in_one(website):
    vera = await open_from(website, "vera", "2001:db8::1")
    assert (await send_frame(vera, "client-0001", "first"))["type"] == "ack"
    assert (await send_frame(vera, "client-0002", "second, same conversation"))["type"] == "ack"

    # Another address of the same IPv6 /64 is the same client.
    victor = await open_from(website, "victor", "2001:db8::2")
    refused = await send_frame(victor, "client-0003", "a new conversation")

    assert refused["code"] == "rate_limited"
    # Until the hour's window ends (the conversations limit's), not the minute's of messages: fixed
    # windows are aligned to the clock, so at 14:59:40 that is 20 s.
    assert abs(refused["retry_after"] - (3600 - time.time() % 3600)) <= 2
    assert await message_count() == 2
    await vera.disconnect()
    await victor.disconnect()


@override_settings(PARLEY_RATE_LIMITS={**LIMITS, "messages_per_ip": (1, 60)}, PARLEY_TRUST_X_FORWARDED_FOR=True)
async def test_it_counts_the_first_forwarded_address_when_the_proxy_is_trusted(website):
    def behind_proxy(visitor: str, forwarded: str):
        communicator = visitor_socket(issue_visitor_token(website.public_key, visitor))
        communicator.scope["client"] = ("10.0.0.2", 50000)
        communicator.scope["headers"].append((b"x-forwarded-for", forwarded.encode()))
        return communicator

    first, second = behind_proxy("vera", "203.0.113.9, 10.0.0.1"), behind_proxy("victor", "198.51.100.7")
    for communicator in (first, second):
        assert (await communicator.connect(timeout=WAIT))[0]

    # Two clients behind one proxy: each has their own budget.
    assert (await send_frame(first, "client-0001", "hi"))["type"] == "ack"
    assert (await send_frame(second, "client-0002", "hi"))["type"] == "ack"
    assert (await send_frame(first, "client-0003", "again"))["code"] == "rate_limited"
    await first.disconnect()
    await second.disconnect()
