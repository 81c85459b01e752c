"""contact_center.presence: agents at their consoles, and whether an inbox offers live chat."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache

from contact_center import presence
from contact_center.models import Agent, Inbox
from tests.consumers import WAIT, open_agent, receive_until

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
SUNDAY_NOON = datetime(2026, 12, 6, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
WEEKDAYS = {"timezone": "Europe/Berlin", "days": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}


async def present(agent) -> bool:
    return agent.pk in await database_sync_to_async(presence.present_agent_ids)([agent.pk])


async def eventually(check, expected: bool) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while await check() != expected:
        assert asyncio.get_running_loop().time() < deadline, f"still {not expected}"
        await asyncio.sleep(0.02)


def set_config(inbox: Inbox, **config) -> None:
    inbox.config = {**inbox.config, **config}
    inbox.save(update_fields=["config"])


async def live(inbox: Inbox, at=None) -> presence.InboxAvailability:
    fresh = await database_sync_to_async(Inbox.objects.get)(pk=inbox.pk)
    return await database_sync_to_async(presence.inbox_availability)(fresh, at)


async def test_it_counts_an_agent_present_while_a_console_socket_is_open(alice):
    assert not await present(alice)
    first = await open_agent(alice)
    second = await open_agent(alice)
    await eventually(lambda: present(alice), True)

    await first.disconnect()
    await asyncio.sleep(0.05)
    assert await present(alice), "one console is still open"

    await second.disconnect()
    await eventually(lambda: present(alice), False)


def test_it_forgets_a_socket_whose_node_stopped_refreshing_it(alice, monkeypatch):
    monkeypatch.setattr(presence, "SOCKET_TTL_SECONDS", 1)
    presence.socket_alive(alice.pk, "crashed-node-socket")
    assert presence.present_agent_ids([alice.pk]) == {alice.pk}

    time.sleep(1.1)  # no heartbeat and no goodbye: the node died

    assert presence.present_agent_ids([alice.pk]) == set()


def test_it_puts_back_a_socket_id_lost_from_the_index(alice):
    presence.socket_alive(alice.pk, "a")
    presence.socket_alive(alice.pk, "b")
    # Another node overwrote the index with a stale copy: "b" is missing until its next heartbeat.
    cache.set(presence._index_key(alice.pk), ["a"])
    presence.socket_closed(alice.pk, "a")
    assert presence.present_agent_ids([alice.pk]) == set()

    presence.socket_alive(alice.pk, "b")

    assert presence.present_agent_ids([alice.pk]) == {alice.pk}


async def test_it_keeps_an_inbox_without_settings_live_with_nobody_around(website):
    state = await live(website)
    assert (state.live, state.next_opening) == (True, None)


async def test_it_takes_an_inbox_offline_when_no_member_agent_is_online(website, alice, bob):
    await database_sync_to_async(set_config)(website, offline_without_agents=True)
    assert not (await live(website)).live

    outsider = await open_agent(bob)  # Bob is not a member of the website inbox
    await eventually(lambda: present(bob), True)
    assert not (await live(website)).live

    console = await open_agent(alice)
    await eventually(lambda: present(alice), True)
    assert (await live(website)).live
    await console.disconnect()
    await outsider.disconnect()


async def test_it_does_not_count_a_busy_agent_as_online(website, alice):
    await database_sync_to_async(set_config)(website, offline_without_agents=True)
    console = await open_agent(alice)
    await eventually(lambda: present(alice), True)

    await console.send_json_to({"type": "availability", "availability": "busy"})
    answer, _ = await receive_until(console, "availability")

    assert answer == {"type": "availability", "availability": "busy"}
    assert not (await live(website)).live
    await console.send_json_to({"type": "availability", "availability": "online"})
    await receive_until(console, "availability")
    assert (await live(website)).live
    await console.disconnect()


async def test_it_refuses_an_unknown_availability(alice):
    console = await open_agent(alice)
    await console.send_json_to({"type": "availability", "availability": "napping"})
    error, _ = await receive_until(console, "error")

    assert error["code"] == "bad_frame"
    assert (await database_sync_to_async(Agent.objects.get)(pk=alice.pk)).availability == "online"
    await console.disconnect()


async def test_it_closes_the_inbox_outside_business_hours_and_says_when_it_opens(website, alice):
    await database_sync_to_async(set_config)(website, business_hours=WEEKDAYS)
    console = await open_agent(alice)
    await eventually(lambda: present(alice), True)

    assert (await live(website, MONDAY_NOON)).live
    closed = await live(website, SUNDAY_NOON)

    assert (closed.live, closed.within_hours) == (False, False)
    assert closed.next_opening == datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    await console.disconnect()


async def test_it_treats_broken_business_hours_as_always_open(website):
    await database_sync_to_async(set_config)(website, business_hours={"timezone": "Nowhere/Land", "days": {}})
    assert (await live(website, SUNDAY_NOON)).live
