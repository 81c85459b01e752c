"""POST /widget/api/availability/, /widget/api/offline/ and /widget/api/transcript/: the widget when
nobody can chat, and the conversation by email."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.test import override_settings

from contact_center import presence
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.models import Conversation, Customer, Identity, TimelineEntry
from contact_center.transports import get_transport
from tests.conftest import visitor_envelope
from tests.consumers import deliver_outbox
from tests.support.smtp import SmtpSink
from widget.tokens import issue_visitor_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("whole_rate_window")]

SHOP = "https://shop.example"
SUNDAY_ONLY = {"timezone": "Europe/Berlin", "days": {"sun": [["10:00", "12:00"]]}}


def post(client, path: str, body, origin: str | None = SHOP):
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/widget/api/{path}/", data=json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def token(website):
    return issue_visitor_token(website.public_key, "vera")


@pytest.fixture
def offline(website):
    website.config = {"offline_without_agents": True}
    website.save(update_fields=["config"])
    return website


@pytest.fixture
def smtp():
    get_transport.cache_clear()
    with SmtpSink() as sink, override_settings(PARLEY_SMTP={"url": sink.url, "mail_from": "help@shop.example"}):
        yield sink
    get_transport.cache_clear()


def leave(client, token, email="vera@home.example", body="Do you ship to Norway?", client_id="offline-0001"):
    return post(client, "offline", {"token": token, "client_id": client_id, "email": email, "body": body})


def test_it_offers_the_offline_form_when_no_agent_is_online(client, offline, alice, token):
    answer = post(client, "availability", {"token": token}).json()
    assert answer == {"live": False, "offline_form": True, "next_opening": None, "reply_email": ""}


def test_it_offers_live_chat_when_a_member_agent_is_online(client, offline, alice, token):
    presence.socket_alive(alice.pk, "console-1")
    answer = post(client, "availability", {"token": token}).json()
    assert (answer["live"], answer["offline_form"]) == (True, False)


def test_it_says_when_business_hours_open_next(client, website, token):
    website.config = {"business_hours": SUNDAY_ONLY}
    website.save(update_fields=["config"])

    answer = post(client, "availability", {"token": token}).json()

    assert answer["live"] is False
    assert (answer["next_opening"]["weekday"], answer["next_opening"]["time"]) == (6, "10:00")


def test_it_keeps_the_composer_for_a_visitor_mid_conversation(client, offline, token):
    do_receive_inbound(visitor_envelope(offline, visitor="vera"))
    answer = post(client, "availability", {"token": token}).json()
    assert (answer["live"], answer["offline_form"]) == (False, False)


def test_it_refuses_availability_to_a_foreign_origin_or_a_bad_token(client, offline, token):
    assert post(client, "availability", {"token": token}, origin="https://evil.example").status_code == 403
    assert post(client, "availability", {"token": "forged"}).status_code == 401


def test_it_opens_a_conversation_answered_by_email(client, offline, token):
    response = leave(client, token)

    assert response.status_code == 200
    message = response.json()["message"]
    conversation = Conversation.objects.get(pk=message["conversation"])
    assert (message["body"], message["client_id"]) == ("Do you ship to Norway?", "offline-0001")
    assert conversation.reply_email == "vera@home.example"
    assert conversation.customer.identities.get().kind == "visitor"
    assert post(client, "availability", {"token": token}).json()["reply_email"] == "vera@home.example"


def test_it_stores_a_resent_form_once(client, offline, token):
    leave(client, token)
    leave(client, token)
    assert TimelineEntry.objects.filter(kind="message").count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"email": "not-an-address"}, "email"), ({"email": ""}, "email"), ({"body": "   "}, "body")],
)
def test_it_refuses_a_form_with_a_bad_field_and_stores_nothing(client, offline, token, fields, field):
    body = {"token": token, "client_id": "offline-0001", "email": "vera@home.example", "body": "Hi", **fields}
    response = post(client, "offline", body)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not TimelineEntry.objects.exists()


def test_it_reveals_nothing_of_the_customer_who_owns_the_typed_email(client, offline, token):
    owner = Customer.objects.create(name="Olga")
    Identity.objects.create(customer=owner, kind="email", value="olga@example.org", verified=True)
    do_receive_inbound(visitor_envelope(offline, visitor="olga-visitor", body="My secret order 4711"))
    Identity.objects.filter(value="olga-visitor").update(customer=owner)
    Conversation.objects.update(customer=owner)
    TimelineEntry.objects.update(customer=owner)

    message = leave(client, token, email="Olga@Example.org").json()["message"]
    polled = post(client, "poll", {"token": token, "last_seq": 0}).json()

    assert [m["body"] for m in polled["messages"]] == ["Do you ship to Norway?"]
    conversation = Conversation.objects.get(pk=message["conversation"])
    assert conversation.customer_id != owner.pk
    assert list(owner.identities.values_list("value", flat=True).order_by("value")) == [
        "olga-visitor",
        "olga@example.org",
    ]
    assert not Identity.objects.filter(customer=conversation.customer, kind="email").exists()


def test_it_sends_the_agents_reply_by_email(client, offline, token, alice, smtp):
    message = leave(client, token).json()["message"]
    do_send_reply(alice, message["conversation"], "Yes, in 3 days.")

    async_to_sync(deliver_outbox)()

    [email] = smtp.wait_for(1)
    assert email["To"] == "vera@home.example"
    assert "Yes, in 3 days." in email.get_content()


def test_it_emails_the_transcript_with_public_messages_only(client, website, token, alice, smtp):
    entry = do_receive_inbound(visitor_envelope(website, visitor="vera", body="Is the blue one in stock?")).entry
    do_add_note(alice, entry.conversation_id, "internal: check the warehouse")
    do_send_reply(alice, entry.conversation_id, "It is, ships today.")
    async_to_sync(deliver_outbox)()  # the reply goes over the widget transport

    response = post(client, "transcript", {"token": token, "email": "vera@home.example"})
    async_to_sync(deliver_outbox)()

    assert response.status_code == 202
    [email] = smtp.wait_for(1)
    text = email.get_content()
    assert email["To"] == "vera@home.example"
    assert "Is the blue one in stock?" in text
    assert "It is, ships today." in text
    assert "Alice" in text
    assert "warehouse" not in text
    activity = TimelineEntry.objects.get(kind="activity", payload__event="transcript")
    assert (activity.direction, activity.public_seq, activity.delivery_status) == ("internal", None, "sent")


def test_it_refuses_a_transcript_while_no_mail_can_go_out_and_stores_nothing(client, website, token):
    do_receive_inbound(visitor_envelope(website, visitor="vera"))

    with override_settings(PARLEY_SMTP={"url": None, "mail_from": None}):
        response = post(client, "transcript", {"token": token, "email": "vera@home.example"})

    assert response.status_code == 409
    assert "queued" not in response.json()
    assert not TimelineEntry.objects.filter(kind="activity", payload__event="transcript").exists()


@pytest.mark.usefixtures("smtp")
def test_it_refuses_a_transcript_without_a_conversation_or_address(client, website, token):
    assert post(client, "transcript", {"token": token, "email": "vera@home.example"}).status_code == 400
    do_receive_inbound(visitor_envelope(website, visitor="vera"))
    assert post(client, "transcript", {"token": token, "email": "nope"}).json()["field"] == "email"


@pytest.mark.usefixtures("smtp")
def test_it_limits_transcripts_per_visitor(client, website, token):
    do_receive_inbound(visitor_envelope(website, visitor="vera"))
    with override_settings(PARLEY_RATE_LIMITS={"transcripts_per_visitor": (2, 3600)}):
        codes = [post(client, "transcript", {"token": token, "email": "v@home.example"}).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
