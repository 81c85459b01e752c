"""The floor: a bare ``websockets`` relay that forwards each visitor frame to the agent sockets of its room.

    python bench/_relay.py --port 9000

``ws://127.0.0.1:9000/room/<name>/agent`` joins a room as an agent; frames sent on
``ws://127.0.0.1:9000/room/<name>/visitor`` are written, unchanged, to every agent socket in that room.
No parsing, no storage, no channel layer: what is left is the cost of the sockets themselves.
Prints ``ready`` once listening; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections import defaultdict

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: defaultdict[str, set[ServerConnection]] = defaultdict(set)


async def handler(ws: ServerConnection) -> None:
    parts = ws.request.path.strip("/").split("/")
    if len(parts) != 3 or parts[0] != "room" or parts[2] not in {"agent", "visitor"}:
        await ws.close(4404, "unknown path")
        return
    room, role = parts[1], parts[2]
    if role == "agent":
        rooms[room].add(ws)
        try:
            await ws.wait_closed()
        finally:
            rooms[room].discard(ws)
        return
    async for frame in ws:
        broadcast(rooms[room], frame)


async def main(port: int, deflate: bool = False) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    # --deflate accepts the permessage-deflate that browsers offer (websockets' own default); off, it is refused.
    async with serve(handler, "127.0.0.1", port, compression="deflate" if deflate else None, ping_interval=None):
        print("ready", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--deflate", action="store_true", help="accept permessage-deflate (websockets' default)")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.deflate))
