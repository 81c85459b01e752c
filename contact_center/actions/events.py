"""Publishing realtime events, always after the transaction that caused them commits.

The channel layer only notifies; the database is the record. So a publish that fails (Redis down, a
full channel) is logged and dropped: clients resume from the database with the last seq they saw.

Work that socket and worker code runs through ``contact_center.database_threads.db_call`` does not
publish from its database thread: what it schedules here is collected on commit and sent by the caller,
on its event loop, once the call has returned. Elsewhere (HTTP views, management commands) it is sent
on commit from the thread that committed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# The consumer method that receives every published event: ``cc.event`` -> ``cc_event``.
EVENT_TYPE = "cc.event"

# A channel-layer call to make after commit, and what it is about (for the log when it fails).
Notification = tuple[Callable[[], Awaitable[Any]], str]

_collected: ContextVar[list[Notification] | None] = ContextVar("parley_collected_notifications", default=None)


def send_event_on_commit(event: dict[str, Any], groups: Iterable[str]) -> None:
    """Publish ``event`` to ``groups`` once the current transaction commits (at once outside one)."""
    groups = list(groups)
    if groups:
        transaction.on_commit(lambda: publish(event, groups))


def publish(event: dict[str, Any], groups: list[str]) -> None:
    """Send ``event`` to ``groups`` now; the caller's transaction has committed."""
    message = {"type": EVENT_TYPE, "event": event}
    _committed((partial(_group_send_all, groups, message), f"{event.get('type')} to {groups}"))


def notify_on_commit(call: Callable[[], Awaitable[Any]], about: str) -> None:
    """Await ``call()`` (a channel-layer call) once the current transaction commits (at once outside
    one); ``about`` names it in the warning logged when it fails."""
    transaction.on_commit(partial(_committed, (call, about)))


def _committed(notification: Notification) -> None:
    collected = _collected.get()
    if collected is not None:
        collected.append(notification)
    else:
        async_to_sync(_notify)(notification)


@contextlib.contextmanager
def collecting() -> Iterator[list[Notification]]:
    """Collect what commits inside this block schedule, instead of sending it from this thread."""
    collected: list[Notification] = []
    token = _collected.set(collected)
    try:
        yield collected
    finally:
        _collected.reset(token)


async def send_collected(collected: list[Notification]) -> None:
    """Send what ``collecting`` gathered, in the order it committed."""
    for notification in collected:
        await _notify(notification)


async def _notify(notification: Notification) -> None:
    call, about = notification
    try:
        await call()
    except Exception:
        logger.warning("could not publish %s; clients will catch up on resume", about, exc_info=True)


async def _group_send_all(groups: list[str], message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    for group in groups:
        await layer.group_send(group, message)
