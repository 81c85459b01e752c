"""POST /widget/api/poll/ and /widget/api/messages/: the widget's HTTP fallback when WebSockets are blocked."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync

from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.models import Conversation, TimelineEntry
from tests.consumers import hello, open_visitor, send
from widget.tokens import issue_visitor_token

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "https://shop.example"


def post(client, path: str, body, origin: str | None = SHOP):
    headers = {"Origin": origin} if origin else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/widget/api/{path}/", data=data, content_type="application/json", headers=headers)


@pytest.fixture
def token(website):
    return issue_visitor_token(website.public_key, "vera")


def test_it_stores_a_message_and_answers_it_as_the_socket_acks_it(client, website, token):
    response = post(client, "messages", {"token": token, "client_id": "client-0001", "body": "  Hi there "})

    assert response.status_code == 200
    message = response.json()["message"]
    assert (message["body"], message["direction"], message["seq"], message["client_id"]) == (
        "Hi there",
        "in",
        1,
        "client-0001",
    )
    assert TimelineEntry.objects.get().external_id == "widget:vera:client-0001"


def test_it_stores_a_message_sent_over_http_then_resent_on_the_socket_once(client, website, token):
    first = post(client, "messages", {"token": token, "client_id": "client-0001", "body": "Hi"}).json()["message"]

    async def resend():
        visitor = await open_visitor(website, "vera")
        await hello(visitor)
        ack = await send(visitor, "client-0001", "Hi")
        await visitor.disconnect()
        return ack

    ack = async_to_sync(resend)()

    assert ack["message"]["id"] == first["id"]
    assert TimelineEntry.objects.count() == 1


def test_it_answers_the_public_messages_after_last_seq(client, website, alice, token):
    for n in range(1, 4):
        post(client, "messages", {"token": token, "client_id": f"client-000{n}", "body": f"Message {n}"})
    conversation = Conversation.objects.get()
    do_add_note(alice, conversation.pk, "Internal: never for the visitor")
    do_send_reply(alice, conversation.pk, "Hello Vera")

    response = post(client, "poll", {"token": token, "last_seq": 2})

    assert response.status_code == 200
    data = response.json()
    assert data["conversation"] == conversation.pk
    assert [(m["seq"], m["body"]) for m in data["messages"]] == [(3, "Message 3"), (4, "Hello Vera")]


def test_it_answers_a_visitor_who_never_wrote_with_no_conversation(client, website, token):
    assert post(client, "poll", {"token": token, "last_seq": 0}).json() == {"messages": [], "conversation": None}


def test_it_records_the_page_given_with_a_poll(client, website, token):
    post(client, "messages", {"token": token, "client_id": "client-0001", "body": "Hi"})
    page = {"url": "https://shop.example/pricing", "title": "Pricing"}

    post(client, "poll", {"token": token, "last_seq": 1, "page": page})

    assert Conversation.objects.get().visitor_context["page"] == page


def test_it_stores_the_message_even_when_its_page_is_unusable(client, website, token):
    body = {"token": token, "client_id": "client-0001", "body": "Hi", "page": {"url": "javascript:x", "title": ""}}

    assert post(client, "messages", body).status_code == 200
    assert TimelineEntry.objects.get().body == "Hi"
    assert "page" not in Conversation.objects.get().visitor_context


@pytest.mark.parametrize("path", ["poll", "messages"])
def test_it_refuses_a_foreign_origin(client, website, token, path):
    body = {"token": token, "client_id": "client-0001", "body": "Hi", "last_seq": 0}

    response = post(client, path, body, origin="https://evil.example")

    assert response.status_code == 403
    assert TimelineEntry.objects.count() == 0


@pytest.mark.parametrize("path", ["poll", "messages"])
def test_it_refuses_a_bad_token_with_401(client, website, path):
    response = post(client, path, {"token": "not-a-token", "client_id": "client-0001", "body": "Hi"})

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("not json", "the body must be JSON"),
        ({"client_id": "client-0001", "body": "Hi"}, "token is required"),
        ({"token": "TOKEN", "client_id": "short", "body": "Hi"}, "client_id is required"),
        ({"token": "TOKEN", "client_id": "client-0001", "body": "   "}, "a message cannot be empty"),
    ],
)
def test_it_refuses_a_bad_message_with_a_clear_error(client, website, token, body, error):
    if isinstance(body, dict) and body.get("token") == "TOKEN":
        body = {**body, "token": token}

    response = post(client, "messages", body)

    assert response.status_code == 400
    assert response.json() == {"error": error}
    assert TimelineEntry.objects.count() == 0
