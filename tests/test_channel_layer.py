"""The embedded default's channel layer (contact_center/channel_layer.py): Channels' in-memory layer's
contract, with expiry swept on a timer instead of on every call.

Time is a fake clock the test moves by hand, so expiry is exact and nothing here waits for it.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.exceptions import ChannelFull

from contact_center.channel_layer import InProcessChannelLayer

EXPIRY = 10
GROUP_EXPIRY = 100
SWEEP_INTERVAL = 5


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def layer(clock):
    return InProcessChannelLayer(
        expiry=EXPIRY, group_expiry=GROUP_EXPIRY, capacity=5, sweep_interval=SWEEP_INTERVAL, clock=clock
    )


@pytest.fixture
def sweeps(layer, monkeypatch):
    """Counts the layer's sweeps over the whole layer."""
    calls = []
    sweep = layer._sweep
    monkeypatch.setattr(layer, "_sweep", lambda now: (calls.append(now), sweep(now)))
    return calls


async def received(layer, channel):
    return await asyncio.wait_for(layer.receive(channel), timeout=5)


async def nothing_for(layer, channel) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), timeout=0.05)
    except TimeoutError:
        return True
    return False


async def test_it_delivers_a_message_sent_to_a_channel(layer):
    await layer.send("c1", {"type": "hi", "n": 1})

    assert await received(layer, "c1") == {"type": "hi", "n": 1}


async def test_it_never_hands_out_a_message_older_than_expiry_between_sweeps(layer, clock, sweeps):
    await layer.send("c1", {"type": "old"})
    clock.now += EXPIRY - 1
    await layer.send("c1", {"type": "new"})  # a sweep now, while "old" is still fresh
    clock.now += 2
    assert len(sweeps) == 1

    assert await received(layer, "c1") == {"type": "new"}
    assert len(sweeps) == 1
    assert await nothing_for(layer, "c1")


async def test_it_drops_an_expired_message_that_nobody_received_at_the_next_sweep(layer, clock):
    await layer.send("c1", {"type": "old"})
    clock.now += EXPIRY + SWEEP_INTERVAL

    await layer.send("c2", {"type": "any"})

    assert "c1" not in layer.channels


async def test_it_removes_a_channel_whose_message_expired_from_its_groups(layer, clock):
    # Nobody read it for `expiry`: a consumer gone without group_discard, as the stock layer judges it.
    joined = clock.now
    await layer.group_add("room", "dead")
    await layer.group_add("room", "alive")
    await layer.group_add("lobby", "dead")
    await layer.group_send("room", {"type": "one"})
    assert await received(layer, "alive") == {"type": "one"}

    clock.now += EXPIRY + SWEEP_INTERVAL
    await layer.group_send("room", {"type": "two"})

    assert layer.groups == {"room": {"alive": joined}}
    assert layer.channel_groups == {"alive": {"room"}}
    assert await received(layer, "alive") == {"type": "two"}


async def test_it_stops_delivering_to_a_membership_older_than_group_expiry_between_sweeps(layer, clock, sweeps):
    await layer.group_add("room", "c1")
    clock.now += GROUP_EXPIRY - 1
    await layer.send("elsewhere", {"type": "any"})  # a sweep now, while the membership is still valid
    clock.now += 2
    assert len(sweeps) == 1

    await layer.group_send("room", {"type": "late"})

    assert len(sweeps) == 1  # group_send itself saw the membership had expired
    assert await nothing_for(layer, "c1")
    assert layer.groups == {}


async def test_it_keeps_a_membership_that_was_renewed(layer, clock):
    await layer.group_add("room", "c1")
    clock.now += GROUP_EXPIRY - 1
    await layer.group_add("room", "c1")  # what sockets.py's renewal does
    clock.now += GROUP_EXPIRY - 1

    await layer.group_send("room", {"type": "still"})

    assert await received(layer, "c1") == {"type": "still"}


async def test_it_sweeps_expired_memberships_of_groups_nobody_sends_to(layer, clock):
    await layer.group_add("quiet", "c1")
    await layer.group_add("busy", "c2")
    clock.now += GROUP_EXPIRY + 1
    await layer.group_add("busy", "c2")

    await layer.send("c3", {"type": "any"})

    assert layer.groups == {"busy": {"c2": clock.now}}
    assert layer.channel_groups == {"c2": {"busy"}}


async def test_it_does_not_sweep_on_every_call(layer, clock, sweeps):
    for n in range(100):
        await layer.group_add(f"g{n}", f"c{n}")

    for n in range(1000):
        await layer.send(f"c{n % 100}", {"type": "one", "n": n})
        await layer.group_send(f"g{n % 100}", {"type": "all", "n": n})
        await layer.receive(f"c{n % 100}")
        await layer.receive(f"c{n % 100}")
    assert sweeps == []

    clock.now += SWEEP_INTERVAL
    for n in range(1000):
        await layer.group_send(f"g{n % 100}", {"type": "all", "n": n})
        await layer.receive(f"c{n % 100}")
    assert sweeps == [clock.now]


async def test_it_refuses_a_send_to_a_full_channel(layer):
    for n in range(5):
        await layer.send("c1", {"type": "fill", "n": n})

    with pytest.raises(ChannelFull):
        await layer.send("c1", {"type": "one too many"})


async def test_it_skips_a_full_channel_in_a_group_send_and_delivers_to_the_others(layer):
    await layer.group_add("room", "full")
    await layer.group_add("room", "free")
    for n in range(5):
        await layer.send("full", {"type": "fill", "n": n})

    await layer.group_send("room", {"type": "event"})

    assert [await received(layer, "full") for _ in range(5)] == [{"type": "fill", "n": n} for n in range(5)]
    assert await nothing_for(layer, "full")
    assert await received(layer, "free") == {"type": "event"}


async def test_it_delivers_a_group_send_to_every_member_once(layer):
    members = [f"agent{n}" for n in range(1000)]
    for channel in members:
        await layer.group_add("inbox", channel)
    await layer.group_add("other", "outsider")

    await layer.group_send("inbox", {"type": "cc.event", "event": {"id": 7}})

    assert [await received(layer, channel) for channel in members] == [{"type": "cc.event", "event": {"id": 7}}] * 1000
    assert all(channel not in layer.channels for channel in members)  # nothing more is queued for anyone
    assert "outsider" not in layer.channels


async def test_it_keeps_what_it_delivers_apart_from_the_senders_dict(layer):
    await layer.group_add("room", "c1")
    message = {"type": "cc.event", "event": {"body": "as sent"}}

    await layer.group_send("room", message)
    await layer.send("c1", message)
    message["event"]["body"] = "changed after sending"

    assert await received(layer, "c1") == {"type": "cc.event", "event": {"body": "as sent"}}
    assert await received(layer, "c1") == {"type": "cc.event", "event": {"body": "as sent"}}


async def test_it_forgets_channels_and_groups_on_flush(layer):
    await layer.group_add("room", "c1")
    await layer.send("c2", {"type": "pending"})

    await layer.flush()

    assert (layer.channels, layer.groups, layer.channel_groups) == ({}, {}, {})
    await layer.group_send("room", {"type": "after flush"})
    assert await nothing_for(layer, "c1")


async def test_it_leaves_a_group_on_discard(layer):
    await layer.group_add("room", "c1")
    await layer.group_add("room", "c2")

    await layer.group_discard("room", "c1")
    await layer.group_send("room", {"type": "event"})

    assert await nothing_for(layer, "c1")
    assert await received(layer, "c2") == {"type": "event"}
    assert layer.channel_groups == {"c2": {"room"}}


async def test_a_receive_cancelled_after_its_wake_up_passes_the_message_on(layer):
    first = asyncio.create_task(layer.receive("c1"))
    second = asyncio.create_task(layer.receive("c1"))
    await asyncio.sleep(0)  # both wait on the channel

    await layer.send("c1", {"type": "only one"})
    first.cancel()  # woken by the send, cancelled before it ran: asyncio.Queue's case too

    assert await asyncio.wait_for(second, timeout=5) == {"type": "only one"}
    assert first.cancelled()
    assert "c1" not in layer.channels


async def test_it_hands_out_messages_in_order_and_forgets_a_drained_channel(layer):
    for n in range(3):
        await layer.send("c1", {"type": "event", "n": n})

    assert [(await received(layer, "c1"))["n"] for _ in range(3)] == [0, 1, 2]
    assert "c1" not in layer.channels
    waiting = asyncio.create_task(layer.receive("c1"))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert "c1" not in layer.channels  # a cancelled wait leaves nothing behind
