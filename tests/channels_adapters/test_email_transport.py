"""channels_adapters.email.transport: agents' email replies and transcripts through the outbox, to a real
SMTP server on loopback."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from channels_adapters.email.transport import parse_smtp_url
from contact_center.actions.offline import do_leave_offline_message
from contact_center.actions.replies import do_send_reply
from contact_center.models import Delivery, TimelineEntry
from contact_center.transports import get_transport
from contact_center.worker import OutboxWorker
from tests.support.live import free_port
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.django_db(transaction=True)

MAIL_FROM = "support@shop.example"


@pytest.fixture
def smtp():
    get_transport.cache_clear()
    with SmtpSink() as sink, override_settings(PARLEY_SMTP={"url": sink.url, "mail_from": MAIL_FROM}):
        yield sink
    get_transport.cache_clear()


@pytest.fixture
def reply(website, alice):
    """Alice's answer to Vera, who left the offline form with vera@home.example."""
    entry = do_leave_offline_message(website.pk, "vera", "client-0001", "vera@home.example", "Where is my order?")
    return do_send_reply(alice, entry.entry.conversation_id, "It ships tomorrow.")


async def deliver_due() -> int:
    return await OutboxWorker(name="test-worker").run_once()


@database_sync_to_async
def delivery_of(entry) -> Delivery:
    return Delivery.objects.select_related("entry").get(entry=entry)


async def test_it_sends_the_reply_to_the_address_from_the_offline_form(smtp, reply):
    await deliver_due()

    [email] = smtp.wait_for(1)
    delivery = await delivery_of(reply)
    assert email["To"] == "vera@home.example"
    assert email["From"] == f"Website <{MAIL_FROM}>"
    assert "It ships tomorrow." in email.get_content()
    assert smtp.envelopes == [(MAIL_FROM, ["vera@home.example"])]
    assert (delivery.transport, delivery.state, delivery.entry.delivery_status) == ("email", "sent", "sent")
    assert email["Message-ID"] == delivery.provider_message_id == f"<parley.{delivery.idempotency_key}@shop.example>"


async def test_it_retries_a_transient_refusal_with_the_same_message_id(smtp, reply):
    smtp.refuse_data.append("451 4.3.0 try again later")

    await deliver_due()
    delivery = await delivery_of(reply)
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    assert "451" in delivery.last_error

    await database_sync_to_async(Delivery.objects.filter(pk=delivery.pk).update)(next_attempt_at=delivery.created_at)
    await deliver_due()

    first, second = smtp.wait_for(2)
    delivery = await delivery_of(reply)
    assert delivery.state == "sent"
    # The same Message-ID on both attempts: a mail system that got the first one drops the second.
    assert first["Message-ID"] == second["Message-ID"] == delivery.provider_message_id


async def test_it_gives_up_at_once_on_a_refused_recipient(smtp, reply):
    smtp.refuse_recipients.add("vera@home.example")

    await deliver_due()

    delivery = await delivery_of(reply)
    assert (delivery.state, delivery.attempts) == ("dead", 1)
    assert delivery.entry.delivery_status == TimelineEntry.DeliveryStatus.FAILED
    assert smtp.messages == []


async def test_it_retries_when_no_smtp_server_answers(reply):
    get_transport.cache_clear()
    with override_settings(PARLEY_SMTP={"url": f"smtp://127.0.0.1:{free_port()}", "mail_from": MAIL_FROM}):
        await deliver_due()

    delivery = await delivery_of(reply)
    assert (delivery.state, delivery.entry.delivery_status) == ("pending", "queued")
    assert "unreachable" in delivery.last_error


async def test_it_retries_while_smtp_is_not_configured(reply):
    get_transport.cache_clear()
    with override_settings(PARLEY_SMTP={"url": None, "mail_from": None}):
        await deliver_due()

    delivery = await delivery_of(reply)
    assert delivery.state == "pending"
    assert "SMTP_URL" in delivery.last_error


def test_it_reads_smtp_urls():
    config = parse_smtp_url("smtp://me%40x.org:p%3Ass@mail.example:587?starttls=1")
    assert (config.hostname, config.port, config.username, config.password) == ("mail.example", 587, "me@x.org", "p:ss")
    assert (config.start_tls, config.use_tls) == (True, False)
    assert parse_smtp_url("smtps://mail.example").port == 465
    assert parse_smtp_url("smtp://mail.example").port == 25


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example",
        "smtp://",
        "smtp://mail.example?tls=1",
        "smtp://mail.example?starttls=yes",
        "smtps://mail.example?starttls=1",
    ],
)
def test_it_refuses_malformed_smtp_urls(url):
    with pytest.raises(ImproperlyConfigured):
        parse_smtp_url(url)
