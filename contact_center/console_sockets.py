"""The console sockets open in this process, and the timers they share.

Every open console socket needs two things done regularly: its presence key refreshed
(contact_center/presence.py: ``HEARTBEAT_SECONDS``) and its session checked for revocation
(``agent_security.SESSION_CHECK_SECONDS``, in case the ``session.revoked`` event was dropped: the channel
layer is at-most-once). Done per socket, that was two timers and a worker-thread hop per socket every
few seconds, which an idle console still paid. Here one registry per event loop (daphne runs one; the
tests run many) keeps the loop's console sockets, and two tasks serve them all:

- the heartbeat: one ``presence.sockets_alive`` call for every socket, a few cache round trips in all;
- the session watch: one ``agent_security.revoked_sessions`` read (one ``get_many``) for every socket,
  closing those of revoked sessions with the callback each registered.

Connects and clean closes are batched the same way: queued, then written together by one worker-thread
call, so a reconnect storm of consoles costs a few cache round trips per batch, not per socket. The tasks
run only while the loop has sockets: none are left behind when the last one closes.

The cache may be Redis, whose calls block: every cache call runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async

from contact_center import presence
from contact_center.actions import agent_security

logger = logging.getLogger(__name__)


@dataclass
class _Socket:
    agent_id: int
    session_id: str | None
    on_revoked: Callable[[], Awaitable[None]]
    closing: bool = False


def _in_thread(function):
    return sync_to_async(function, thread_sensitive=False)


class ConsoleSockets:
    """The console sockets of one event loop. ``add`` on connect, ``discard`` on disconnect."""

    def __init__(self):
        self.sockets: dict[str, _Socket] = {}  # socket id (its channel name) -> socket
        self._opened: dict[str, int] = {}  # socket id -> agent id, not yet written
        self._closed: dict[str, int] = {}  # socket id -> agent id, not yet forgotten
        self._flush: asyncio.Task | None = None
        self._timers: list[asyncio.Task] = []

    def add(self, socket_id: str, agent_id: int, session_id: str | None, on_revoked: Callable[[], Awaitable[None]]):
        """Count ``socket_id`` as open for the agent from now on; ``on_revoked`` closes it once its session
        ``session_id`` is revoked (called once)."""
        self.sockets[socket_id] = _Socket(agent_id, session_id, on_revoked)
        self._closed.pop(socket_id, None)
        self._opened[socket_id] = agent_id
        self._schedule_flush()
        if not self._timers:
            self._timers = [asyncio.create_task(self._heartbeat()), asyncio.create_task(self._session_watch())]

    def discard(self, socket_id: str) -> None:
        """The socket closed: it stops counting (its key is deleted in the next batch)."""
        socket = self.sockets.pop(socket_id, None)
        if socket is None:
            return
        self._opened.pop(socket_id, None)
        # Deleted even when its first write is still queued or in flight: the delete comes after it.
        self._closed[socket_id] = socket.agent_id
        self._schedule_flush()
        if not self.sockets:
            # Cancelled, not awaited: awaiting here would also swallow a cancellation of the caller.
            for task in self._timers:
                task.cancel()
            self._timers = []

    def _schedule_flush(self) -> None:
        if self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._write_changes())

    async def _write_changes(self) -> None:
        # While one batch is written, the next one gathers: under a storm the batches grow, the calls do not.
        while self._opened or self._closed:
            opened = [(agent_id, socket_id) for socket_id, agent_id in self._opened.items()]
            closed = [(agent_id, socket_id) for socket_id, agent_id in self._closed.items()]
            self._opened, self._closed = {}, {}
            try:
                await _in_thread(_write)(opened, closed)
            except Exception:
                logger.warning(
                    "presence of %s new and %s closed consoles not written", len(opened), len(closed), exc_info=True
                )

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(presence.HEARTBEAT_SECONDS)
            sockets = [(socket.agent_id, socket_id) for socket_id, socket in self.sockets.items()]
            try:
                await _in_thread(presence.sockets_alive)(sockets)
            except Exception:
                logger.warning("presence heartbeat of %s console sockets failed", len(sockets), exc_info=True)

    async def _session_watch(self) -> None:
        while True:
            await asyncio.sleep(agent_security.SESSION_CHECK_SECONDS)
            sessions = {socket.session_id for socket in self.sockets.values() if socket.session_id}
            if not sessions:
                continue
            revoked = await _in_thread(agent_security.revoked_sessions)(sessions)
            ending = [s for s in self.sockets.values() if s.session_id in revoked and not s.closing]
            for socket in ending:
                socket.closing = True
            for outcome in await asyncio.gather(*(s.on_revoked() for s in ending), return_exceptions=True):
                if isinstance(outcome, Exception):
                    logger.warning("closing a console socket of a revoked session failed", exc_info=outcome)


def _write(opened: list[tuple[int, str]], closed: list[tuple[int, str]]) -> None:
    presence.sockets_alive(opened)
    presence.sockets_closed(closed)


_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConsoleSockets] = weakref.WeakKeyDictionary()


def console_sockets() -> ConsoleSockets:
    """The registry of the running event loop."""
    loop = asyncio.get_running_loop()
    registry = _registries.get(loop)
    if registry is None:
        registry = _registries[loop] = ConsoleSockets()
    return registry
