"""Socket and worker database work runs on a pool of threads; what it publishes leaves from the event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.layers import get_channel_layer
from django.db import connection, transaction

from contact_center import database_threads
from contact_center.actions.events import send_event_on_commit
from contact_center.database_threads import db_call

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sends(monkeypatch):
    """Every group_send, with the thread it was made on and whether the database call had returned."""
    layer = get_channel_layer()
    recorded = []
    original = layer.group_send

    async def group_send(group, message):
        recorded.append((group, message["event"]["type"], threading.current_thread()))
        timeline.append(f"sent {message['event']['type']} to {group}")
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)
    return recorded


# What happened, in order: sends and the end of the database call.
timeline: list[str] = []


@pytest.fixture
def pool_of(settings, monkeypatch):
    """A fresh pool of ``n`` threads for one test (the process keeps one pool otherwise)."""

    def make(n: int):
        settings.PARLEY_DATABASE_THREADS = n
        monkeypatch.setattr(database_threads, "_pool", None)

    yield make
    database_threads.close_connections()


def publish_twice(threads: list):
    threads.append(threading.current_thread())
    with transaction.atomic():
        send_event_on_commit({"type": "first"}, ["inbox.1"])
        send_event_on_commit({"type": "second"}, ["inbox.1", "agent.2"])
    timeline.append("committed and returning")
    return "done"


async def test_what_a_call_publishes_is_sent_from_the_event_loop_in_commit_order(sends):
    call_threads = []
    timeline.clear()

    assert await db_call(publish_twice, call_threads) == "done"

    loop_thread = threading.current_thread()
    assert call_threads[0] is not loop_thread
    assert call_threads[0].name.startswith("parley-db")
    assert [(group, kind) for group, kind, _ in sends] == [
        ("inbox.1", "first"),
        ("inbox.1", "second"),
        ("agent.2", "second"),
    ]
    assert {thread for _, _, thread in sends} == {loop_thread}
    # Sent once the database thread was done with the call, not while it waited in the commit.
    assert timeline == [
        "committed and returning",
        "sent first to inbox.1",
        "sent second to inbox.1",
        "sent second to agent.2",
    ]


def roll_back():
    with transaction.atomic():
        send_event_on_commit({"type": "never"}, ["inbox.1"])
        raise ValueError("refused")


async def test_a_rolled_back_call_publishes_nothing(sends):
    with pytest.raises(ValueError):
        await db_call(roll_back)

    assert sends == []


async def test_one_slow_call_does_not_hold_up_the_others_with_more_than_one_thread(pool_of):
    pool_of(2)
    # Each call waits for the other to arrive: on a single thread they would never meet.
    both_arrived = threading.Barrier(2, timeout=10)

    results = await asyncio.gather(db_call(both_arrived.wait), db_call(both_arrived.wait))

    assert sorted(results) == [0, 1]


def test_sqlite_gets_one_thread_and_postgresql_four_unless_set(settings):
    settings.PARLEY_DATABASE_THREADS = 0
    assert database_threads.database_threads() == (1 if connection.vendor == "sqlite" else 4)
    settings.PARLEY_DATABASE_THREADS = 3
    assert database_threads.database_threads() == 3
