"""Parley's channel layer on Redis: events over pub/sub, named channels on lists.

The layer only notifies; the database is the record (docs/architecture.md). What it carries is of two
kinds, and each goes where it costs least while staying correct:

- **Events to sockets**: ``group_send`` to a group, ``send`` to a socket's own channel (a name from
  ``new_channel()``, with a ``!``). These go over Redis pub/sub: one ``PUBLISH`` per event, which Redis
  pushes to each process that has a member, where it is decoded once and put on each member's queue. The
  stock core layer (``channels_redis.core.RedisChannelLayer``) instead runs a Lua script per
  ``group_send`` that pushes one copy per member into Redis lists, and each process pops them back with
  its own round trip: 39-45 us of the web process's CPU per delivery against 5-8 (docs/benchmarks.md,
  "Channel layers"). Group memberships live in the process, not in Redis: the process subscribes to a
  group when its first socket joins and unsubscribes when its last one leaves, so nothing is left behind
  in Redis by a process that dies, and memberships never expire.
- **Named channels** (no ``!``; the outbox worker's wake-up, ``actions/outbox.WAKE_CHANNEL``) stay on the
  core layer's lists, because pub/sub only reaches whoever is subscribed at that moment: a wake-up sent
  while the worker runs a pass would be lost, where a list keeps it for ``expiry`` seconds.

Why not Channels' own ``RedisPubSubChannelLayer`` (D20): it loses those wake-ups; its queues have no
capacity; one lock per process serialises every publish and every subscribe, one round trip at a time; it
decodes an event once per member; and its ``group_add`` returns before Redis has taken the subscription,
so an event published right after a socket joined (its replay read from the database, say) could miss it.

Guarantees, which tests/test_redis_events_layer.py specifies:

- ``group_add`` returns once Redis has confirmed the subscription: anything published to the group after
  that reaches the channel. Joins made in the same moment by many sockets go out as one ``SUBSCRIBE``.
- Each channel's queue holds ``capacity`` events (``channel_capacity`` per pattern, as in Channels); past
  that, new events for it are dropped and counted, as the core layer drops them. Clients notice the gap
  in ``seq`` and resume from the database (docs/protocols/).
- If the subscriber connection is lost (Redis restarts, or Redis cuts off a process that fell behind its
  ``client-output-buffer-limit pubsub``), whatever was published meanwhile is gone, so every channel then
  open in the process fails its next ``receive`` with the connection error: its socket closes, and the
  client reconnects and resumes, exactly as with the core layer. The next ``group_add`` connects again,
  at once (no backoff to wait out).
- A subscriber connection that stops answering (no close from the peer) is detected by a ``PING`` every
  ``ping_interval`` seconds and treated as lost after ``3 * ping_interval`` of silence.

Events are shared: a message decoded once goes to every member's queue, so consumers must treat layer
messages as read-only, as with ``contact_center.channel_layer.InProcessChannelLayer``.

One Redis host (a Sentinel or URL host dict as channels-redis accepts); no sharding.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import secrets
import time
import types
from collections import deque

import msgpack
from channels.layers import BaseChannelLayer
from channels_redis.core import RedisChannelLayer
from channels_redis.utils import create_pool, decode_hosts
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

PING_INTERVAL = 15.0


class SubscriberLost(RedisConnectionError):
    """The process's subscriber connection to Redis was lost: events published meanwhile are gone."""


class SkipSocketsClosedForALostSubscriber(logging.Filter):
    """For daphne's logger: a socket closed because its process lost the subscriber is not an application
    error to report with a traceback, thousands of times at once; the layer logs the loss once."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SubscriberLost))


def _pack(message: dict) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def _unpack(data: bytes):
    return msgpack.unpackb(data, raw=False)


class _Channel:
    """One socket's channel in this process: a bounded queue and the groups it is in."""

    __slots__ = ("capacity", "queue", "waiter", "groups", "broken", "dropped")

    def __init__(self, capacity: int):
        self.capacity = capacity
        # A deque only while events wait: an empty one is about 600 bytes, for every idle socket.
        self.queue: deque | None = None
        self.waiter: asyncio.Future | None = None
        self.groups: set[str] = set()
        self.broken: BaseException | None = None
        self.dropped = 0

    def put(self, message) -> bool:
        if self.queue is None:
            self.queue = deque()
        elif len(self.queue) >= self.capacity:
            self.dropped += 1
            return False
        self.queue.append(message)
        self._wake()
        return True

    def break_with(self, error: BaseException) -> None:
        self.broken = error
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class RedisEventsLayer(BaseChannelLayer):
    """See the module doc. Options as ``channels_redis.core.RedisChannelLayer`` (``hosts``, ``prefix``,
    ``capacity``, ``channel_capacity``, ``expiry``, ``group_expiry``: the last two for named channels),
    plus ``ping_interval`` (seconds)."""

    extensions = ["groups", "flush"]

    def __init__(
        self,
        hosts=None,
        prefix: str = "asgi",
        expiry: int = 60,
        group_expiry: int = 86400,
        capacity: int = 100,
        channel_capacity=None,
        ping_interval: float = PING_INTERVAL,
        **kwargs,
    ):
        super().__init__(expiry=expiry, capacity=capacity, channel_capacity=channel_capacity)
        decoded = decode_hosts(hosts)
        if len(decoded) != 1:
            raise ValueError("RedisEventsLayer takes exactly one Redis host")
        self.host = decoded[0]
        self.prefix = prefix
        self.ping_interval = ping_interval
        # Named channels only: a Redis list per channel, kept for `expiry` seconds.
        self.lists = RedisChannelLayer(
            hosts=hosts,
            prefix=prefix,
            expiry=expiry,
            group_expiry=group_expiry,
            capacity=capacity,
            channel_capacity=channel_capacity,
            **kwargs,
        )
        self._loops: dict[asyncio.AbstractEventLoop, _LoopLayer] = {}

    def _here(self) -> _LoopLayer:
        # Redis connections belong to the event loop that opened them (tests run many loops).
        loop = asyncio.get_running_loop()
        layer = self._loops.get(loop)
        if layer is None:
            layer = self._loops[loop] = _LoopLayer(self)
            _close_with(loop, self, layer)
        return layer

    def group_channel(self, group: str) -> str:
        return f"{self.prefix}:group:{group}"

    # Channel layer API

    async def new_channel(self, prefix: str = "specific."):
        return self._here().new_channel(prefix)

    async def send(self, channel: str, message: dict):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        if "!" in channel:
            await self._here().send_to_socket(channel, message)
        else:
            await self.lists.send(channel, message)

    async def receive(self, channel: str):
        self.require_valid_channel_name(channel)
        if "!" in channel:
            return await self._here().receive(channel)
        return await self.lists.receive(channel)

    async def group_add(self, group: str, channel: str):
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        await self._here().group_add(self.group_channel(group), channel)

    async def group_discard(self, group: str, channel: str):
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        self._here().group_discard(self.group_channel(group), channel)

    async def group_send(self, group: str, message: dict):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_group_name(group)
        await self._here().publish(self.group_channel(group), _pack(message))

    async def flush(self):
        """Forget every channel and membership of this loop and close its connections (tests)."""
        layer = self._loops.pop(asyncio.get_running_loop(), None)
        if layer is not None:
            await layer.close()
        await self.lists.flush()

    def dropped(self) -> int:
        """Events dropped so far by full channels in this loop (benchmarks read it)."""
        layer = self._loops.get(asyncio.get_running_loop())
        return layer.dropped if layer is not None else 0


class _LoopLayer:
    """The layer's state in one event loop: local channels, memberships, and two kinds of connection."""

    def __init__(self, outer: RedisEventsLayer):
        self.outer = outer
        # Names from new_channel() are "<prefix><token>!<n>"; sends to them go to "<layer prefix>:to:<token>".
        self.token = secrets.token_hex(6)
        self.inbox_channel = f"{outer.prefix}:to:{self.token}"
        self.subscriber_name = f"{outer.prefix}:subscriber:{self.token}"
        self._numbers = itertools.count(1)
        self.channels: dict[str, _Channel] = {}
        # Redis channel of a group -> the local channels in it.
        self.members: dict[str, set[str]] = {}
        self.dropped = 0
        self._publisher = aioredis.Redis(connection_pool=create_pool(self.outer.host))
        # The subscriber connection and what it has been asked, batched by _flush_commands().
        self._subscriber = None
        self._connecting: asyncio.Task | None = None
        self._reader: asyncio.Task | None = None
        self._pinger: asyncio.Task | None = None
        self._to_subscribe: set[str] = set()
        self._to_unsubscribe: set[str] = set()
        self._flushing: asyncio.Task | None = None
        # Redis channel -> a future resolved once Redis has confirmed every SUBSCRIBE sent for it.
        self._confirmed: dict[str, asyncio.Future] = {}
        self._unconfirmed: dict[str, int] = {}
        self._last_heard = time.monotonic()

    # Channels

    def new_channel(self, prefix: str) -> str:
        name = f"{prefix}{self.token}!{next(self._numbers)}"
        self.channels[name] = _Channel(self.outer.get_capacity(name))
        return name

    def _channel(self, name: str) -> _Channel:
        channel = self.channels.get(name)
        if channel is None:
            if not self._ours(name):
                raise RuntimeError(f"{name} is not a channel of this process: only its own are received here")
            channel = self.channels[name] = _Channel(self.outer.get_capacity(name))
        return channel

    def _ours(self, name: str) -> bool:
        return name[: name.index("!")].rsplit(".", 1)[-1] == self.token

    async def receive(self, name: str):
        channel = self._channel(name)
        try:
            while not channel.queue:
                if channel.broken is not None:
                    # Its socket is about to close: it leaves its groups now, or a reconnection would
                    # subscribe them again for nobody.
                    self._close_channel(name)
                    raise channel.broken
                channel.waiter = asyncio.get_running_loop().create_future()
                try:
                    await channel.waiter
                finally:
                    channel.waiter = None
        except asyncio.CancelledError:
            # Channels cancels a consumer's receive when the consumer ends: its channel ends with it.
            self._close_channel(name)
            raise
        message = channel.queue.popleft()
        if not channel.queue:
            channel.queue = None
        return message

    def _close_channel(self, name: str) -> None:
        channel = self.channels.pop(name, None)
        if channel is not None:
            for group in list(channel.groups):
                self.group_discard(group, name)

    def _deliver(self, name: str, message) -> None:
        channel = self.channels.get(name)
        if channel is not None and not channel.put(message):
            self.dropped += 1
            if channel.dropped == 1:
                logger.warning("channel %s is full (%d events): dropping events for it", name, channel.capacity)

    async def send_to_socket(self, name: str, message: dict) -> None:
        if self._ours(name):
            # A copy, as every layer makes: the sender may change its dict after the call.
            self._deliver(name, _unpack(_pack(message)))
        else:
            token = name[: name.index("!")].rsplit(".", 1)[-1]
            await self.publish(f"{self.outer.prefix}:to:{token}", _pack([name, message]))

    async def publish(self, redis_channel: str, data: bytes) -> None:
        await self._publisher.publish(redis_channel, data)

    # Groups

    async def group_add(self, group: str, name: str) -> None:
        channel = self.channels.get(name)
        if channel is None:
            if not self._ours(name):
                raise RuntimeError(f"{name} is not a channel of this process: only its own join groups here")
            return  # it has ended (its consumer is gone): nothing would read what the group sends
        members = self.members.setdefault(group, set())
        members.add(name)
        channel.groups.add(group)
        confirmed = self._confirmed.get(group)
        if confirmed is None:
            confirmed = self._confirmed[group] = asyncio.get_running_loop().create_future()
            self._to_unsubscribe.discard(group)
            self._to_subscribe.add(group)
            self._schedule_flush()
        # Shielded: one socket giving up its connect must not cancel the other joiners' wait.
        await asyncio.shield(confirmed)

    def group_discard(self, group: str, name: str) -> None:
        members = self.members.get(group)
        if members is None or name not in members:
            return
        members.discard(name)
        channel = self.channels.get(name)
        if channel is not None:
            channel.groups.discard(group)
        if members:
            return
        del self.members[group]
        confirmed = self._confirmed.pop(group, None)
        if confirmed is not None and not confirmed.done():
            # Its only member left before Redis confirmed: nobody waits for that subscription any more.
            confirmed.set_result(None)
        self._to_subscribe.discard(group)
        if self._subscriber is not None:  # without a connection, Redis holds no subscription to drop
            self._to_unsubscribe.add(group)
            self._schedule_flush()

    # The subscriber connection

    def _schedule_flush(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush_commands())

    async def _flush_commands(self) -> None:
        """Send what was asked since the last flush: one UNSUBSCRIBE and one SUBSCRIBE, each with every name.

        Runs as one task at a time, so joins that arrive while a command is being written go in the next.
        """
        try:
            while self._to_subscribe or self._to_unsubscribe:
                subscriber = await self._connected()
                leaving, self._to_unsubscribe = self._to_unsubscribe, set()
                joining, self._to_subscribe = self._to_subscribe, set()
                if leaving:
                    await self._send(subscriber, "UNSUBSCRIBE", *leaving)
                if joining:
                    for group in joining:
                        self._unconfirmed[group] = self._unconfirmed.get(group, 0) + 1
                    await self._send(subscriber, "SUBSCRIBE", *joining)
        except (OSError, RedisError) as error:
            self._lost(error)

    async def _send(self, subscriber, *command) -> None:
        # redis-py reconnects a closed connection on its own when asked to send; a subscriber connection
        # must never come back that way, without its subscriptions and with nobody reading it.
        if subscriber is not self._subscriber or not subscriber.is_connected:
            raise SubscriberLost("the subscriber connection was replaced")
        await subscriber.send_command(*command, check_health=False)

    async def _connected(self):
        if self._subscriber is not None:
            return self._subscriber
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
        return await asyncio.shield(self._connecting)

    async def _connect(self):
        # Its own pool with no read timeout: a subscriber is silent for as long as nothing happens. Named,
        # so that CLIENT LIST shows whose it is. RESP2, where what Redis pushes arrives as plain replies
        # (redis-py 8 speaks RESP3 by default, and hands pushes to a callback instead).
        options = {**self.outer.host, "socket_timeout": None, "client_name": self.subscriber_name, "protocol": 2}
        subscriber = create_pool(options).make_connection()
        await subscriber.connect()
        self._last_heard = time.monotonic()
        # What this process needs on a new connection: its own inbox, and every group it still has members
        # in (after a reconnection: channels opened since the loss joined groups that were never subscribed).
        for group in self.members:
            if group not in self._confirmed:
                self._confirmed[group] = asyncio.get_running_loop().create_future()
            self._to_subscribe.add(group)
        self._to_unsubscribe.clear()
        self._unconfirmed = {}
        await subscriber.send_command("SUBSCRIBE", self.inbox_channel, check_health=False)
        self._subscriber = subscriber
        self._reader = asyncio.get_running_loop().create_task(self._read(subscriber))
        self._pinger = asyncio.get_running_loop().create_task(self._ping(subscriber))
        return subscriber

    async def _read(self, subscriber) -> None:
        try:
            while True:
                reply = await subscriber.read_response(disable_decoding=True, timeout=math.inf)
                self._last_heard = time.monotonic()
                kind = reply[0]
                if kind == b"message":
                    self._on_message(reply[1].decode(), reply[2])
                elif kind == b"subscribe":
                    self._on_subscribed(reply[1].decode())
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001  (whatever ended the connection: every channel must know)
            if self._subscriber is subscriber:
                self._lost(error)

    def _on_message(self, redis_channel: str, data: bytes) -> None:
        if redis_channel == self.inbox_channel:
            name, message = _unpack(data)
            self._deliver(name, message)
            return
        members = self.members.get(redis_channel)
        if members:
            # Decoded once and shared by every member (consumers treat events as read-only).
            message = _unpack(data)
            for name in members:
                self._deliver(name, message)

    def _on_subscribed(self, redis_channel: str) -> None:
        left = self._unconfirmed.get(redis_channel, 0) - 1
        if left > 0:
            self._unconfirmed[redis_channel] = left
            return
        self._unconfirmed.pop(redis_channel, None)
        confirmed = self._confirmed.get(redis_channel)
        if confirmed is not None and not confirmed.done() and redis_channel not in self._to_subscribe:
            confirmed.set_result(None)

    async def _ping(self, subscriber) -> None:
        while True:
            await asyncio.sleep(self.outer.ping_interval)
            if subscriber is not self._subscriber:
                return
            if time.monotonic() - self._last_heard > 3 * self.outer.ping_interval:
                self._lost(SubscriberLost("Redis stopped answering the subscriber connection"))
                return
            try:
                await self._send(subscriber, "PING")
            except (OSError, RedisError) as error:
                self._lost(error)
                return

    def _lost(self, error: BaseException) -> None:
        """The subscriber connection is gone, and with it what was published meanwhile: every open channel
        fails its next receive, so each socket closes and its client resumes from the database."""
        subscriber, self._subscriber = self._subscriber, None
        if subscriber is None and not self._confirmed:
            return
        lost = error if isinstance(error, SubscriberLost) else SubscriberLost(f"Redis subscriber lost: {error}")
        logger.warning("%s; closing the %d sockets of this process", lost, len(self.channels))
        for channel in self.channels.values():
            channel.break_with(lost)
        for confirmed in self._confirmed.values():
            if not confirmed.done():
                confirmed.set_exception(lost)
                # Retrieved here so that a join nobody awaits any more logs nothing.
                confirmed.exception()
        self._confirmed = {}
        self._unconfirmed = {}
        self._to_subscribe.clear()
        self._to_unsubscribe.clear()
        for task in (self._reader, self._pinger):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        if subscriber is not None:
            asyncio.get_running_loop().create_task(_disconnect(subscriber))

    async def close(self) -> None:
        for task in (self._reader, self._pinger, self._flushing, self._connecting):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._subscriber is not None:
            await _disconnect(self._subscriber)
            self._subscriber = None
        await self._publisher.aclose(close_connection_pool=True)


async def _disconnect(connection) -> None:
    with contextlib.suppress(Exception):
        await connection.disconnect()


def _close_with(loop: asyncio.AbstractEventLoop, outer: RedisEventsLayer, layer: _LoopLayer) -> None:
    """Close the loop's connections when the loop closes (tests and async_to_sync end loops), as
    channels-redis does for its own."""
    original = loop.close

    def close(self, *args, **kwargs):
        if outer._loops.get(loop) is layer:
            del outer._loops[loop]
            if not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(layer.close())
        return original(*args, **kwargs)

    loop.close = types.MethodType(close, loop)
