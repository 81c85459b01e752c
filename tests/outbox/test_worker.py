"""worker.OutboxWorker: hands due deliveries to their transport and records the outcome."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone

from contact_center.actions.conversations import do_snooze
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.models import Conversation, Delivery
from contact_center.transports import OutboundMessage, Transport, TransportError, get_transport
from contact_center.worker import OutboxWorker
from tests.conftest import visitor_envelope
from tests.consumers import WAIT, open_agent, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


class ScriptedTransport(Transport):
    """A provider double: records every message it is handed and answers from a script.

    Each send takes the next outcome from ``outcomes``: an exception is raised, anything else is
    returned as the provider's message id. An empty script means success.
    """

    outcomes: list = []
    sent: list[OutboundMessage] = []

    async def send(self, message: OutboundMessage) -> str | None:
        ScriptedTransport.sent.append(message)
        outcome = ScriptedTransport.outcomes.pop(0) if ScriptedTransport.outcomes else None
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome or f"provider-{len(ScriptedTransport.sent)}"


@pytest.fixture(autouse=True)
def _fresh_transports():
    # get_transport caches one instance per kind for the life of the process.
    get_transport.cache_clear()
    yield
    get_transport.cache_clear()


@pytest.fixture
def provider():
    """Widget inboxes deliver through ScriptedTransport instead of the channel layer."""
    ScriptedTransport.outcomes.clear()
    ScriptedTransport.sent.clear()
    with override_settings(PARLEY_TRANSPORTS={"widget": f"{__name__}.ScriptedTransport"}):
        yield ScriptedTransport


@database_sync_to_async
def conversation_of(inbox, visitor: str = "vera") -> int:
    envelope = visitor_envelope(inbox, visitor=visitor, body="Hello", external_id=f"{visitor}-m1")
    return do_receive_inbound(envelope).entry.conversation_id


@database_sync_to_async
def reply(agent, conversation_id: int, body: str = "How can I help?") -> Delivery:
    return do_send_reply(agent, conversation_id, body).delivery


@database_sync_to_async
def stored(delivery: Delivery) -> Delivery:
    return Delivery.objects.select_related("entry").get(pk=delivery.pk)


@database_sync_to_async
def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


async def test_it_hands_a_due_reply_to_its_transport_and_marks_it_sent(website, alice, provider):
    conversation_id = await conversation_of(website)
    delivery = await reply(alice, conversation_id, "How can I help?")

    assert await OutboxWorker(name="worker-1").run_once() == 1

    [message] = provider.sent
    assert (message.delivery_id, message.conversation_id, message.body) == (
        delivery.pk,
        conversation_id,
        "How can I help?",
    )
    assert (message.to_kind, message.to_value) == ("visitor", "vera")
    assert message.inbox["kind"] == "widget"
    assert message.idempotency_key == str(delivery.idempotency_key)
    assert (message.public_entry["seq"], message.public_entry["author_name"]) == (2, "Alice")
    delivery = await stored(delivery)
    assert (delivery.state, delivery.attempts, delivery.provider_message_id) == ("sent", 1, "provider-1")
    assert delivery.entry.delivery_status == "sent"
    # Sent is final: the next pass finds nothing to do.
    assert await OutboxWorker(name="worker-1").run_once() == 0
    assert len(provider.sent) == 1


async def test_it_never_delivers_a_note(website, alice, provider):
    conversation_id = await conversation_of(website)
    await database_sync_to_async(do_add_note)(alice, conversation_id, "Vera is a VIP")

    assert await OutboxWorker(name="worker-1").run_once() == 0
    assert provider.sent == []


async def test_it_retries_a_transient_failure_later_with_the_same_idempotency_key(website, alice, provider):
    provider.outcomes.append(TransportError("connection reset"))
    delivery = await reply(alice, await conversation_of(website))
    worker = OutboxWorker(name="worker-1")

    assert await worker.run_once() == 1
    failed = await stored(delivery)
    assert (failed.state, failed.attempts, failed.last_error) == ("pending", 1, "connection reset")
    assert failed.next_attempt_at > timezone.now()
    assert failed.entry.delivery_status == "queued"
    # Not due yet: the backoff holds it back.
    assert await worker.run_once() == 0

    await make_due(delivery)
    assert await worker.run_once() == 1

    sent = await stored(delivery)
    assert (sent.state, sent.attempts, sent.entry.delivery_status) == ("sent", 2, "sent")
    first, second = provider.sent
    assert first.idempotency_key == second.idempotency_key == str(delivery.idempotency_key)


async def test_it_gives_up_at_once_on_a_permanent_failure(website, alice, provider):
    provider.outcomes.append(TransportError("no such recipient", permanent=True))
    delivery = await reply(alice, await conversation_of(website))

    assert await OutboxWorker(name="worker-1").run_once() == 1

    dead = await stored(delivery)
    assert (dead.state, dead.attempts, dead.last_error) == ("dead", 1, "no such recipient")
    assert dead.entry.delivery_status == "failed"
    await make_due(delivery)
    assert await OutboxWorker(name="worker-1").run_once() == 0
    assert len(provider.sent) == 1


async def test_it_gives_up_after_the_last_attempt_and_shows_the_failure_in_the_console(website, alice, provider):
    provider.outcomes.extend(TransportError(f"timeout {n}") for n in range(3))
    delivery = await reply(alice, await conversation_of(website))
    console = await open_agent(alice)
    await console.send_json_to({"type": "hello", "resume": {}})
    await receive_until(console, "ready")
    worker = OutboxWorker(name="worker-1")

    for _ in range(3):
        assert await worker.run_once() == 1
        await make_due(delivery)
    assert await worker.run_once() == 0

    dead = await stored(delivery)
    assert (dead.state, dead.attempts, dead.last_error) == ("dead", 3, "timeout 2")
    assert dead.entry.delivery_status == "failed"
    assert len(provider.sent) == 3
    update, _ = await receive_until(console, "entry.updated")
    assert (update["entry"]["id"], update["entry"]["delivery_status"]) == (dead.entry_id, "failed")
    assert update["conversation"]["id"] == dead.entry.conversation_id
    await console.disconnect()


async def test_it_retries_a_transport_that_crashes_like_a_transient_failure(website, alice, provider):
    provider.outcomes.append(RuntimeError("bug in the transport"))
    delivery = await reply(alice, await conversation_of(website))

    assert await OutboxWorker(name="worker-1").run_once() == 1

    failed = await stored(delivery)
    assert (failed.state, failed.last_error) == ("pending", "RuntimeError: bug in the transport")


async def test_it_gives_up_on_an_inbox_kind_without_a_transport(website, alice):
    delivery = await reply(alice, await conversation_of(website))

    with override_settings(PARLEY_TRANSPORTS={}):
        assert await OutboxWorker(name="worker-1").run_once() == 1

    dead = await stored(delivery)
    assert dead.state == "dead"
    assert "no transport" in dead.last_error


async def test_it_delivers_a_widget_reply_to_the_visitors_live_sessions(website, alice):
    conversation_id = await conversation_of(website, "vera")
    delivery = await reply(alice, conversation_id, "How can I help?")
    entry = (await stored(delivery)).entry
    layer = get_channel_layer()
    session = await layer.new_channel()
    await layer.group_add(f"visitor.{website.pk}.{entry.customer_id}", session)

    assert await OutboxWorker(name="worker-1").run_once() == 1

    received = await asyncio.wait_for(layer.receive(session), WAIT)
    assert received["type"] == "cc.event"
    assert received["event"]["type"] == "message"
    message = received["event"]["message"]
    assert (message["id"], message["conversation"], message["seq"]) == (entry.pk, conversation_id, 2)
    assert (message["direction"], message["author_name"], message["body"]) == ("out", "Alice", "How can I help?")
    assert (await stored(delivery)).state == "sent"


async def test_it_keeps_delivering_until_told_to_stop(website, alice, provider):
    conversation_id = await conversation_of(website)
    stop = asyncio.Event()
    running = asyncio.create_task(OutboxWorker(name="worker-1").run_forever(stop))

    deliveries = [await reply(alice, conversation_id, f"Reply {n}") for n in range(3)]

    deadline = timezone.now() + timedelta(seconds=WAIT)
    while {(await stored(d)).state for d in deliveries} != {"sent"}:
        assert timezone.now() < deadline, "the worker did not deliver the replies"
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(running, WAIT)
    assert sorted(message.body for message in provider.sent) == ["Reply 0", "Reply 1", "Reply 2"]


async def test_it_touches_its_heartbeat_file_after_each_pass_that_reached_the_database(website, tmp_path):
    heartbeat = tmp_path / "heartbeat"
    stop = asyncio.Event()
    with override_settings(PARLEY_OUTBOX={**settings.PARLEY_OUTBOX, "heartbeat_file": str(heartbeat)}):
        running = asyncio.create_task(OutboxWorker(name="worker-1").run_forever(stop))
        deadline = timezone.now() + timedelta(seconds=WAIT)
        while not heartbeat.exists():
            assert timezone.now() < deadline, "the worker wrote no heartbeat"
            await asyncio.sleep(0.05)
        first = heartbeat.stat().st_mtime_ns
        os.utime(heartbeat, ns=(first - 10**10, first - 10**10))  # as if written 10 s ago
        while heartbeat.stat().st_mtime_ns < first:
            assert timezone.now() < deadline, "the worker stopped refreshing its heartbeat"
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, WAIT)


async def test_it_writes_no_heartbeat_while_it_cannot_claim(website, tmp_path, monkeypatch):
    heartbeat = tmp_path / "heartbeat"

    def database_down(*args):
        raise OperationalError("connection refused")

    monkeypatch.setattr("contact_center.actions.outbox.claim_due_deliveries", database_down)
    stop = asyncio.Event()
    with override_settings(PARLEY_OUTBOX={**settings.PARLEY_OUTBOX, "heartbeat_file": str(heartbeat)}):
        running = asyncio.create_task(OutboxWorker(name="worker-1").run_forever(stop))
        await asyncio.sleep(settings.PARLEY_OUTBOX["poll_seconds"] * 6)
        stop.set()
        await asyncio.wait_for(running, WAIT)
    assert not heartbeat.exists()


async def test_it_reopens_a_conversation_whose_snooze_is_over_on_its_next_pass(website, alice):
    conversation_id = await conversation_of(website)

    @database_sync_to_async
    def snooze_and_let_the_time_pass():
        do_snooze(alice, conversation_id, timezone.now() + timedelta(hours=1))
        Conversation.objects.filter(pk=conversation_id).update(snoozed_until=timezone.now() - timedelta(seconds=1))

    await snooze_and_let_the_time_pass()
    await OutboxWorker(name="worker-1").run_once()

    conversation = await database_sync_to_async(Conversation.objects.get)(pk=conversation_id)
    assert (conversation.status, conversation.snoozed_until) == ("open", None)
