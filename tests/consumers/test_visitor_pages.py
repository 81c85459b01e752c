"""The visitor socket's ``page`` frame: where the visitor browses reaches the agents of the inbox."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from contact_center.models import Conversation
from tests.consumers import hello, open_agent, open_visitor, receive_until, send

pytestmark = pytest.mark.django_db(transaction=True)

HOME = {"url": "https://shop.example/", "title": "Acme"}
PRICING = {"url": "https://shop.example/pricing", "title": "Pricing"}


@database_sync_to_async
def context_of(conversation_id: int) -> dict:
    return Conversation.objects.get(pk=conversation_id).visitor_context


async def test_it_stores_the_page_and_publishes_it_to_the_agents(website, alice):
    visitor = await open_visitor(website, "vera")
    await hello(visitor)
    ack = await send(visitor, "client-0001", "Hi")
    agent = await open_agent(alice)

    await visitor.send_json_to({"type": "page", "page": PRICING})
    event, _ = await receive_until(agent, "conversation.context")

    conversation = ack["message"]["conversation"]
    assert event["conversation"] == conversation
    assert event["visitor_context"]["page"] == PRICING
    assert (await context_of(conversation))["page"] == PRICING
    await visitor.disconnect()
    await agent.disconnect()


async def test_it_keeps_the_page_of_a_visitor_without_a_conversation_until_their_first_message(website, alice):
    visitor = await open_visitor(website, "vera")
    await hello(visitor)
    await visitor.send_json_to({"type": "page", "page": HOME})
    await visitor.send_json_to({"type": "page", "page": PRICING})
    ack = await send(visitor, "client-0001", "Hi")

    conversation = ack["message"]["conversation"]
    # The page is stored just after the ack is sent.
    for _ in range(50):
        if (await context_of(conversation)).get("page"):
            break
        await asyncio.sleep(0.05)
    assert (await context_of(conversation))["page"] == PRICING
    await visitor.disconnect()


async def test_it_answers_a_page_that_is_not_a_web_url_with_an_error_and_stays_open(website):
    visitor = await open_visitor(website, "vera")
    await hello(visitor)

    await visitor.send_json_to({"type": "page", "page": {"url": "javascript:alert(1)", "title": "x"}})
    error = await visitor.receive_json_from()

    assert error["type"] == "error"
    assert error["code"] == "invalid"
    assert (await send(visitor, "client-0001", "Still here"))["message"]["body"] == "Still here"
    await visitor.disconnect()
