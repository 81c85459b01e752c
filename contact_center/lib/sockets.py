"""What both sockets (visitor and agent) share: JSON frames in, a clear error for anything else.

Channels' `AsyncJsonWebsocketConsumer` raises on a binary frame or on text that is not JSON, which
closes the socket with 1011 and logs a traceback. A client bug or a probe deserves an `error` frame
and an open socket instead; the protocol docs promise exactly that.
"""

from __future__ import annotations

import json

from channels.generic.websocket import AsyncJsonWebsocketConsumer

MAX_FRAME_CHARS = 64 * 1024


def bad_frame(message: str, **extra) -> dict:
    return {"type": "error", "code": "bad_frame", "message": message, **extra}


class JsonFrameConsumer(AsyncJsonWebsocketConsumer):
    # Set once connect() has authenticated the peer. A refused socket is accepted, then closed (so the
    # browser sees the 44xx code); frames that arrive before the close lands are dropped unread.
    authenticated = False

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not self.authenticated:
            return
        if text_data is None:
            await self.send_json(bad_frame("frames are JSON text, not binary"))
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self.send_json(bad_frame(f"a frame is at most {MAX_FRAME_CHARS} characters"))
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_json(bad_frame("a frame is one JSON object"))
            return
        if not isinstance(content, dict):
            await self.send_json(bad_frame("a frame is one JSON object"))
            return
        await self.receive_json(content, **kwargs)
