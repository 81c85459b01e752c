"""channels_adapters.email.transport: agents' email replies and transcripts through the outbox, to a real
SMTP server on loopback."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtplib.email import flatten_message
from channels.db import database_sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from channels_adapters.email.inbound import receive_email
from channels_adapters.email.transport import MAX_REFERENCES, build_email, parse_smtp_url
from contact_center.actions.offline import do_leave_offline_message, do_send_transcript
from contact_center.actions.outbox import load_outbound
from contact_center.actions.replies import do_send_reply
from contact_center.models import Conversation, Delivery, Inbox, TimelineEntry
from contact_center.transports import OutboundMessage, TransportError, get_transport
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


# Replies that thread in the customer's mail client (issue 13 point 9), and headers nobody can inject into.

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
FIRST_MAIL = "<CAHx7qL2f9Vn3kQe8mZ1pT0wRj4sYb6u-ADx9cE=k2n@mail.gmail.com>"
FOLLOWUP = "<CAHx7qL0b3Gm-Yt5sKx2dfN9Wq=R8pLhc1o7v4Q@mail.gmail.com>"
# An id of ours the follow-up answers, as another install wrote it: carried along, whatever its shape.
OUR_EARLIER = "<parley.c1042.e7Q2kfR9xw@shop.example>"


@pytest.fixture
def support(alice):
    inbox = Inbox.objects.create(name="Shop Support", kind=Inbox.Kind.EMAIL, address=MAIL_FROM)
    inbox.members.add(alice)
    return inbox


@pytest.fixture
def veras_thread(support):
    """Vera's question and her follow-up (which answers an email of ours and CCs Jonas), by email."""
    first = receive_email((CORPUS / "thread-01-vera-gmail-question.eml").read_bytes(), MAIL_FROM)
    receive_email((CORPUS / "thread-03-vera-followup-cc.eml").read_bytes(), MAIL_FROM)
    return first.entry.conversation


def outbound(**fields) -> OutboundMessage:
    message = {
        "delivery_id": 1,
        "idempotency_key": "0b6f1e4c-3a52-4f0e-9d1c-5a7e2b8c9d10",
        "inbox": {"name": "Shop Support"},
        "conversation_id": 1,
        "customer_id": 1,
        "to_kind": "email",
        "to_value": "vera@home.example",
        "subject": "Order 10482 arrived damaged",
        "body": "It ships tomorrow.",
        "public_entry": {},
    }
    return OutboundMessage(**{**message, **fields})


def on_the_wire(message: OutboundMessage) -> bytes:
    """The bytes aiosmtplib sends for ``message`` (it writes them with its own policy, SMTP's)."""
    return flatten_message(build_email(message, MAIL_FROM))


async def test_it_threads_a_reply_under_the_customers_newest_mail(smtp, alice, veras_thread):
    reply = await database_sync_to_async(do_send_reply)(alice, veras_thread.pk, "A new lid is on its way.")

    await deliver_due()

    [email] = smtp.wait_for(1)
    delivery = await delivery_of(reply)
    assert email["Subject"] == "Re: Order 10482 arrived damaged"
    assert email["In-Reply-To"] == FOLLOWUP
    # RFC 5322 3.6.4: the replied mail's References, then its own Message-ID.
    assert email["References"].split() == [FIRST_MAIL, OUR_EARLIER, FOLLOWUP]
    assert email["Message-ID"] == delivery.provider_message_id == f"<parley.{delivery.idempotency_key}@shop.example>"
    assert smtp.envelopes == [(MAIL_FROM, ["vera@home.example"])]


def test_it_reads_the_thread_ids_with_the_message_in_one_query(alice, veras_thread, django_assert_num_queries):
    reply = do_send_reply(alice, veras_thread.pk, "A new lid is on its way.")
    delivery = Delivery.objects.get(entry=reply)

    with django_assert_num_queries(1):
        message = load_outbound(delivery.pk)

    assert (message.in_reply_to, message.references) == (FOLLOWUP, (FIRST_MAIL, OUR_EARLIER, FOLLOWUP))
    assert not message.standalone


def test_a_reply_in_a_conversation_without_mail_has_no_thread_headers(reply):
    message = load_outbound(Delivery.objects.get(entry=reply).pk)
    email = build_email(message, MAIL_FROM)

    assert (message.in_reply_to, message.references) == (None, ())
    assert email["In-Reply-To"] is None and email["References"] is None


@pytest.mark.parametrize(
    ("subject", "sent_as"),
    [
        ("Order 10482 arrived damaged", "Re: Order 10482 arrived damaged"),
        ("Re: Order 10482 arrived damaged", "Re: Order 10482 arrived damaged"),
        ("RE: Order 10482", "RE: Order 10482"),
        ("re[2]: Order 10482", "re[2]: Order 10482"),
        ("Return policy", "Re: Return policy"),
        ("", "Your conversation with Shop Support"),
    ],
)
def test_it_answers_under_the_conversations_subject_once_re(subject, sent_as):
    assert build_email(outbound(subject=subject), MAIL_FROM)["Subject"] == sent_as


def test_a_transcript_is_no_reply(reply):
    transcript = do_send_transcript(reply.conversation.inbox_id, "vera", "vera@home.example")

    message = load_outbound(Delivery.objects.get(entry=transcript).pk)

    assert message.standalone
    assert build_email(message, MAIL_FROM)["Subject"] == "Your conversation with Website"


def test_a_transcript_keeps_its_own_subject_and_answers_no_mail():
    transcript = outbound(subject="Your conversation of 3 May", standalone=True, in_reply_to=FOLLOWUP)

    email = build_email(transcript, MAIL_FROM)

    assert email["Subject"] == "Your conversation of 3 May"
    assert email["In-Reply-To"] is None and email["References"] is None


def test_it_keeps_the_first_and_the_newest_references_of_a_long_thread():
    ids = tuple(f"<message-{n}@mail.example>" for n in range(30))

    email = build_email(outbound(in_reply_to=ids[-1], references=ids), MAIL_FROM)

    references = email["References"].split()
    assert len(references) == MAX_REFERENCES == 20
    assert references == [ids[0], *ids[-19:]]
    assert email["In-Reply-To"] == ids[-1]


def test_it_writes_long_message_ids_as_they_are_never_encoded():
    # Exchange's ids run past a line's 78 characters; the email package would write them as RFC 2047
    # encoded words, which no mail client reads as an id.
    outlook = "<AM9PR07MB71714C2D1E0F3A5B6C7D8E9F0A1B2C3D4E5F6A7B8C9D@AM9PR07MB7171.eurprd07.prod.outlook.com>"

    wire = on_the_wire(outbound(in_reply_to=outlook, references=(FIRST_MAIL, outlook)))

    assert f"\r\nIn-Reply-To: {outlook}\r\n".encode() in wire
    assert f"\r\nReferences: {FIRST_MAIL}\r\n {outlook}\r\n".encode() in wire
    assert b"=?" not in wire.partition(b"\r\n\r\n")[0]


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\x0b", "\x85", "\u2028"])
def test_no_field_can_add_a_header(breaker):
    hostile = outbound(
        inbox={"name": f"Shop{breaker}Bcc: mallory@evil.example"},
        subject=f"Order 10482{breaker}Bcc: mallory@evil.example",
        in_reply_to=f"{FOLLOWUP}{breaker}Bcc: mallory@evil.example",
        references=(f"{FIRST_MAIL}{breaker}Bcc: mallory@evil.example",),
    )

    wire = on_the_wire(hostile)
    email = message_from_bytes(wire, policy=policy.default)

    assert email["Bcc"] is None and b"\nBcc:" not in wire
    assert email["Subject"] == "Re: Order 10482 Bcc: mallory@evil.example"
    assert email["From"] == f'"Shop Bcc: mallory@evil.example" <{MAIL_FROM}>'
    # An id that is no id is left out, not half-written.
    assert (email["In-Reply-To"], email["References"]) == (None, None)


def test_a_recipient_with_a_line_break_is_refused_for_good():
    with pytest.raises(TransportError, match="not an email address") as refused:
        build_email(outbound(to_value="vera@home.example\r\nBcc: mallory@evil.example"), MAIL_FROM)

    assert refused.value.permanent


async def test_a_hostile_subject_reaches_only_the_customer(smtp, alice, veras_thread):
    await database_sync_to_async(Conversation.objects.filter(pk=veras_thread.pk).update)(
        subject="Order\r\nBcc: mallory@evil.example"
    )
    await database_sync_to_async(do_send_reply)(alice, veras_thread.pk, "A new lid is on its way.")

    await deliver_due()

    [email] = smtp.wait_for(1)
    assert smtp.envelopes == [(MAIL_FROM, ["vera@home.example"])]
    assert email["Bcc"] is None
    assert email["Subject"] == "Re: Order Bcc: mallory@evil.example"
