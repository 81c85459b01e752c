"""Parley's Redis channel layer (contact_center/redis_channel_layer.py): events over pub/sub, named
channels on lists, against a real Redis.

Two layer objects on the same Redis stand for two processes. Tests that take Redis away (a lost or silent
connection) run a private redis-server, never the machine's shared one.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from contact_center.redis_channel_layer import RedisEventsLayer, SubscriberLost
from tests.support.services import PrivateRedis, kill_subscriber, needs_redis, needs_redis_binary, redis_url

CAPACITY = 5


def make_layer(url: str, prefix: str, **options) -> RedisEventsLayer:
    return RedisEventsLayer(hosts=[{"address": url}], prefix=prefix, capacity=CAPACITY, expiry=5, **options)


@pytest.fixture
def prefix():
    # Its own namespace per test: the shared Redis may carry other suites' channels.
    return f"test-events-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def processes(prefix):
    """Two layers on one Redis: two web processes."""
    url = redis_url()
    first, second = make_layer(url, prefix), make_layer(url, prefix)
    yield first, second
    await first.flush()
    await second.flush()


@pytest.fixture
async def redis():
    client = aioredis.Redis.from_url(redis_url())
    yield client
    await client.aclose()


async def received(layer, channel, within: float = 5):
    return await asyncio.wait_for(layer.receive(channel), timeout=within)


async def nothing_for(layer, channel) -> bool:
    """Whether nothing arrives for a moment (read off the queue: a cancelled receive would end the channel)."""
    await asyncio.sleep(0.2)
    return not layer._here().channels[channel].queue


async def members_in_redis(redis, layer, group) -> int:
    [(_, count)] = await redis.pubsub_numsub(layer.group_channel(group))
    return count


pytestmark = needs_redis()


async def test_a_group_send_reaches_every_member_in_every_process_once(processes):
    first, second = processes
    here = [await first.new_channel() for _ in range(3)]
    there = [await second.new_channel() for _ in range(2)]
    for channel in here:
        await first.group_add("inbox.1", channel)
    for channel in there:
        await second.group_add("inbox.1", channel)

    await first.group_send("inbox.1", {"type": "cc.event", "n": 1})

    for channel in here:
        assert await received(first, channel) == {"type": "cc.event", "n": 1}
    for channel in there:
        assert await received(second, channel) == {"type": "cc.event", "n": 1}
    for channel in here:
        assert await nothing_for(first, channel)


async def test_a_group_send_reaches_no_channel_outside_the_group(processes):
    first, second = processes
    member, outsider = await second.new_channel(), await second.new_channel()
    await second.group_add("inbox.1", member)
    await second.group_add("inbox.2", outsider)

    await first.group_send("inbox.1", {"type": "cc.event"})

    assert await received(second, member) == {"type": "cc.event"}
    assert await nothing_for(second, outsider)


async def test_group_add_returns_once_redis_has_the_subscription(processes, redis, monkeypatch):
    """A socket joins, then reads what it missed from the database: anything published after the join
    must reach it, or an event between the join and the read is lost. Many rounds, each on a fresh group,
    with the subscriber's commands slowed as a busy Redis or network would."""
    first, second = processes
    await second.group_add("warm-up", await second.new_channel())
    here = second._here()
    send = here._send

    async def slowly(subscriber, *command):
        await asyncio.sleep(0.02)
        await send(subscriber, *command)

    monkeypatch.setattr(here, "_send", slowly)
    for round_ in range(20):
        channel = await second.new_channel()
        await second.group_add(f"fresh.{round_}", channel)
        assert await members_in_redis(redis, second, f"fresh.{round_}") == 1
        await first.group_send(f"fresh.{round_}", {"type": "cc.event", "round": round_})
        assert await received(second, channel, within=2) == {"type": "cc.event", "round": round_}


async def test_joins_in_the_same_moment_go_to_redis_as_one_subscribe(processes, monkeypatch):
    _, second = processes
    channels = [await second.new_channel() for _ in range(100)]
    await second.group_add("warm-up", channels[0])  # the connection, and its own SUBSCRIBE
    commands = []
    here = second._here()
    send = here._send

    def counted(subscriber, *command):
        commands.append(command[0])
        return send(subscriber, *command)

    monkeypatch.setattr(here, "_send", counted)

    await asyncio.gather(*(second.group_add(f"visitor.{n}", channel) for n, channel in enumerate(channels)))

    assert commands == ["SUBSCRIBE"]


async def test_redis_keeps_a_groups_subscription_while_a_member_is_left_and_drops_it_after(processes, redis):
    _, second = processes
    one, two = await second.new_channel(), await second.new_channel()
    await second.group_add("inbox.1", one)
    await second.group_add("inbox.1", two)
    assert await members_in_redis(redis, second, "inbox.1") == 1  # one subscription per process

    await second.group_discard("inbox.1", one)
    await asyncio.sleep(0.1)
    assert await members_in_redis(redis, second, "inbox.1") == 1

    await second.group_discard("inbox.1", two)
    await asyncio.sleep(0.1)
    assert await members_in_redis(redis, second, "inbox.1") == 0


async def test_a_channel_whose_consumer_ends_leaves_its_groups(processes, redis):
    first, second = processes
    channel = await second.new_channel()
    await second.group_add("inbox.1", channel)

    # Channels cancels a consumer's pending receive when the consumer ends.
    waiting = asyncio.ensure_future(second.receive(channel))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.sleep(0.1)

    assert await members_in_redis(redis, second, "inbox.1") == 0
    assert channel not in second._here().channels


async def test_a_channel_that_ended_joins_no_group_again(processes, redis):
    """A late membership renewal for a socket that is gone must not bring its channel back."""
    _, second = processes
    channel = await second.new_channel()
    waiting = asyncio.ensure_future(second.receive(channel))
    await asyncio.sleep(0.05)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)

    await second.group_add("inbox.1", channel)

    assert channel not in second._here().channels
    assert await members_in_redis(redis, second, "inbox.1") == 0


async def test_a_process_refuses_to_join_another_processes_channel(processes):
    first, second = processes
    with pytest.raises(RuntimeError):
        await first.group_add("inbox.1", await second.new_channel())


async def test_a_send_to_a_sockets_channel_reaches_it_in_its_own_process_or_another(processes):
    first, second = processes
    theirs, ours = await second.new_channel(), await first.new_channel()
    await second.group_add("anything", theirs)  # a process hears its channels once it is connected
    await first.group_add("anything", ours)

    await first.send(theirs, {"type": "cc.close", "to": "theirs"})
    await first.send(ours, {"type": "cc.close", "to": "ours"})

    assert await received(second, theirs) == {"type": "cc.close", "to": "theirs"}
    assert await received(first, ours) == {"type": "cc.close", "to": "ours"}


async def test_a_named_channel_keeps_what_was_sent_before_anyone_received(processes):
    """The outbox worker's wake-up: pub/sub would lose one sent while the worker runs a pass."""
    first, second = processes

    await first.send("parley.outbox.wake", {"type": "outbox.wake"})

    assert await received(second, "parley.outbox.wake") == {"type": "outbox.wake"}


async def test_a_full_channel_drops_what_comes_past_its_capacity_and_no_other_channel_does(processes):
    first, second = processes
    slow, other = await second.new_channel(), await second.new_channel()
    await second.group_add("inbox.1", slow)
    await second.group_add("visitor.1", other)

    for n in range(CAPACITY + 3):
        await first.group_send("inbox.1", {"type": "cc.event", "n": n})
    await first.group_send("visitor.1", {"type": "cc.event", "n": "other"})
    assert await received(second, other) == {"type": "cc.event", "n": "other"}

    assert [(await received(second, slow))["n"] for _ in range(CAPACITY)] == list(range(CAPACITY))
    assert await nothing_for(second, slow)
    assert second.dropped() == 3


async def test_members_share_one_decoded_copy_of_an_event_and_the_sender_keeps_its_own(processes):
    first, second = processes
    one, two = await second.new_channel(), await second.new_channel()
    await second.group_add("inbox.1", one)
    await second.group_add("inbox.1", two)
    message = {"type": "cc.event", "entry": {"id": 1}}

    await first.group_send("inbox.1", message)
    message["entry"]["id"] = 2

    got_one, got_two = await received(second, one), await received(second, two)
    assert got_one == {"type": "cc.event", "entry": {"id": 1}}
    assert got_one is got_two


# --- Redis away -------------------------------------------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@needs_redis_binary()
async def test_a_lost_connection_fails_every_open_channel_and_the_next_join_connects_again(private_redis):
    publisher, layer = make_layer(private_redis.url, "lost"), make_layer(private_redis.url, "lost")
    try:
        grouped, alone = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("inbox.1", grouped)
        waiting = asyncio.ensure_future(layer.receive(grouped))

        await kill_subscriber(private_redis.url, layer)

        # What was published meanwhile is gone: each socket must close, and its client resume.
        with pytest.raises(SubscriberLost):
            await asyncio.wait_for(waiting, timeout=5)
        with pytest.raises(SubscriberLost):
            await received(layer, alone)

        # The failed channels left their groups: a reconnection subscribes only what is still wanted.
        assert layer._here().members == {}

        fresh = await layer.new_channel()
        await layer.group_add("inbox.1", fresh)
        await publisher.group_send("inbox.1", {"type": "cc.event"})
        assert await received(layer, fresh) == {"type": "cc.event"}
    finally:
        await publisher.flush()
        await layer.flush()


@needs_redis_binary()
async def test_a_connection_that_stops_answering_counts_as_lost(private_redis):
    layer = make_layer(private_redis.url, "silent", ping_interval=0.2)
    try:
        channel = await layer.new_channel()
        await layer.group_add("inbox.1", channel)

        private_redis.pause()
        try:
            with pytest.raises(SubscriberLost):
                await received(layer, channel, within=5)
        finally:
            private_redis.resume()
    finally:
        await layer.flush()


@needs_redis_binary()
async def test_a_join_while_redis_is_down_fails_and_the_first_after_it_returns_succeeds(private_redis):
    layer = make_layer(private_redis.url, "down")
    try:
        await layer.group_add("inbox.1", await layer.new_channel())
        private_redis.stop()
        await asyncio.sleep(0.2)

        with pytest.raises((OSError, RedisConnectionError)):
            await layer.group_add("inbox.2", await layer.new_channel())

        private_redis.start()
        await layer.group_add("inbox.3", await layer.new_channel())
    finally:
        await layer.flush()
