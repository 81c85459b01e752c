"""contact_center.console_sockets: one heartbeat and one session watch per process, for every console.

The console socket registers here on connect (tests/test_presence.py and
tests/consumers/test_session_revocation.py drive it through real sockets); these specs hold it to its
cost: a few cache round trips per beat, whatever the number of sockets.
"""

from __future__ import annotations

import asyncio

import pytest
from django.core.cache import cache, caches

from contact_center import presence
from contact_center.actions import agent_security
from contact_center.console_sockets import console_sockets
from tests.consumers import WAIT

SOCKETS = 50
AGENTS = 10


async def until(check) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "never happened"
        await asyncio.sleep(0.01)


def never_revoked():
    async def close():
        raise AssertionError("closed, but its session was not revoked")

    return close


@pytest.fixture
def recorded(monkeypatch):
    """Every presence.sockets_alive call, with the sockets it wrote."""
    calls = []
    write = presence.sockets_alive
    monkeypatch.setattr(presence, "sockets_alive", lambda sockets: calls.append(sorted(sockets)) or write(sockets))
    return calls


@pytest.fixture
def cache_calls(monkeypatch):
    """The names of the cache methods called (each a round trip on Redis); not those that LocMemCache's
    own many-key methods make inside them."""
    calls, depth = [], [0]
    backend = caches["default"]

    def counted(name, method):
        def call(*args, **kwargs):
            if not depth[0]:
                calls.append(name)
            depth[0] += 1
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1

        return call

    for name in ("get", "set", "add", "touch", "delete", "get_many", "set_many", "delete_many", "incr"):
        monkeypatch.setattr(backend, name, counted(name, getattr(backend, name)))
    return calls


def open_sockets(registry, count=SOCKETS):
    opened = [(f"socket-{i}", 1 + i % AGENTS) for i in range(count)]
    for socket_id, agent_id in opened:
        registry.add(socket_id, agent_id, None, never_revoked())
    return sorted((agent_id, socket_id) for socket_id, agent_id in opened)


async def close_all(registry):
    for socket_id in list(registry.sockets):
        registry.discard(socket_id)
    await until(lambda: registry._flush is None or registry._flush.done())


async def test_it_refreshes_every_console_socket_of_the_process_in_one_call_per_beat(recorded, monkeypatch):
    monkeypatch.setattr(presence, "HEARTBEAT_SECONDS", 0.05)
    registry = console_sockets()
    everyone = open_sockets(registry)

    await until(lambda: len(recorded) >= 4)
    await close_all(registry)

    # The connects of one moment are written together, then each beat writes all fifty at once.
    assert recorded[0] == everyone
    assert all(beat == everyone for beat in recorded[1:4])
    assert presence.present_agent_ids(range(1, AGENTS + 1)) == set()


def test_a_heartbeat_of_fifty_sockets_of_ten_agents_is_at_most_four_cache_round_trips(cache_calls):
    sockets = [(1 + i % AGENTS, f"socket-{i}") for i in range(SOCKETS)]
    presence.sockets_alive([(1 + i, f"elsewhere-{i}") for i in range(5)])  # another node's, in the indexes
    cache_calls.clear()

    presence.sockets_alive(sockets)  # socket keys, indexes, the other node's keys (to prune), indexes

    assert cache_calls == ["set_many", "get_many", "get_many", "set_many"]
    cache_calls.clear()
    presence.sockets_closed([(1 + i, f"elsewhere-{i}") for i in range(5)])

    presence.sockets_alive(sockets)  # the closed ones are looked up once more, and pruned
    cache_calls.clear()
    presence.sockets_alive(sockets)  # no one else's left to look up

    assert cache_calls == ["set_many", "get_many", "set_many"]
    assert presence.present_agent_ids(range(1, AGENTS + 1)) == set(range(1, AGENTS + 1))


async def test_it_writes_a_storm_of_connects_in_a_few_batches_not_one_call_each(recorded):
    registry = console_sockets()
    open_sockets(registry, 10)
    await asyncio.sleep(0)  # the first batch starts with what is queued so far
    everyone = open_sockets(registry)  # fifty more (ids 0-9 again, reconnected) while it is written

    await until(lambda: sum(len(call) for call in recorded) >= 10 + SOCKETS)

    assert len(recorded) == 2
    assert recorded[1] == everyone
    await close_all(registry)


async def test_it_forgets_closed_sockets_together_and_stops_its_timers_with_the_last_one(cache_calls):
    registry = console_sockets()
    open_sockets(registry)
    await until(lambda: registry._flush.done())
    timers = list(registry._timers)
    cache_calls.clear()

    await close_all(registry)
    await asyncio.sleep(0)

    assert cache_calls == ["delete_many"]
    assert presence.present_agent_ids(range(1, AGENTS + 1)) == set()
    assert all(timer.cancelled() for timer in timers) and registry._timers == []


async def test_it_checks_every_socket_s_session_in_one_read_and_closes_only_the_revoked(monkeypatch):
    monkeypatch.setattr(agent_security, "SESSION_CHECK_SECONDS", 0.05)
    checks = []
    read = agent_security.revoked_sessions
    monkeypatch.setattr(agent_security, "revoked_sessions", lambda ids: checks.append(set(ids)) or read(ids))
    closed = []

    def closer(socket_id):
        async def close():
            closed.append(socket_id)

        return close

    registry = console_sockets()
    for i in range(SOCKETS):
        registry.add(f"socket-{i}", 1 + i % AGENTS, f"session-{i % 25}", closer(f"socket-{i}"))
    await until(lambda: len(checks) >= 1)
    cache.set("session-revoked:session-3", 1)  # as agent_security._mark_revoked does

    await until(lambda: len(checks) >= 4)
    await close_all(registry)

    assert all(check == {f"session-{i}" for i in range(25)} for check in checks)
    assert sorted(closed) == ["socket-28", "socket-3"], "each once, however many checks saw it revoked"
