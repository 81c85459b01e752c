"""Where a widget connect's CPU goes, hop by hop: py-spy's folded stacks of a Parley server, summed by hop.

    .venv/bin/python bench/servers.py --systems parley-daphne --steps 3000 --hold 2 &
    .venv/bin/py-spy record -p <the server's pid> -d 15 -r 200 -f raw --nonblocking -o connects.folded
    .venv/bin/python bench/connect_hops.py connects.folded

(start py-spy once servers.py has logged the baseline: the warm-up is then over and every sample is of
the connect phase). Each stack goes to the first hop below one of whose markers it contains, so the order
matters: a database call made from the connect handler is the database's, and a frame sent by the hello
handler is the hello's. Idle stacks (the event loop waiting in epoll, database threads waiting for work)
and the benchmark's own garbage-collection hook are left out of the total. "partial stacks" are samples
py-spy could only read in part (``--nonblocking``): they are spread over the hops like the rest, so they
are shown, not guessed at.
"""

from __future__ import annotations

import sys
from collections import Counter

IDLE = "idle"
HARNESS = "bench hook (not the server's work)"
HOPS = [
    (IDLE, ["EpollSelector.select (selectors.py"]),
    (HARNESS, ["_watch (", "_trace ("]),
    ("database: connect (_connect_facts: inbox, visitor's conversation)", ["_connect_facts (widget/consumers.py"]),
    ("database: hello (_resume: replay, signals)", ["_resume (widget/consumers.py"]),
    ("database: other calls", ["_collecting.<locals>.run ("]),
    (
        "database hand-off (asgiref thread hop, futures, wake-ups)",
        ["_worker (concurrent", "db_call (", "SyncToAsync", "call_soon_threadsafe", "_chain_future", "_write_to_self"],
    ),
    ("token verification", ["check_visitor_token"]),
    ("group joins", ["join_groups", "group_add", "_renew"]),
    (
        "hello -> ready (frame parse, replay logic, frames sent)",
        ["JsonFrameConsumer.receive (", "receive_json", "_replay", "websocket_receive"],
    ),
    ("Parley connect, the rest (origin, query string, accept)", ["VisitorConsumer.connect", "_refuse"]),
    ("accept (the 101 answer)", ["websocket_accept", "accept ("]),
    (
        "daphne/autobahn handshake (HTTP parse, upgrade, protocol set-up, its debug logging)",
        [
            "processHandshake",
            "_connectionMade",
            "connectionMade (autobahn",
            "onConnect (daphne",
            "HTTPChannel",
            "WebRequest",
            "Port.doRead",
            "buildProtocol",
            "makeConnection",
            "hltype",
            "hlval",
            "_interpret_color",
            "safe_str",
            "pformat",
        ],
    ),
    (
        "Channels consumer set-up and dispatch (routing, consumer, tasks, channel)",
        [
            "AsyncConsumer.__call__",
            "await_many_dispatch",
            "URLRouter",
            "ProtocolTypeRouter",
            "as_asgi",
            "websocket_connect",
            "dispatch (",
            "new_channel",
            "channel_layer.py",
            "create_application",
        ],
    ),
    (
        "daphne's per-connection timers (application and timeout checkers, pings)",
        ["application_checker", "timeout_checker", "sendPing", "_sendAutoPing"],
    ),
    (
        "frames on the wire (autobahn framing, Twisted reads and writes)",
        [
            "handle_reply",
            "sendMessage",
            "doWrite",
            "writeSomeData",
            "consumeData",
            "WebSocketAdapterProtocol.dataReceived",
            "doRead",
            "onMessage",
            "_closeSocket",
        ],
    ),
    ("garbage collector report", ["gc_pauses"]),
]
REST = "event loop (asyncio and Twisted scheduling)"
PARTIAL = "partial stacks (unattributed)"
WAITING = ("_worker", "Queue.get", "get (queue", "Condition.wait", "SimpleQueue")


def hop_of(stack: str) -> str:
    frames = stack.split(";")
    pool_thread = "_worker (concurrent" in stack
    working = any(k in stack for k in ("_collecting", "thread_handler", "run_child"))
    if pool_thread and not working and (frames[-1].startswith(WAITING) or "wait (threading" in stack):
        return IDLE
    for name, markers in HOPS:
        if any(marker in stack for marker in markers):
            return name
    whole = frames[0].startswith("<module>") or frames[0].startswith("Thread._bootstrap")
    return REST if whole else PARTIAL


def hops(path: str) -> Counter:
    counts: Counter = Counter()
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            counts[hop_of(stack)] += int(n)
    return counts


def main(argv: list[str]) -> int:
    if len(argv) < 1:
        print(__doc__)
        return 2
    ms = float(argv[1]) if len(argv) > 1 else None
    counts = hops(argv[0])
    work = sum(v for k, v in counts.items() if k not in (IDLE, HARNESS))
    print(f"{'hop':<86} {'samples':>7} {'share':>6}" + (f" {'ms':>6}" if ms else ""))
    for name, n in counts.most_common():
        if name in (IDLE, HARNESS):
            continue
        print(f"{name:<86} {n:>7} {100 * n / work:>5.1f}%" + (f" {ms * n / work:>6.2f}" if ms else ""))
    print(f"work samples {work}; left out: idle {counts[IDLE]}, bench hook {counts[HARNESS]}")
    if ms:
        print(f"ms = the share of {ms:g} ms of server CPU per connect (give it as the second argument)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
