"""The embedded default's channel layer: Channels' in-memory layer without a scan on every call.

Channels' ``InMemoryChannelLayer`` runs ``_clean_expired`` on every ``group_send`` and ``receive``: a walk
over every channel and every group membership in the process. With one channel per open socket that is
2.4 ms per call at 2,000 sockets and 14.6 ms at 10,000, and it was half of the embedded server's CPU
(issue 11). Its ``group_send`` also starts a task and deep-copies the message once per member.

``InProcessChannelLayer`` keeps the stock layer's data (``channels``, ``groups``) and its contract, and
changes what each call costs:

- ``send``, ``group_send`` (per member) and ``receive`` do a constant amount of work whatever the number
  of channels and groups. Expiry is a sweep of the whole layer at most once per ``sweep_interval``
  seconds, started lazily by whichever call comes first after it is due (no background task: a layer
  outlives event loops in tests, and a task is bound to one loop).
- Between sweeps expiry still holds where it matters: ``receive`` drops a message older than ``expiry``
  when it pops it, and ``group_send`` skips a membership older than ``group_expiry``.
- What the sweep does is the stock cleanup: expired messages are dropped, and a channel that had one is
  removed from all of its groups (nobody was reading it: a consumer gone without ``group_discard``),
  through an index of each channel's groups rather than a walk over every group.
- ``group_send`` copies the message once and puts that one copy on every member's queue.
- Capacity is the stock one: ``send`` to a full channel raises ``ChannelFull``; ``group_send`` skips it.
- Each channel's messages are held by a ``_Queue``, not an ``asyncio.Queue``: every idle socket's consumer
  waits on its channel, and an empty ``asyncio.Queue`` holds four deques (3.2 KiB a socket, measured
  with bench/socket_memory.py) where a waiting consumer needs one future.

Like the stock layer it lives inside one process: the embedded default, never several web processes.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from copy import deepcopy

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

# How often, at most, the whole layer is swept. A sweep over 10,000 channels and memberships costs about
# 3.5 ms of CPU (bench/layers.py, a loaded machine): 0.07% of a core every 5 s, where the stock layer
# spent as long on every call. A dead consumer's channel stays in its groups for at most ``expiry`` plus
# this long; meanwhile it costs one queue entry per event until its queue is full.
SWEEP_INTERVAL = 5.0


class InProcessChannelLayer(InMemoryChannelLayer):
    """``InMemoryChannelLayer`` whose calls cost the same with 10 or 10,000 channels; see the module doc.

    Extra options: ``sweep_interval`` (seconds between sweeps, at most) and ``clock`` (a function returning
    seconds, ``time.monotonic`` by default; tests pass their own).
    """

    def __init__(
        self,
        expiry=60,
        group_expiry=86400,
        capacity=100,
        channel_capacity=None,
        sweep_interval: float = SWEEP_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        **kwargs,
    ):
        super().__init__(
            expiry=expiry, group_expiry=group_expiry, capacity=capacity, channel_capacity=channel_capacity, **kwargs
        )
        self.sweep_interval = sweep_interval
        self.clock = clock
        # channel -> the groups it is in, so that dropping a channel from its groups does not walk them all.
        self.channel_groups: dict[str, set[str]] = {}
        self._next_sweep = clock() + sweep_interval

    # Channel layer API

    async def send(self, channel, message):
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        self._sweep_if_due()
        # A copy, as the stock layer makes: the sender may change its dict after the call.
        if not self._put(channel, (self.clock() + self.expiry, deepcopy(message))):
            raise ChannelFull(channel)

    async def group_send(self, group, message):
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._sweep_if_due()
        members = self.groups.get(group)
        if not members:
            return
        now = self.clock()
        # One copy for the whole group, where the stock layer deep-copies per member (a fan-out to 1,000
        # consoles was 1,000 copies): the copy protects the message from its sender, and every member
        # may share it because consumers treat events as read-only. Parley's handlers (cc_* in
        # contact_center/consumers.py, widget/consumers.py) only read them and build new frames; a
        # handler that changed its event in place would change it for the other members too.
        item = (now + self.expiry, deepcopy(message))
        joined_after = now - self.group_expiry
        expired = []
        for channel, joined in members.items():
            if joined < joined_after:
                expired.append(channel)
            else:
                self._put(channel, item)  # a full channel is skipped, as in the stock layer
        for channel in expired:
            self._discard(group, channel)

    async def receive(self, channel):
        self.require_valid_channel_name(channel)
        self._sweep_if_due()
        while True:
            queue = self.channels.get(channel)
            if queue is None:
                queue = self.channels[channel] = _Queue(self.get_capacity(channel))
            try:
                expires, message = await queue.get()
            finally:
                if queue.empty():
                    self.channels.pop(channel, None)
            # Checked here rather than by a sweep before every receive: never hand out an expired message.
            if expires >= self.clock():
                return message

    # Expiry

    def _sweep_if_due(self):
        now = self.clock()
        if now >= self._next_sweep:
            self._next_sweep = now + self.sweep_interval
            self._sweep(now)

    def _sweep(self, now: float):
        """Drop expired messages (and their channels from every group) and expired memberships."""
        for channel, queue in list(self.channels.items()):
            pending = queue.items  # (expires, message), oldest first
            if pending and pending[0][0] < now:
                while pending and pending[0][0] < now:
                    queue.get_nowait()
                self._remove_from_groups(channel)
                if queue.empty():
                    self.channels.pop(channel, None)
        joined_after = now - self.group_expiry
        for group, members in list(self.groups.items()):
            for channel in [channel for channel, joined in members.items() if joined < joined_after]:
                self._discard(group, channel)

    def _clean_expired(self):
        # The stock layer's per-call scan; kept callable (as a sweep now) for anything that calls it.
        self._sweep(self.clock())

    def _remove_from_groups(self, channel):
        for group in self.channel_groups.pop(channel, ()):
            members = self.groups.get(group)
            if members is not None:
                members.pop(channel, None)
                if not members:
                    del self.groups[group]

    def _put(self, channel: str, item: tuple) -> bool:
        """Queue ``item`` on ``channel``; False when the channel is full."""
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = _Queue(self.get_capacity(channel))
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True

    def _discard(self, group: str, channel: str):
        members = self.groups.get(group)
        if members is not None:
            members.pop(channel, None)
            if not members:
                del self.groups[group]
        groups = self.channel_groups.get(channel)
        if groups is not None:
            groups.discard(group)
            if not groups:
                del self.channel_groups[channel]

    # Flush extension

    async def flush(self):
        await super().flush()
        self.channel_groups = {}
        self._next_sweep = self.clock() + self.sweep_interval

    # Groups extension

    async def group_add(self, group, channel):
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        # Joining again (sockets.py renews its groups) moves the membership's expiry forward.
        self.groups.setdefault(group, {})[channel] = self.clock()
        self.channel_groups.setdefault(channel, set()).add(group)

    async def group_discard(self, group, channel):
        self.require_valid_channel_name(channel)
        self.require_valid_group_name(group)
        self._discard(group, channel)


class _Queue:
    """One channel's messages: the part of ``asyncio.Queue`` the layer uses (``put_nowait``, ``get``,
    ``get_nowait``, ``empty``), with the same wake-up and cancellation rules, in a fraction of its memory.
    Messages get a deque only while there are some; a waiting ``get`` costs its future and a list."""

    __slots__ = ("maxsize", "items", "getters")

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self.items: deque | None = None
        self.getters: list[asyncio.Future] | None = None

    def empty(self) -> bool:
        return not self.items

    def qsize(self) -> int:
        return len(self.items) if self.items else 0

    def put_nowait(self, item) -> None:
        if self.items is None:
            self.items = deque()
        elif 0 < self.maxsize <= len(self.items):
            raise asyncio.QueueFull
        self.items.append(item)
        self._wake_next()

    def get_nowait(self):
        if not self.items:
            raise asyncio.QueueEmpty
        item = self.items.popleft()
        if not self.items:
            self.items = None  # an empty deque still holds a 64-slot block
        return item

    async def get(self):
        while not self.items:
            getter = asyncio.get_running_loop().create_future()
            if self.getters is None:
                self.getters = []
            self.getters.append(getter)
            try:
                await getter
            except BaseException:
                # As asyncio.Queue.get: a getter woken, then cancelled, passes its wake-up on.
                getter.cancel()
                if self.getters is not None and getter in self.getters:
                    self.getters.remove(getter)
                if self.items and not getter.cancelled():
                    self._wake_next()
                raise
        return self.get_nowait()

    def _wake_next(self) -> None:
        getters = self.getters
        while getters:
            getter = getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                break
        if not getters:
            self.getters = None
