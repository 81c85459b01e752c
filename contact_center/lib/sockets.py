"""What both sockets (visitor and agent) share: JSON frames in, group memberships that do not lapse.

Channels' `AsyncJsonWebsocketConsumer` raises on a binary frame or on text that is not JSON, which
closes the socket with 1011 and logs a traceback. A client bug or a probe deserves an `error` frame
and an open socket instead; the protocol docs promise exactly that. Every frame is then validated
into the model its type declares (contact_center/lib/schema.py) before a handler reads it.

A channel layer forgets a group membership `group_expiry` seconds (a day by default) after it was
made, silently: a console left open over a weekend would stop hearing events. Sockets renew their
memberships well before that, so a socket that is open is a socket that hears. One task per event loop
(and interval) renews them all: a sleeping task per socket was about 1 KiB of every idle socket.

When thousands of sockets close at once (a deploy, a network blip), their group_discard calls each
want a Redis connection; redis-py's pool refuses the command past `max_connections` and the membership
is left behind. Membership changes go through a per-process gate instead, so a storm queues and
every membership is cleaned up.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

import orjson
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from contact_center.lib.schema import Frame, HostileInput, parse_frame, parse_json
from contact_center.redis_channel_layer import SubscriberLost

logger = logging.getLogger(__name__)

# A frame over MAX_FRAME_CHARS is answered with bad_frame and the socket stays open. The server
# (daphne, through autobahn) reads messages of up to MAX_MESSAGE_BYTES of UTF-8, which holds any
# MAX_FRAME_CHARS characters (4 bytes at most each) and more; beyond it autobahn closes the connection
# (autobahn fails it: logged as 1009, dropped without a close frame, so browsers see 1006) without reading
# the rest, which is the only way not to hold an unbounded message in memory.
MAX_FRAME_CHARS = 64 * 1024
MAX_MESSAGE_BYTES = 1024 * 1024
# Both layers default to a 24 h group_expiry; renewing every 6 h leaves room for a slow or busy Redis.
GROUP_RENEW_SECONDS = 6 * 3600
# Concurrent group_add/group_discard calls per process; far below the Redis pool's max_connections.
MEMBERSHIP_CONCURRENCY = 32

_membership_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
# Per event loop, per renewal interval: the sockets with memberships to renew, and the task renewing them.
_renewals: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, _Renewal]] = weakref.WeakKeyDictionary()


def _membership_gate() -> asyncio.Semaphore:
    # One per event loop: a semaphore belongs to the loop it first waited on (tests run many loops).
    loop = asyncio.get_running_loop()
    gate = _membership_gates.get(loop)
    if gate is None:
        gate = _membership_gates[loop] = asyncio.Semaphore(MEMBERSHIP_CONCURRENCY)
    return gate


class _Renewal:
    __slots__ = ("sockets", "task")

    def __init__(self):
        self.sockets: dict[JsonFrameConsumer, None] = {}  # ordered, so renewals follow the joins
        self.task: asyncio.Task | None = None


def _start_renewing(consumer: JsonFrameConsumer) -> None:
    loop = asyncio.get_running_loop()
    interval = consumer.group_renew_seconds
    renewal = _renewals.setdefault(loop, {}).setdefault(interval, _Renewal())
    renewal.sockets[consumer] = None
    if renewal.task is None:
        renewal.task = loop.create_task(_renew(renewal, interval))


def _stop_renewing(consumer: JsonFrameConsumer) -> None:
    renewal = _renewals.get(asyncio.get_running_loop(), {}).get(consumer.group_renew_seconds)
    if renewal is None or renewal.sockets.pop(consumer, False) is False:
        return
    if not renewal.sockets and renewal.task is not None:
        # Cancelled, not awaited: awaiting it would also swallow a cancellation of the caller.
        renewal.task.cancel()
        renewal.task = None


async def _renew(renewal: _Renewal, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        for consumer in list(renewal.sockets):
            for group in list(consumer.live_groups):
                # group_add on a member only moves its expiry forward.
                try:
                    async with _membership_gate():
                        await consumer.channel_layer.group_add(group, consumer.channel_name)
                except Exception:
                    # One failed renewal (Redis away) must not end the others'; the next round retries.
                    logger.exception("renewing %s's membership of %s failed", consumer.channel_name, group)


def bad_frame(message: str, **extra) -> dict:
    return {"type": "error", "code": "bad_frame", "message": message, **extra}


class JsonFrameConsumer(AsyncJsonWebsocketConsumer):
    # Set once connect() has authenticated the peer. A refused socket is accepted, then closed (so the
    # browser sees the 44xx code); frames that arrive before the close lands are dropped unread.
    authenticated = False
    # Frame type -> its declared model (widget/frames.py, contact_center/frames.py); nothing else is read.
    frames: dict[str, type[Frame]] = {}
    group_renew_seconds = GROUP_RENEW_SECONDS

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except SubscriberLost:
            # The Redis layer lost events meant for this socket: leave as a disconnect would (presence,
            # memberships), then fail, so that daphne closes the socket with 1011 (an application may
            # only send 1000 or 3000-4999) and the client resumes from the database. Settings keep
            # daphne from logging a traceback for each socket; the layer logged the loss once.
            await self.disconnect(1011)
            raise

    async def websocket_connect(self, message):
        self.live_groups: list[str] = []
        await super().websocket_connect(message)

    async def dispatch(self, message):
        # Channels' dispatch first runs close_old_connections() on the database thread, for every
        # message, including channel-layer events that touch no database. That thread is shared by
        # all sockets, so under load each live event queued behind every pending write (seconds, in
        # docs/benchmarks.md). database_sync_to_async already closes stale connections around each
        # database call, which is where they are used.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def join_group(self, group: str):
        await self.join_groups([group])

    async def join_groups(self, groups: list[str]):
        """Join every group at once: a connect waits for the slowest ``group_add``, not for their sum."""

        async def add(group: str):
            async with _membership_gate():
                await self.channel_layer.group_add(group, self.channel_name)

        # Listed before they are joined: should one add fail, disconnect still discards them all.
        self.live_groups.extend(groups)
        await asyncio.gather(*(add(group) for group in groups))
        _start_renewing(self)

    async def leave_group(self, group: str):
        if group in self.live_groups:
            self.live_groups.remove(group)
        async with _membership_gate():
            await self.channel_layer.group_discard(group, self.channel_name)

    async def disconnect(self, code):
        _stop_renewing(self)
        for group in self.live_groups:
            async with _membership_gate():
                await self.channel_layer.group_discard(group, self.channel_name)
        self.live_groups = []

    @classmethod
    async def encode_json(cls, content):
        # Every frame sent is encoded here: orjson takes a fraction of json.dumps' time on an entry
        # with its conversation's summary. Payloads carry datetimes as isoformat strings already.
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            # What orjson refuses and json writes: an integer past 64 bits that an error frame echoes back.
            return await super().encode_json(content)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not self.authenticated:
            return
        if text_data is None:
            await self.send_json(bad_frame("frames are JSON text, not binary"))
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self.send_json(bad_frame(f"a frame is at most {MAX_FRAME_CHARS} characters"))
            return
        try:
            content = parse_json(text_data, check=False)
        except HostileInput as exc:
            await self.send_json(bad_frame(f"a frame is one JSON object, {exc}"))
            return
        if not isinstance(content, dict):
            await self.send_json(bad_frame("a frame is one JSON object"))
            return
        kind = content.get("type")
        model = self.frames.get(kind) if isinstance(kind, str) else None
        if model is None:
            await self.send_json(bad_frame("unknown frame type"))
            return
        frame = parse_frame(model, content, text_data)
        if isinstance(frame, dict):
            await self.send_json(frame)
            return
        # Handlers read the frame's fields as sent, each of its declared type.
        await self.receive_json(frame.content(), **kwargs)
