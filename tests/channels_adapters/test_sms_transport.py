"""channels_adapters.sms.transport: texts through Twilio's Messages API, with the real twilio SDK talking
to a stand-in of the API on loopback (tests/support/twilio_standin.py)."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings
from django.test import override_settings

from channels_adapters.sms import transport
from channels_adapters.sms.transport import RebasedHttpClient, SmsTransport
from contact_center.transports import OutboundAttachment, OutboundMessage, TransportError
from tests.channels_adapters.conftest import TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, twilio_settings
from tests.support.live import free_port

SHOP_NUMBER = "+4721999999"
VERA_PHONE = "+4721000000"
INVOICE = OutboundAttachment(
    filename="invoice.pdf",
    content_type="application/pdf",
    size=2048,
    url="https://parley.example/files/signed-token/invoice.pdf",
    path="attachments/invoice.pdf",
)


def outbound(body="It ships tomorrow.", *, to_kind="phone", to_value=VERA_PHONE, address=SHOP_NUMBER, files=()):
    """What the outbox hands the transport for a reply through the "Texts" inbox."""
    return OutboundMessage(
        delivery_id=1,
        idempotency_key="5b0c6a8e-0000-4000-8000-000000000001",
        inbox={"id": 7, "kind": "sms", "name": "Texts", "address": address, "config": {}},
        conversation_id=3,
        customer_id=5,
        to_kind=to_kind,
        to_value=to_value,
        subject="",
        body=body,
        public_entry={},
        transport="sms",
        attachments=files,
    )


async def refusal(message: OutboundMessage | None = None) -> TransportError:
    with pytest.raises(TransportError) as raised:
        await SmsTransport().send(message or outbound())
    return raised.value


async def test_it_texts_the_customer_from_the_inboxs_number_with_links_to_the_files(twilio):
    sid = await SmsTransport().send(outbound(files=(INVOICE,)))

    [request] = twilio.requests
    assert (request.method, request.path) == ("POST", f"/2010-04-01/Accounts/{TWILIO_ACCOUNT_SID}/Messages.json")
    assert request.auth == (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)
    assert request.form == {
        "To": VERA_PHONE,
        "From": SHOP_NUMBER,
        # No MMS: the file goes as its signed link.
        "Body": "It ships tomorrow.\n\ninvoice.pdf: https://parley.example/files/signed-token/invoice.pdf",
        # Where Twilio reports delivery: the URL it will sign.
        "StatusCallback": f"{settings.PUBLIC_BASE_URL}/channels/twilio/status/",
    }
    # The message SID comes back: the outbox keeps it to match Twilio's status callbacks.
    assert sid == twilio.created[0]["sid"]
    assert sid.startswith("SM")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, 21211),  # not a valid phone number
        (400, 21214),  # not a mobile number
        (400, 21408),  # region not enabled for the account
        (400, 21610),  # the customer replied STOP
        (400, 21612),  # cannot route to this number
        (400, 21614),  # not a number that can receive SMS
        (400, 21602),  # any other 4xx: the same request gets the same answer
        (404, 20404),
    ],
)
async def test_it_gives_up_at_once_when_retrying_cannot_help(twilio, status, code):
    twilio.answers.append((status, {"code": code, "message": "Refused by the stand-in", "status": status}))

    error = await refusal()

    assert error.permanent is True
    assert f"error {code}" in str(error)
    assert "Refused by the stand-in" in str(error)


def test_it_treats_a_refused_number_as_permanent_whatever_the_http_status():
    error = transport.transport_error(transport.TwilioRestException(500, "/Messages.json", "STOP", code=21610))

    assert error.permanent is True


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (429, 20429),
        (500, 20500),
        (503, 20503),
        (401, 20003),  # the account's token was refused: fixing it lets the queued replies go out
    ],
)
async def test_it_retries_when_twilio_is_busy_or_failing(twilio, status, code):
    twilio.answers.append((status, {"code": code, "message": "Try later", "status": status}))

    error = await refusal()

    assert error.permanent is False
    assert f"Twilio {status}" in str(error)


async def test_it_retries_when_twilio_does_not_answer_in_time(twilio, monkeypatch):
    monkeypatch.setattr(transport, "TWILIO_TIMEOUT_SECONDS", 0.3)
    twilio.stall_seconds = 5

    error = await refusal()

    assert error.permanent is False
    assert "unreachable" in str(error)


async def test_it_retries_when_nothing_listens():
    with override_settings(PARLEY_TWILIO=twilio_settings(f"http://127.0.0.1:{free_port()}")):
        error = await refusal()

    assert error.permanent is False
    assert "unreachable" in str(error)


async def test_it_does_not_block_the_event_loop_while_twilio_answers(twilio):
    twilio.stall_seconds = 0.5
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await SmsTransport().send(outbound())
    ticker.cancel()

    assert ticks >= 10


async def test_it_retries_while_twilio_is_not_configured():
    with override_settings(PARLEY_TWILIO=twilio_settings(None, account_sid=None, auth_token=None)):
        error = await refusal()

    assert error.permanent is False
    assert "TWILIO_ACCOUNT_SID" in str(error)


async def test_it_refuses_a_reply_with_no_phone_number_to_go_to(twilio):
    error = await refusal(outbound(to_kind="email", to_value="vera@home.example"))

    assert error.permanent is True
    assert twilio.requests == []


async def test_it_waits_for_the_inbox_to_have_a_number_to_send_from(twilio):
    error = await refusal(outbound(address=""))

    assert error.permanent is False
    assert "no number to send from" in str(error)
    assert twilio.requests == []


def test_it_never_sends_a_request_meant_for_a_stand_in_to_another_twilio_host():
    client = RebasedHttpClient("http://127.0.0.1:9")

    with pytest.raises(ValueError, match="not on https://api.twilio.com"):
        client.request("POST", "https://api.sydney.au1.twilio.com/2010-04-01/Accounts/AC1/Messages.json")
