"""Where socket and worker code does its database work: a small pool of threads, each with its own
connection, and what that work publishes, sent from the event loop once it has committed.

Channels' ``database_sync_to_async`` runs every call of the process on one shared thread. Under load
every socket queued behind the slowest action, and each commit's publish blocked that thread on the
channel layer (issue 11, docs/benchmarks.md). Here instead:

- calls run on ``PARLEY_DATABASE_THREADS`` threads: 4 by default on PostgreSQL, 1 on SQLite, which has
  one writer: a second writing thread would only wait on its lock in SQLite's busy handler, which sleeps
  in steps of up to 100 ms;
- what a call publishes on commit (``contact_center.actions.events``) is collected in its thread and sent
  by ``db_call`` on the caller's event loop after the call returns, so no database thread ever waits on
  the channel layer.

Order: a socket handles one frame at a time, so its calls, and what they publish, run in order. Calls
about one conversation from different sockets are ordered by the conversation's row lock; their events
may reach the layer in another order than they committed, which clients already handle: an entry whose
seq skips one starts a sync (docs/protocols/).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db import connection, connections

from contact_center.actions import events

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def database_threads() -> int:
    """``PARLEY_DATABASE_THREADS``, or by backend when it is 0 (docs/configuration.md)."""
    return settings.PARLEY_DATABASE_THREADS or (1 if connection.vendor == "sqlite" else 4)


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=database_threads(), thread_name_prefix="parley-db")
    return _pool


def _collecting(function):
    def run(*args, **kwargs):
        with events.collecting() as collected:
            return function(*args, **kwargs), collected

    return run


async def db_call(function, *args, **kwargs) -> Any:
    """``function(*args, **kwargs)`` on a database thread; then, on this event loop, what it published.

    Stale connections are closed around the call, as Channels' ``database_sync_to_async`` does.
    """
    result, collected = await DatabaseSyncToAsync(_collecting(function), thread_sensitive=False, executor=_executor())(
        *args, **kwargs
    )
    await events.send_collected(collected)
    return result


def close_connections() -> None:
    """Close the connections every database thread holds (tests: PostgreSQL will not drop a test
    database someone is connected to). Blocks until each thread has closed its own."""
    pool = _pool
    if pool is None:
        return
    workers = pool._max_workers
    barrier = threading.Barrier(workers)

    def close():
        connections.close_all()
        barrier.wait(timeout=30)  # holds this thread so each of the others takes one close

    for future in [pool.submit(close) for _ in range(workers)]:
        future.result()
