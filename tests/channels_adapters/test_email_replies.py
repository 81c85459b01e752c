"""Agents' replies by email, end to end: a reply sent to another address of the customer (``via``) and
the files it carries, through a real outbox worker and the real email transport, to a real SMTP server
on loopback (tests/support/smtp.py)."""

from __future__ import annotations

import io

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from channels_adapters.email import transport as email_transport
from contact_center.actions.attachments import do_store_upload
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.offline import do_leave_offline_message
from contact_center.actions.replies import do_send_reply
from contact_center.models import Delivery, Identity, Inbox
from contact_center.transports import get_transport
from contact_center.worker import OutboxWorker
from tests.conftest import visitor_envelope
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.django_db(transaction=True)

MAIL_FROM = "support@shop.example"
VERA_HOME = "vera@home.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def smtp():
    get_transport.cache_clear()
    with SmtpSink() as sink, override_settings(PARLEY_SMTP={"url": sink.url, "mail_from": MAIL_FROM}):
        yield sink
    get_transport.cache_clear()


@pytest.fixture
def mailbox(alice):
    inbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    inbox.members.add(alice)
    return inbox


@database_sync_to_async
def chat_with_email_address(website) -> tuple[int, int]:
    """Vera's chat, and the email address on her profile: (conversation id, identity id)."""
    conversation = do_receive_inbound(visitor_envelope(website, visitor="vera", body="Which size?")).entry.conversation
    home = Identity.objects.create(customer_id=conversation.customer_id, kind="email", value=VERA_HOME, verified=True)
    return conversation.pk, home.pk


@database_sync_to_async
def reply(agent, conversation_id, body, **fields):
    return do_send_reply(agent, conversation_id, body, **fields)


@database_sync_to_async
def agent_upload(inbox, agent, content: bytes, name: str) -> int:
    return do_store_upload(inbox, f"agent:{agent.pk}", io.BytesIO(content), name, "").pk


@database_sync_to_async
def delivery_of(entry) -> Delivery:
    return Delivery.objects.select_related("entry").get(entry=entry)


async def deliver_due() -> int:
    return await OutboxWorker(name="test-worker").run_once()


async def test_a_chat_reply_sent_via_email_reaches_the_address_the_agent_picked(smtp, website, alice, mailbox):
    conversation_id, home = await chat_with_email_address(website)
    entry = await reply(alice, conversation_id, "Your parcel left today.", via=home)

    await deliver_due()

    [email] = smtp.wait_for(1)
    assert smtp.envelopes == [(MAIL_FROM, [VERA_HOME])]
    assert (email["To"], email["From"]) == (VERA_HOME, f"Support mail <{MAIL_FROM}>")
    assert email["Subject"] == "Your conversation with Support mail"
    assert "Your parcel left today." in email.get_content()
    delivery = await delivery_of(entry)
    assert (delivery.transport, delivery.state, delivery.entry.delivery_status) == ("email", "sent", "sent")


async def test_the_reply_s_files_arrive_attached(smtp, website, alice, mailbox):
    conversation_id, home = await chat_with_email_address(website)
    files = [
        await agent_upload(website, alice, PNG, "size chart.png"),
        await agent_upload(website, alice, PDF, "ü.pdf"),
    ]
    await reply(alice, conversation_id, "Both attached.", via=home, attachments=files)

    await deliver_due()

    [email] = smtp.wait_for(1)
    text = email.get_body(preferencelist=("plain",))
    assert text.get_content().strip() == "Both attached."
    parts = [(part.get_filename(), part.get_content_type(), part.get_content()) for part in email.iter_attachments()]
    assert parts == [("size chart.png", "image/png", PNG), ("ü.pdf", "application/pdf", PDF)]


async def test_files_too_big_to_attach_are_linked_in_the_text(smtp, website, alice, mailbox, monkeypatch):
    monkeypatch.setattr(email_transport, "MAX_ATTACHED_BYTES", len(PNG) + 10)
    conversation_id, home = await chat_with_email_address(website)
    files = [await agent_upload(website, alice, PNG, "chart.png"), await agent_upload(website, alice, PDF, "big.pdf")]
    await reply(alice, conversation_id, "The chart, and the catalogue.", via=home, attachments=files)

    await deliver_due()

    [email] = smtp.wait_for(1)
    assert [part.get_filename() for part in email.iter_attachments()] == ["chart.png"]
    text = email.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("The chart, and the catalogue.\n\nbig.pdf: http://127.0.0.1:8000/files/")


async def test_an_offline_form_reply_carries_its_files_too(smtp, website, alice):
    """Without ``via``: the conversation's own channel, here email to the offline form's address."""
    left = await database_sync_to_async(do_leave_offline_message)(
        website.pk, "vera", "client-0001", "vera@left.example", "Which size?"
    )
    chart = await agent_upload(website, alice, PNG, "chart.png")
    await reply(alice, left.entry.conversation_id, "", attachments=[chart])

    await deliver_due()

    [email] = smtp.wait_for(1)
    assert email["To"] == "vera@left.example"
    assert [part.get_filename() for part in email.iter_attachments()] == ["chart.png"]


async def test_a_file_missing_from_storage_is_retried(smtp, website, alice, mailbox, tmp_path, settings):
    conversation_id, home = await chat_with_email_address(website)
    chart = await agent_upload(website, alice, PNG, "chart.png")
    entry = await reply(alice, conversation_id, "Here", via=home, attachments=[chart])
    settings.MEDIA_ROOT = tmp_path / "elsewhere"  # a worker that does not see the uploads' volume

    await deliver_due()

    delivery = await delivery_of(entry)
    assert (delivery.state, delivery.entry.delivery_status) == ("pending", "queued")
    assert "'chart.png' cannot be read" in delivery.last_error
    assert smtp.messages == []
