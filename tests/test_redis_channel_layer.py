"""The Redis channel layer as settings configure it, under a real `manage.py serve` and a real Redis.

redis-py 8 made socket reads time out after 5 s by default, which once closed every idle socket with 1011
(django/channels_redis#422, when consumers waited on a blocking BZPOPMIN of 5 s). Sockets now wait on the
layer's pub/sub subscriber, which must not time out at all while nothing happens: this holds a socket idle
past that point.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request

import websockets

from tests.support.live import LiveStack
from tests.support.services import needs_redis, redis_url

# Longer than redis-py's default read timeout.
IDLE_SECONDS = 7


@needs_redis()
def test_it_keeps_an_idle_socket_open_past_the_layers_blocking_wait(tmp_path):
    stack = LiveStack(tmp_path, redis_url=redis_url(), database_url=os.environ.get("DATABASE_URL"))
    try:
        key = stack.shell(
            "from contact_center.models import Inbox;print(Inbox.objects.create(name='Chat', kind='widget').public_key)"
        ).split()[-1]
        base = stack.start("web")
        idle_frame = asyncio.run(_frame_while_idle(base, _visitor_token(base, key)))
        assert idle_frame is None
        assert "Timeout reading" not in stack.logs()
    finally:
        stack.stop()


def _visitor_token(base: str, key: str) -> str:
    request = urllib.request.Request(  # noqa: S310  (a loopback http URL we built)
        base + "/widget/api/session/",
        data=json.dumps({"inbox": key}).encode(),
        headers={"Origin": base, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310
        return json.load(response)["token"]


async def _frame_while_idle(base: str, token: str) -> dict | None:
    """Say hello, stay idle, then prove the socket still answers; returns what arrived while idle."""
    async with websockets.connect(f"{base.replace('http', 'ws')}/ws/widget/?token={token}", origin=base) as ws:
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        assert json.loads(await ws.recv()) == {"type": "ready", "conversation": None}
        # Nothing is due: the wait must end by our timeout, not by the server closing the socket.
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=IDLE_SECONDS))
        except TimeoutError:
            frame = None
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        assert json.loads(await ws.recv()) == {"type": "ready", "conversation": None}
    return frame


# More events than one channel's capacity, each for another socket of the same process.
BACKLOG = 1500


@needs_redis()
def test_a_process_keeps_a_backlog_beyond_one_channels_capacity(tmp_path):
    """channels-redis' core layer kept every socket of a process in one Redis list with the capacity of one
    channel, so a process a second behind lost events. As settings configure the layer, each socket has a
    queue of its own: a backlog over many sockets of a process is kept whole."""
    from django.utils.module_loading import import_string

    from tests.test_settings import configured

    found = configured(tmp_path, DEBUG="1", REDIS_URL=redis_url())
    config = {**found["layer_config"], "prefix": f"test-backlog-{os.getpid()}"}
    assert config["capacity"] < BACKLOG
    layer = import_string(found["layer_backend"])(**config)
    assert asyncio.run(_delivered_after_backlog(layer)) == BACKLOG


async def _delivered_after_backlog(layer) -> int:
    try:
        channels = [await layer.new_channel() for _ in range(BACKLOG)]
        for index, channel in enumerate(channels):
            await layer.group_add(f"socket{index}", channel)
        # Nobody reads while the events are sent: the process is behind.
        for index in range(BACKLOG):
            await layer.group_send(f"socket{index}", {"type": "cc.event", "n": index})
        delivered = 0
        for channel in channels:
            try:
                await asyncio.wait_for(layer.receive(channel), timeout=2)
            except TimeoutError:
                break
            delivered += 1
        return delivered
    finally:
        await layer.flush()
