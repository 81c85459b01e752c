"""The console socket's ``reply`` and ``note`` frames with ``via`` (another address of the customer) and
``attachments`` (the agent's uploads), spoken to as console.js does."""

from __future__ import annotations

import io

import pytest
from channels.db import database_sync_to_async

from contact_center.actions.attachments import do_store_upload
from contact_center.actions.inbound import do_receive_inbound
from contact_center.models import Attachment, Delivery, Identity, Inbox, TimelineEntry
from tests.conftest import visitor_envelope
from tests.consumers import WAIT, open_agent, receive_until

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@database_sync_to_async
def vera_with_mailbox(website, alice) -> dict:
    """Vera's chat, her email address, an email inbox of Alice's and a file Alice uploaded to the chat."""
    conversation = do_receive_inbound(visitor_envelope(website, visitor="vera")).entry.conversation
    home = Identity.objects.create(customer_id=conversation.customer_id, kind="email", value="vera@home.example")
    mailbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL)
    mailbox.members.add(alice)
    chart = do_store_upload(website, f"agent:{alice.pk}", io.BytesIO(PNG), "chart.png", "")
    return {"conversation": conversation.pk, "home": home.pk, "mailbox": mailbox.pk, "chart": chart.pk}


@database_sync_to_async
def deliveries() -> list[tuple[int, str]]:
    return list(Delivery.objects.values_list("entry_id", "transport"))


async def write(socket, frame: dict) -> dict:
    """Send a write and return its answer: the ack, or the error (live events that come first are dropped)."""
    await socket.send_json_to(frame)
    while True:
        answer = await socket.receive_json_from(timeout=WAIT)
        if answer["type"] in ("ack", "error"):
            return answer


async def test_a_reply_frame_carries_via_and_attachments(website, alice):
    vera = await vera_with_mailbox(website, alice)
    socket = await open_agent(alice)
    other_console = await open_agent(alice)
    frame = {
        "type": "reply",
        "conversation": vera["conversation"],
        "body": "Our size chart, by mail.",
        "via": vera["home"],
        "attachments": [vera["chart"]],
        "client_id": "reply-via-0001",
    }

    ack = await write(socket, frame)

    entry = ack["entry"]
    assert ack["client_id"] == "reply-via-0001"
    assert entry["payload"] == {
        "client_id": "reply-via-0001",
        "via": {"kind": "email", "value": "vera@home.example", "inbox": vera["mailbox"]},
        "attachments": [vera["chart"]],
    }
    assert [(a["id"], a["filename"], a["is_image"]) for a in entry["attachments"]] == [
        (vera["chart"], "chart.png", True)
    ]
    assert await deliveries() == [(entry["id"], "email")]
    # The live copy every other console of the inbox gets says the same (the writer has it from the ack).
    live, _ = await receive_until(other_console, "entry.created")
    assert live["entry"]["payload"]["via"]["value"] == "vera@home.example"


async def test_a_note_frame_carries_attachments(website, alice):
    vera = await vera_with_mailbox(website, alice)
    socket = await open_agent(alice)

    ack = await write(
        socket,
        {
            "type": "note",
            "conversation": vera["conversation"],
            "body": "",
            "attachments": [vera["chart"]],
            "client_id": "note-file-01",
        },
    )

    assert (ack["entry"]["kind"], [a["id"] for a in ack["entry"]["attachments"]]) == ("note", [vera["chart"]])
    assert await deliveries() == []


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"type": "note", "via": "home"}, "a note goes to no one: via is for replies"),
        ({"via": 999_999}, "that address is not one of this customer's"),
        ({"via": "vera@home.example"}, "via is the id of one of the customer's addresses, or null"),
        ({"attachments": 5}, "attachments is a list of attachment ids"),
        ({"attachments": [999_999]}, "an attachment of this message is not available: upload it again"),
    ],
)
async def test_it_refuses_a_write_it_cannot_send_as_asked(website, alice, fields, message):
    vera = await vera_with_mailbox(website, alice)
    socket = await open_agent(alice)
    frame = {"type": "reply", "conversation": vera["conversation"], "body": "Hello", "client_id": "refused-0001"}
    frame.update({k: vera["home"] if v == "home" else v for k, v in fields.items()})

    answer = await write(socket, frame)

    assert answer == {"type": "error", "code": "invalid", "message": message, "client_id": "refused-0001"}
    assert not await database_sync_to_async(TimelineEntry.objects.filter(direction__in=["out", "internal"]).exists)()
    assert (await database_sync_to_async(Attachment.objects.get)(pk=vera["chart"])).entry_id is None
