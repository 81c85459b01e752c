"""The frame size limits of a real server (docs/protocols/widget-socket.md, section 4): a frame over 65,536
characters is answered with bad_frame and the socket stays open, up to the 1 MiB daphne reads; a larger
one is not read: the server drops the connection (autobahn fails it without a close frame, so a client
sees 1006). Before, daphne's own limit and the consumer's were set apart from each other."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import websockets

from contact_center.lib.sockets import MAX_FRAME_CHARS, MAX_MESSAGE_BYTES
from tests.integration import LIVE, seed_demo
from tests.support.live import LiveStack


def test_it_answers_an_oversized_frame_with_bad_frame_and_closes_only_past_the_hard_cap(tmp_path):
    stack = LiveStack(tmp_path)
    try:
        inbox_key = seed_demo(stack)
        base = stack.start("web")
        codes = asyncio.run(_oversize(base, inbox_key))
    finally:
        stack.stop()

    assert codes == ("bad_frame", "bad_frame", "ready", "dropped")


async def _oversize(base: str, inbox_key: str) -> tuple:
    request = urllib.request.Request(  # noqa: S310 (http to the loopback server this test started)
        f"{base}/widget/api/session/",
        data=json.dumps({"inbox": inbox_key}).encode(),
        headers={"Content-Type": "application/json", "Origin": base},
    )
    answer = await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=LIVE).read())  # noqa: S310
    token = json.loads(answer)["token"]
    url = base.replace("http://", "ws://") + "/ws/widget/?token=" + token
    async with websockets.connect(url, origin=base, max_size=None, open_timeout=LIVE) as ws:
        await ws.send("x" * (MAX_FRAME_CHARS + 1))
        just_over = json.loads(await asyncio.wait_for(ws.recv(), LIVE))["code"]
        # Four bytes a character: what the server reads is bytes, the consumer's limit characters.
        await ws.send("\U0001f600" * (MAX_MESSAGE_BYTES // 4 - 16))
        under_the_cap = json.loads(await asyncio.wait_for(ws.recv(), LIVE))["code"]
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        still_open = json.loads(await asyncio.wait_for(ws.recv(), LIVE))["type"]
        await ws.send("x" * (MAX_MESSAGE_BYTES + 1))
        try:
            await asyncio.wait_for(ws.recv(), LIVE)
        except websockets.ConnectionClosed as closed:
            return just_over, under_the_cap, still_open, "dropped" if closed.rcvd is None else closed.rcvd.code
    return just_over, under_the_cap, still_open, "answered"
