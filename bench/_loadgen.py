"""The load generator of chat_latency.py: real sockets, open-loop pacing, one monotonic clock.

Everything runs in one asyncio process (the caller's). A *dialect* says how to talk to one system
(URLs, handshakes, frame shapes); :func:`run_pairs` and :func:`run_fanout` drive the same workload
through any dialect:

1. connect the agent sockets, then the visitor sockets (bounded concurrency; handshakes complete);
2. warm-up: one message per conversation, paced at the target rate (Parley opens the conversation on a
   visitor's first message), and wait until they are delivered;
3. the measured window: ``rate`` messages/s for ``duration`` s, open loop (each send is scheduled at
   ``start + k / rate`` whatever the replies do), each to the next conversation of a fixed shuffled
   order; then drain until everything is delivered or nothing has moved for ``DRAIN_IDLE`` s;
   a saturated server's backlog drains inside the window, so its CPU and latency count in full;
4. the fan-out case: ``fanout`` agent sockets all following one conversation; one visitor message,
   timed until every socket has it; one unmeasured round, then ``repeats`` measured rounds.

Latency is agent receive time minus visitor send time, both ``time.monotonic_ns()`` in this process,
taken right before ``send()`` and right after a frame is decoded. Each message carries its id as the
first word of its body; the agent side records the first receipt per id, counts extra receipts as
duplicates and receipts on a socket that does not follow that conversation as misrouted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import random
import resource
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect

BODY_TAIL = "Hi! I ordered the blue jacket last week and it has not arrived yet; could you check on it?"
CONNECT_CONCURRENCY = 50
DRAIN_IDLE = 30.0
FANOUT_TIMEOUT = 30.0
FANOUT_PAUSE = 0.5


# --- Dialects ---------------------------------------------------------------------------------------


Handshake = Callable[[ClientConnection], Awaitable[None]]


@dataclass(frozen=True)
class Endpoint:
    url: str
    origin: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Dialect(Protocol):
    """How the load generator talks to one system. Index ``i`` names a conversation (0..N-1)."""

    def visitor(self, i: int) -> Endpoint: ...
    def agent(self, i: int) -> Endpoint: ...
    def fanout_visitor(self) -> Endpoint: ...
    def fanout_agent(self, j: int) -> Endpoint: ...
    async def visitor_handshake(self, ws: ClientConnection) -> None: ...
    async def agent_handshake(self, ws: ClientConnection) -> None: ...
    def send_frame(self, message_id: str, body: str) -> str: ...
    def delivered_id(self, frame: str) -> str | None:
        """The id of the chat message an agent-side frame carries, or None for any other frame."""

    def acked_id(self, frame: str) -> str | None:
        """The id a visitor-side frame acknowledges as stored, or None (systems without acks: always None)."""


class ChatRoomDialect:
    """The anchors' shape: ``{"message": body}`` both ways, no handshake, no acks."""

    def __init__(self, room_url: Callable[[str, str], str], origin: str | None = None):
        self._room_url = room_url
        self._origin = origin

    def visitor(self, i):
        return Endpoint(self._room_url(f"p{i}", "visitor"), self._origin)

    def agent(self, i):
        return Endpoint(self._room_url(f"p{i}", "agent"), self._origin)

    def fanout_visitor(self):
        return Endpoint(self._room_url("fanout", "visitor"), self._origin)

    def fanout_agent(self, j):
        return Endpoint(self._room_url("fanout", "agent"), self._origin)

    async def visitor_handshake(self, ws):
        pass

    async def agent_handshake(self, ws):
        pass

    def send_frame(self, message_id, body):
        return json.dumps({"message": body})

    def delivered_id(self, frame):
        return json.loads(frame)["message"].split(" ", 1)[0]

    def acked_id(self, frame):
        return None


class ParleyDialect:
    """Parley's widget and console socket protocols (docs/protocols/)."""

    def __init__(self, base_url: str, seed: dict):
        self.ws_base = base_url.replace("http://", "ws://")
        self.origin = base_url
        self.seed = seed
        self.errors: list[dict] = []

    def _visitor(self, token):
        return Endpoint(f"{self.ws_base}/ws/widget/?token={token}", self.origin)

    def _agent(self, session_key):
        return Endpoint(f"{self.ws_base}/ws/console/", self.origin, {"Cookie": f"sessionid={session_key}"})

    def visitor(self, i):
        return self._visitor(self.seed["pair_tokens"][i])

    def agent(self, i):
        return self._agent(self.seed["pair_sessions"][i])

    def fanout_visitor(self):
        return self._visitor(self.seed["fanout_token"])

    def fanout_agent(self, j):
        return self._agent(self.seed["fanout_sessions"][j])

    async def visitor_handshake(self, ws):
        await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
        await _until(ws, "ready")

    async def agent_handshake(self, ws):
        await ws.send(json.dumps({"type": "hello", "resume": {}}))
        await _until(ws, "ready")

    def send_frame(self, message_id, body):
        page = {"url": "http://127.0.0.1/bench", "title": "Bench"}
        return json.dumps({"type": "send", "client_id": message_id, "body": body, "page": page})

    def delivered_id(self, frame):
        event = json.loads(frame)
        if event.get("type") != "entry.created":
            return None
        return event["entry"]["body"].split(" ", 1)[0]

    def acked_id(self, frame):
        event = json.loads(frame)
        if event.get("type") == "ack":
            return event["client_id"]
        if event.get("type") == "error":
            self.errors.append(event)
        return None


async def _until(ws: ClientConnection, frame_type: str) -> None:
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("type") == frame_type:
            return
        if frame.get("type") == "error":
            raise RuntimeError(f"handshake failed: {frame}")


# --- Measurements -----------------------------------------------------------------------------------


def percentiles(samples_ns: list[int], points: tuple[float, ...] = (50, 90, 99, 99.9)) -> dict[str, float] | None:
    """Nearest-rank percentiles (``points``: p50, p90, p99 and p99.9 unless told), max and mean, in
    milliseconds (None without samples)."""
    if not samples_ns:
        return None
    ordered = sorted(samples_ns)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] / 1e6

    return {
        **{f"p{p:g}": rank(p) for p in points},
        "max": ordered[-1] / 1e6,
        "mean": sum(ordered) / len(ordered) / 1e6,
        "samples": len(ordered),
    }


def machine() -> dict:
    """What the results were measured on: cores, CPU model, RAM, kernel, Python."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(mem_kb / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads) from /proc, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from the first line of /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


class CpuWindow:
    """CPU used by the server, by this load generator and by the whole machine between start() and stop()."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def start(self) -> None:
        self._t = time.monotonic()
        self._server = process_cpu_seconds(self.server_pid)
        self._self = self_cpu_seconds()
        self._machine = machine_cpu_ticks()

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self._t
        busy, total = machine_cpu_ticks()
        return {
            "wall_s": wall,
            "server_cpu_s": process_cpu_seconds(self.server_pid) - self._server,
            "loadgen_cpu_s": self_cpu_seconds() - self._self,
            "machine_busy_pct": 100 * (busy - self._machine[0]) / max(1, total - self._machine[1]),
        }


class Tracker:
    """Sends and receipts of chat messages, keyed by message id."""

    def __init__(self):
        self.sent: dict[str, tuple[int, int]] = {}  # id -> (send time ns, conversation index)
        self.received: dict[str, int] = {}  # id -> first receipt time ns on the right socket
        self.acked: dict[str, int] = {}  # id -> ack receipt time ns (systems that ack)
        self.duplicated = 0
        self.misrouted = 0

    def on_delivery(self, message_id: str, socket_index: int, now_ns: int) -> None:
        sent = self.sent.get(message_id)
        if sent is None or sent[1] != socket_index:
            self.misrouted += 1
        elif message_id in self.received:
            self.duplicated += 1
        else:
            self.received[message_id] = now_ns

    def latencies(self, ids: list[str]) -> list[int]:
        return [self.received[i] - self.sent[i][0] for i in ids if i in self.received]

    def ack_latencies(self, ids: list[str]) -> list[int]:
        return [self.acked[i] - self.sent[i][0] for i in ids if i in self.acked]


# --- Driving a system -------------------------------------------------------------------------------


class Progress:
    def __init__(self, label: str):
        self.label = label
        self.t0 = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.t0:7.1f}s] {self.label}: {message}", file=sys.stderr, flush=True)


async def _open(endpoint: Endpoint, handshake: Handshake, gate: asyncio.Semaphore) -> ClientConnection:
    async with gate:
        ws = await connect(
            endpoint.url,
            origin=endpoint.origin,
            additional_headers=endpoint.headers,
            compression=None,
            ping_interval=None,
            open_timeout=60,
            max_size=2**22,
        )
        try:
            await handshake(ws)
        except BaseException:
            await ws.close()
            raise
        return ws


async def _open_all(endpoints: list[tuple[Endpoint, Handshake]]) -> list[ClientConnection]:
    """Open every (endpoint, handshake); all or none: on a failure the opened ones are closed and it raises."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    results = await asyncio.gather(*(_open(e, h, gate) for e, h in endpoints), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        await asyncio.gather(*(r.close() for r in results if not isinstance(r, BaseException)), return_exceptions=True)
        raise RuntimeError(f"{len(failures)} of {len(endpoints)} sockets failed to open") from failures[0]
    return list(results)


class Drops:
    """Sockets that closed or failed while the load generator still wanted them open."""

    def __init__(self):
        self.closing = False  # set once the load generator starts closing its own sockets
        self.reasons: list[str] = []

    def record(self, role: str, reason: str) -> None:
        if self.closing:
            return
        self.reasons.append(f"{role}: {reason}")
        if len(self.reasons) <= 3:  # the first few say why; the count says how many
            print(f"{role} socket dropped: {reason}", file=sys.stderr, flush=True)


async def _close_all(sockets: list[ClientConnection], tasks: list[asyncio.Task], drops: Drops) -> None:
    # Bounded like connects: a burst of 2,000 disconnects is 2,000 concurrent group_discard calls, and
    # redis-py 8's connection pool (100 by default) refuses the excess with MaxConnectionsError. (A server
    # whose disconnect handlers lag behind still bunches them up: see the server-log traceback count.)
    drops.closing = True
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def close(ws: ClientConnection) -> None:
        async with gate:
            await ws.close()

    await asyncio.gather(*(close(ws) for ws in sockets), return_exceptions=True)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _read(ws: ClientConnection, role: str, on_frame: Callable[[str], None], drops: Drops) -> None:
    """Feed every frame of ``ws`` to ``on_frame`` until it closes; an early close is recorded in ``drops``."""
    try:
        async for frame in ws:
            on_frame(frame)
    except Exception as exc:
        drops.record(role, repr(exc))
    else:
        drops.record(role, f"closed by the server with {ws.close_code} {ws.close_reason!r}")


def _agent_reader(ws, index: int, dialect: Dialect, on_delivery, drops: Drops) -> asyncio.Task:
    def on_frame(frame: str) -> None:
        now = time.monotonic_ns()
        message_id = dialect.delivered_id(frame)
        if message_id is not None:
            on_delivery(message_id, index, now)

    return asyncio.create_task(_read(ws, "agent", on_frame, drops))


def _visitor_reader(ws, dialect: Dialect, acked: dict[str, int], drops: Drops) -> asyncio.Task:
    def on_frame(frame: str) -> None:
        now = time.monotonic_ns()
        message_id = dialect.acked_id(frame)
        if message_id is not None:
            acked.setdefault(message_id, now)

    return asyncio.create_task(_read(ws, "visitor", on_frame, drops))


async def _paced(sockets, dialect: Dialect, tracker: Tracker, plan: list[tuple[int, str]], rate: float) -> list[int]:
    """Send ``plan`` ((conversation, id) pairs) open-loop at ``rate``/s; returns each send's lateness in ns."""
    lateness = []
    start = time.monotonic_ns()
    step = 1e9 / rate
    for k, (conversation, message_id) in enumerate(plan):
        due = start + int(k * step)
        delay = due - time.monotonic_ns()
        if delay > 0:
            await asyncio.sleep(delay / 1e9)
        frame = dialect.send_frame(message_id, f"{message_id} {BODY_TAIL}")
        now = time.monotonic_ns()
        lateness.append(now - due)
        tracker.sent[message_id] = (now, conversation)
        await sockets[conversation].send(frame)
    return lateness


async def _drain(tracker: Tracker, ids: list[str], progress: Progress, idle: float = DRAIN_IDLE) -> None:
    """Wait until every id in ``ids`` has been delivered, or neither a delivery nor an ack came for ``idle`` s.

    Acks count as progress: a saturated server goes on storing (and acking) while its deliveries come
    in bursts many seconds apart, and those late deliveries are slow, not lost.
    """
    last, last_change = None, time.monotonic()
    next_report = time.monotonic() + 10
    while True:
        delivered = sum(1 for i in ids if i in tracker.received)
        if delivered == len(ids):
            return
        if time.monotonic() > next_report:
            progress(f"draining: {delivered}/{len(ids)} delivered, {len(tracker.acked)} acked so far")
            next_report += 10
        state = (delivered, len(tracker.acked))
        if state != last:
            last, last_change = state, time.monotonic()
        elif time.monotonic() - last_change > idle:
            return
        await asyncio.sleep(0.05)


async def run_pairs(
    dialect: Dialect, *, conversations: int, rate: float, duration: float, server_pid: int, progress: Progress
) -> tuple[dict, Tracker]:
    """The latency workload: ``conversations`` visitor/agent pairs, ``rate`` messages/s for ``duration`` s."""
    tracker = Tracker()
    t = time.monotonic()
    # Agents first, so that no visitor message can precede its agent's socket.
    agents = await _open_all([(dialect.agent(i), dialect.agent_handshake) for i in range(conversations)])
    try:
        visitors = await _open_all([(dialect.visitor(i), dialect.visitor_handshake) for i in range(conversations)])
    except BaseException:
        await _close_all(agents, [], Drops())
        raise
    connect_s = time.monotonic() - t
    progress(f"{len(agents)} agent + {len(visitors)} visitor sockets open in {connect_s:.1f}s")
    drops = Drops()
    tasks = [_agent_reader(ws, i, dialect, tracker.on_delivery, drops) for i, ws in enumerate(agents)]
    tasks += [_visitor_reader(ws, dialect, tracker.acked, drops) for ws in visitors]
    try:
        warmup = [(i, f"u{i:05d}-000000") for i in range(conversations)]
        progress(f"warm-up: {len(warmup)} messages (one per conversation) at {rate:g}/s")
        await _paced(visitors, dialect, tracker, warmup, rate)
        await _drain(tracker, [m for _, m in warmup], progress)

        order = list(range(conversations))
        random.Random(42).shuffle(order)
        total = int(rate * duration)
        plan = [(order[k % conversations], f"w{order[k % conversations]:05d}-{k:06d}") for k in range(total)]
        progress(f"measuring: {total} messages at {rate:g}/s over {duration:g}s")
        cpu = CpuWindow(server_pid)
        cpu.start()
        lateness = await _paced(visitors, dialect, tracker, plan, rate)
        send_span = (max(tracker.sent[m][0] for _, m in plan) - min(tracker.sent[m][0] for _, m in plan)) / 1e9
        window_ids = [m for _, m in plan]
        await _drain(tracker, window_ids, progress)
        usage = cpu.stop()
        await asyncio.sleep(0.5)  # late acks and stray duplicates
    finally:
        await _close_all(agents + visitors, tasks, drops)

    all_ids = [m for _, m in warmup] + window_ids
    delivered = sum(1 for i in all_ids if i in tracker.received)
    result = {
        "conversations": conversations,
        "sockets": len(agents) + len(visitors),
        "connect_s": connect_s,
        "warmup_sent": len(warmup),
        "warmup_delivered": sum(1 for _, m in warmup if m in tracker.received),
        "window_sent": len(plan),
        "window_delivered": sum(1 for i in window_ids if i in tracker.received),
        "achieved_rate": (len(plan) - 1) / send_span if send_span > 0 else None,
        "latency_ms": percentiles(tracker.latencies(window_ids)),
        "send_lateness_ms": percentiles(lateness),
        "sent": len(all_ids),
        "delivered": delivered,
        "lost": len(all_ids) - delivered,
        "duplicated": tracker.duplicated,
        "misrouted": tracker.misrouted,
        "acked": sum(1 for i in all_ids if i in tracker.acked),
        # Visitor send to ack: how long a visitor waits to see their message stored (systems that ack).
        "ack_latency_ms": percentiles(tracker.ack_latencies(window_ids)),
        "sockets_dropped": len(drops.reasons),
        "sockets_dropped_first": drops.reasons[:5],
        **usage,
        "server_cpu_ms_per_msg": 1000 * usage["server_cpu_s"] / len(plan),
        "loadgen_cpu_pct": 100 * usage["loadgen_cpu_s"] / usage["wall_s"],
    }
    return result, tracker


async def run_fanout(dialect: Dialect, *, sockets: int, repeats: int, server_pid: int, progress: Progress) -> dict:
    """One visitor message to ``sockets`` agent sockets that all follow it, ``repeats`` measured times."""
    t = time.monotonic()
    sockets_open = await _open_all(
        [(dialect.fanout_agent(j), dialect.agent_handshake) for j in range(sockets)]
        + [(dialect.fanout_visitor(), dialect.visitor_handshake)]
    )
    agents, visitor = sockets_open[:-1], sockets_open[-1]
    progress(f"fan-out: {len(agents)} agent sockets open in {time.monotonic() - t:.1f}s")
    receipts: dict[str, list[int]] = {}
    done: dict[str, asyncio.Event] = {}

    def on_delivery(message_id, index, now):
        got = receipts.get(message_id)
        if got is not None:
            got.append(now)
            if len(got) == sockets:
                done[message_id].set()

    drops = Drops()
    tasks = [_agent_reader(ws, j, dialect, on_delivery, drops) for j, ws in enumerate(agents)]
    tasks.append(_visitor_reader(visitor, dialect, {}, drops))
    rounds = []
    cpu = CpuWindow(server_pid)
    try:
        for r in range(repeats + 1):  # round 0 opens the conversation and warms caches: not measured
            message_id = f"fanout-{r:04d}"
            receipts[message_id], done[message_id] = [], asyncio.Event()
            await asyncio.sleep(FANOUT_PAUSE)
            if r == 1:
                cpu.start()
            frame = dialect.send_frame(message_id, f"{message_id} {BODY_TAIL}")
            sent = time.monotonic_ns()
            await visitor.send(frame)
            with contextlib.suppress(TimeoutError):  # an incomplete round is reported as such
                await asyncio.wait_for(done[message_id].wait(), FANOUT_TIMEOUT)
            got = sorted(receipts[message_id])
            if r == 0:
                continue
            rounds.append(
                {
                    "delivered": len(got),
                    "first_ms": (got[0] - sent) / 1e6 if got else None,
                    "all_ms": (got[-1] - sent) / 1e6 if len(got) == sockets else None,
                }
            )
            progress(f"fan-out round {r}: {len(got)}/{sockets} in {rounds[-1]['all_ms'] or float('nan'):.1f} ms")
        usage = cpu.stop() if repeats else {}
    finally:
        await _close_all(sockets_open, tasks, drops)
    complete = sorted(x["all_ms"] for x in rounds if x["all_ms"] is not None)
    median = complete[len(complete) // 2] if complete else None
    return {
        "sockets": sockets,
        "rounds": rounds,
        "incomplete_rounds": len(rounds) - len(complete),
        "median_all_ms": median,
        "deliveries_per_s": sockets / (median / 1000) if median else None,
        "best_deliveries_per_s": sockets / (complete[0] / 1000) if complete else None,
        "server_cpu_us_per_delivery": 1e6 * usage["server_cpu_s"] / (sockets * repeats) if usage else None,
        "machine_busy_pct": usage.get("machine_busy_pct"),
        "sockets_dropped": len(drops.reasons),
    }


async def measure_system(system, log, start, run) -> dict:
    """One system's measurement: ``start()`` it, then ``await run(result)``, which fills ``result`` (what
    it filled is kept if it fails); whatever happens the server is stopped and its log read."""
    result = {"system": system.name, "description": system.description, "kind": system.kind}
    try:
        log(f"starting {system.description}")
        t = time.monotonic()
        start()
        log(f"server up (pid {system.pid}) in {time.monotonic() - t:.1f}s")
        await run(result)
    except Exception:
        record_failure(system, result, log)
    finally:
        stop_and_read_log(system, result, log)
    return result


def record_failure(system, result: dict, log) -> None:
    """Called from an ``except`` block: note the traceback and the tail of the server's log."""
    result["failed"] = traceback.format_exc()
    log("FAILED:\n" + result["failed"])
    log("server log tail:\n" + "\n".join(system.logs().splitlines()[-40:]))


def stop_and_read_log(system, result: dict, log) -> None:
    """Stop ``system`` and count the tracebacks in its log (a socket that errored, a publish that failed),
    worth a look even when every message arrived; the first one is kept in ``result``."""
    logs = system.logs()
    result["server_log_tracebacks"] = logs.count("Traceback (most recent call last)")
    if result["server_log_tracebacks"]:
        first = logs.index("Traceback (most recent call last)")
        result["server_log_first_traceback"] = logs[max(0, logs.rfind("\n", 0, first - 1)) : first + 4000]
    system.stop()
    log(f"stopped; {result['server_log_tracebacks']} tracebacks in the server log")


def cancel_on_signals() -> None:
    """Ctrl+C or SIGTERM (also when started in the background, where SIGINT comes in ignored) cancels the
    running task, so each system's stop() still runs: no server, database or Redis key is left behind."""
    main_task = asyncio.current_task()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, main_task.cancel)


def write_report(report: dict, output: Path | None, default_path: Path, summary: str) -> None:
    """Write the full results as JSON (to ``default_path`` unless ``output``) and print the summary."""
    output = output or default_path
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    print(summary)
    print(f"\nfull results: {output}")
