"""Redis restarts under live sockets: clients that resume lose nothing and duplicate nothing.

Redis is only the channel layer, and the layer is at-most-once: an event published while Redis is down
is gone. The database is the record, so a client that says ``hello`` with the last seq it holds gets
back whatever it missed, and a write it resends under the same client id is stored once.

The scenario runs a private redis-server (never the machine's shared one) under one `manage.py serve`
process and takes it away mid-conversation, without persistence: it comes back empty, with no group
memberships. While it is down the clients keep typing, and messages are written elsewhere (another tab
of the visitor, another agent's console): they commit, and their publish fails. The visitor stays away
until the replies sent after Redis returned have gone out to its (empty) group, so a client that does
not resume provably misses them. The same scenario run with clients that do not resume proves that the
test notices a loss.

Last, the server must not hold on to what died with Redis: the first socket after it returns opens.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, field

from tests.integration import DEMO_PASSWORD, DEMO_USERNAME, LIVE, seed_demo, stored_messages
from tests.support.clients import AgentClient, VisitorClient
from tests.support.live import LiveStack
from tests.support.services import PrivateRedis, needs_redis_binary

# Bound on reconnecting after Redis returns (client backoff is at most 2 s) and on the outbox worker's
# retry of a reply that failed while Redis was down. A liveness bound, not a performance claim.
RECONNECT = 30

BEFORE = ["visitor: hello, is my order shipped?", "agent: let me check", "visitor: thanks", "agent: found it"]
VISITOR_TYPED_WHILE_DOWN = "visitor: typed while Redis was down"
AGENT_TYPED_WHILE_DOWN = "agent: typed while Redis was down"
VISITOR_OTHER_TAB = "visitor: from another tab while Redis was down"
AGENT_OTHER_CONSOLE = "agent: from another console while Redis was down"
VISITOR_AFTER = "visitor: after Redis came back"
AGENT_AFTER = "agent: after Redis came back"
VISITOR_LINES = [*BEFORE[0::2], VISITOR_TYPED_WHILE_DOWN, VISITOR_OTHER_TAB, VISITOR_AFTER]
AGENT_LINES = [*BEFORE[1::2], AGENT_TYPED_WHILE_DOWN, AGENT_OTHER_CONSOLE, AGENT_AFTER]


@needs_redis_binary()
def test_it_delivers_every_message_exactly_once_across_a_redis_restart(tmp_path):
    run = _restart_redis_mid_conversation(tmp_path, resume=True)

    assert run.visitor_reconnected and run.agent_reconnected
    # Every message of either side, once each, in the same order everywhere.
    assert sorted(run.stored) == sorted(VISITOR_LINES + AGENT_LINES)
    assert run.visitor_saw == run.stored
    assert run.agent_saw == run.stored


@needs_redis_binary()
def test_it_shows_that_clients_which_do_not_resume_miss_what_was_published_while_they_were_away(tmp_path):
    run = _restart_redis_mid_conversation(tmp_path, resume=False)

    assert run.visitor_reconnected and run.agent_reconnected
    # The record is whole: the loss is the clients' alone.
    assert sorted(run.stored) == sorted(VISITOR_LINES + AGENT_LINES)
    assert set(run.stored) - set(run.visitor_saw) == {VISITOR_OTHER_TAB, AGENT_TYPED_WHILE_DOWN, AGENT_OTHER_CONSOLE}
    # Customer messages only: a colleague's reply missed live comes back later with its delivery-status
    # update (entry.updated), at a moment the outbox worker decides.
    assert set(VISITOR_LINES) - set(run.agent_saw) == {VISITOR_OTHER_TAB}


@needs_redis_binary()
def test_it_opens_the_first_socket_after_redis_returns_at_the_first_attempt(tmp_path):
    redis = PrivateRedis(tmp_path)
    redis.start()
    stack = None
    try:
        stack = LiveStack(tmp_path, redis_url=redis.url, database_url=os.environ.get("DATABASE_URL"))
        inbox_key = seed_demo(stack)
        base = stack.start("web")
        attempts = asyncio.run(_reconnect_once_redis_is_back(redis, base, inbox_key))
    finally:
        if stack is not None:
            stack.stop()
        redis.stop()

    # The connections pooled before the restart are dead: none of them may cost a refused handshake.
    assert attempts == {"opened": 1, "failed": 0}


async def _reconnect_once_redis_is_back(redis: PrivateRedis, base: str, inbox_key: str) -> dict[str, int]:
    visitor = VisitorClient(base, inbox_key)
    await visitor.start()
    try:
        # A visitor with a conversation joins its group on connect: the handshake needs Redis.
        await visitor.wait_acked(await visitor.send("hello"), LIVE)
        redis.stop()
        await visitor.wait_until(lambda: not visitor.is_ready, LIVE, "the socket to drop")
        await visitor.go_offline()
        redis.start()
        opened, failed = visitor.connections, visitor.failed_attempts
        visitor.go_online()
        await visitor.wait_until(lambda: visitor.is_ready, RECONNECT, "a resumed session")
        return {"opened": visitor.connections - opened, "failed": visitor.failed_attempts - failed}
    finally:
        await visitor.close()


# --- the scenario -------------------------------------------------------------------------------------


@dataclass
class Run:
    visitor_saw: list[str] = field(default_factory=list)  # the visitor's record, by seq
    agent_saw: list[str] = field(default_factory=list)  # the console's record of the conversation, by seq
    stored: list[str] = field(default_factory=list)  # the database, by seq
    visitor_reconnected: bool = False
    agent_reconnected: bool = False


def _restart_redis_mid_conversation(tmp_path, *, resume: bool) -> Run:
    redis = PrivateRedis(tmp_path)
    redis.start()
    stack = None
    try:
        stack = LiveStack(tmp_path, redis_url=redis.url, database_url=os.environ.get("DATABASE_URL"))
        inbox_key = seed_demo(stack)
        base = stack.start("web,worker")
        run, conversation = asyncio.run(_converse(stack, redis, base, inbox_key, resume=resume))
        run.stored = stored_messages(stack, conversation)
        return run
    finally:
        if stack is not None:
            stack.stop()
        redis.stop()


async def _converse(stack: LiveStack, redis: PrivateRedis, base: str, inbox_key: str, *, resume: bool):
    visitor = VisitorClient(base, inbox_key, resume=resume)
    agent = AgentClient(base, DEMO_USERNAME, DEMO_PASSWORD, resume=resume)
    await asyncio.gather(visitor.start(), agent.start())
    try:
        for line in BEFORE:
            if line in VISITOR_LINES:
                await visitor.wait_acked(await visitor.send(line), LIVE)
                await agent.wait_until(lambda line=line: line in agent.bodies(visitor.conversation), LIVE, line)
            else:
                await agent.reply(visitor.conversation, line)
                await visitor.wait_until(lambda line=line: line in visitor.bodies(), LIVE, line)
        conversation = visitor.conversation
        connections = (visitor.connections, agent.connections)

        # Redis goes away: the consumers' reads on the layer fail, every socket drops, none can open.
        redis.stop()
        await visitor.wait_until(lambda: not visitor.is_ready, LIVE, "the socket to drop")
        await agent.wait_until(lambda: not agent.is_ready, LIVE, "the socket to drop")

        # Both keep typing: the clients hold the messages until a socket takes them.
        await visitor.send(VISITOR_TYPED_WHILE_DOWN)
        await agent.reply(conversation, AGENT_TYPED_WHILE_DOWN)
        assert visitor.pending and agent.pending
        # Elsewhere, messages are written all the same: they commit, and their publish fails.
        await asyncio.to_thread(_write_elsewhere, stack, inbox_key, visitor.visitor_id, conversation)

        # The visitor stays away until every reply has gone out to its group after Redis returned.
        await visitor.go_offline()
        redis.start()
        await agent.wait_until(lambda: agent.is_ready and not agent.pending, RECONNECT, "a resumed session")
        await asyncio.to_thread(_wait_until_every_delivery_is_sent, stack)
        visitor.go_online()
        await visitor.wait_until(lambda: visitor.is_ready and not visitor.pending, RECONNECT, "a resumed session")

        # And the conversation goes on, live.
        await visitor.send(VISITOR_AFTER)
        await agent.wait_until(lambda: VISITOR_AFTER in agent.bodies(conversation), LIVE, VISITOR_AFTER)
        await agent.reply(conversation, AGENT_AFTER)
        await visitor.wait_until(lambda: AGENT_AFTER in visitor.bodies(), LIVE, AGENT_AFTER)
        if resume:
            # Replays may still be on their way: wait for the whole record (a loss fails here).
            everything = len(VISITOR_LINES + AGENT_LINES)
            await visitor.wait_until(lambda: len(visitor.messages) >= everything, LIVE, "the whole conversation")
            await agent.wait_until(lambda: len(agent.entries(conversation)) >= everything, LIVE, "the whole record")

        run = Run(
            visitor_saw=visitor.bodies(),
            agent_saw=[e["body"] for e in agent.entries(conversation) if e["kind"] == "message"],
            visitor_reconnected=visitor.connections > connections[0],
            agent_reconnected=agent.connections > connections[1],
        )
        return run, conversation
    finally:
        await asyncio.gather(visitor.close(), agent.close())


def _write_elsewhere(stack: LiveStack, inbox_key: str, visitor_id: str, conversation: int) -> None:
    """A message from another tab of the visitor and a reply from another console, as their sockets would."""
    stack.shell(
        "from contact_center.actions.inbound import do_receive_inbound\n"
        "from contact_center.actions.replies import do_send_reply\n"
        "from contact_center.lib.envelope import InboundEnvelope, Sender\n"
        "from contact_center.models import Agent, Inbox\n"
        f"client_id = {uuid.uuid4().hex!r}\n"
        "do_receive_inbound(InboundEnvelope(\n"
        f"    inbox_id=Inbox.objects.get(public_key={inbox_key!r}).pk,\n"
        f"    external_id='widget:{visitor_id}:' + client_id,\n"
        f"    sender=Sender(kind='visitor', value={visitor_id!r}),\n"
        f"    body={VISITOR_OTHER_TAB!r},\n"
        "    payload={'client_id': client_id, 'page': {}},\n"
        "))\n"
        f"do_send_reply(Agent.objects.get(username={DEMO_USERNAME!r}), {conversation:d}, {AGENT_OTHER_CONSOLE!r},\n"
        f"    client_id={uuid.uuid4().hex!r})\n"
    )


def _wait_until_every_delivery_is_sent(stack: LiveStack) -> None:
    stack.shell(
        "import time\n"
        "from contact_center.models import Delivery\n"
        f"deadline = time.monotonic() + {RECONNECT}\n"
        "while Delivery.objects.exclude(state='sent').exists():\n"
        "    if time.monotonic() > deadline:\n"
        "        raise SystemExit(f'deliveries not sent: {list(Delivery.objects.exclude(state=\"sent\").values())}')\n"
        "    time.sleep(0.2)\n"
    )
