"""The Redis channel layer as settings configure it, under a real `manage.py serve` and a real Redis.

Every consumer waits on the layer with a blocking BZPOPMIN of 5 s. redis-py 8 made socket reads time out
after 5 s by default, which closed every idle socket with 1011 (django/channels_redis#422); settings give
reads a longer bound. This holds a socket idle past that point.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request

import websockets

from tests.support.live import LiveStack
from tests.support.services import needs_redis, redis_url

# Longer than channels-redis's 5 s blocking wait, so at least one wait ends while the socket is idle.
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
