"""The connection soak of bench/widget.py: many idle sockets held by one server process, then all dropped.

Each system gets N sockets, every one authenticated (Parley: its own signed visitor token) and in a
group (Parley: a visitor who already has a conversation joins their visitor groups on connect;
anchors: a room of their own). The client is the ``websockets`` client with its defaults, so it offers
permessage-deflate as browsers do; whether it is accepted is the server's choice (recorded).

1. warm-up: a few sockets opened and closed, so code paths and caches are loaded before the baseline;
2. baseline: the server's VmRSS (/proc/<pid>/status);
3. open all N, at most ``concurrency`` handshakes in flight, spread over several 127.0.0.x source
   addresses; a connect counts once the system's handshake is complete (Parley: ``hello`` until ``ready``);
4. hold them idle for ``hold`` seconds; RSS minus the baseline, divided by the open sockets, is the cost
   of one socket; the server's CPU over the hold is what idle sockets cost; the group members are
   counted where they can be (Redis);
5. close every socket at once (one gather, no bound), then count the members left after a settle.

Parley's server also reports its garbage-collector pauses (``PARLEY_GC_STATS_FILE``,
contact_center/lib/gc_pauses.py): the collections and the longest pause while opening and while idle.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import redis
from websockets.asyncio.client import ClientConnection, connect

from bench._loadgen import CpuWindow, Drops, Endpoint, Progress, _read, _until, percentiles
from bench._targets import _delete_redis_keys
from tests.support.live import LiveStack

WARMUP_SOCKETS = 50
SETTLE_S = 30.0  # how long disconnects may take to clean up before what is left counts as leaked

Handshake = Callable[[ClientConnection], Awaitable[None]]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def listen_drops() -> dict[str, int]:
    """The kernel's counts of connections refused because a listen queue (the accept backlog) was full.

    A SYN that finds it full is dropped and the client retries it after 1 s (then 3 s...), which shows
    up as connect latency, not as an error. Machine-wide (all sockets of this network namespace).
    """
    lines = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines() if line.startswith("TcpExt:")]
    names, values = lines[0], lines[1]
    counts = dict(zip(names[1:], (int(v) for v in values[1:]), strict=True))
    return {k: counts.get(k, 0) for k in ("ListenOverflows", "ListenDrops")}


def redis_group_members(redis_url: str, prefix: str) -> int:
    """Members of every channels-redis group under ``prefix`` (groups are sorted sets at <prefix>:group:<name>)."""
    client = redis.Redis.from_url(redis_url)
    try:
        total = 0
        for key in client.scan_iter(match=f"{prefix}:group:*", count=1000):
            total += client.zcard(key)
        return total
    finally:
        client.close()


def redis_group_subscriptions(redis_url: str, prefix: str) -> int:
    """Groups under ``prefix`` that some process subscribes to (Parley's layer keeps memberships in each
    process and subscribes to a group while any of its sockets is in it: 0 once every socket is gone)."""
    client = redis.Redis.from_url(redis_url)
    try:
        return len(client.pubsub_channels(f"{prefix}:group:*"))
    finally:
        client.close()


async def _no_handshake(ws: ClientConnection) -> None:
    pass


async def _visitor_hello(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"type": "hello", "last_seq": 0}))
    await _until(ws, "ready")


# --- Systems ----------------------------------------------------------------------------------------


class AnchorSoak:
    """An anchor of _targets.py (relay or stock Channels): socket i is the only member of room s<i>."""

    def __init__(self, target, *, redis_url: str | None = None, max_concurrency: int | None = None):
        self.target = target
        self.max_concurrency = max_concurrency
        self.name, self.description, self.kind = target.name, target.description, target.kind
        self.redis_url = redis_url
        self.handshake = _no_handshake

    def start(self, sockets: int) -> None:
        self.target.start()
        self.pid = self.target.pid
        self.endpoints = [self.target.dialect.agent(i) for i in range(sockets)]

    def members(self) -> int | None:
        prefix = getattr(self.target, "prefix", None)
        return redis_group_members(self.redis_url, prefix) if prefix and self.redis_url else None

    def logs(self) -> str:
        return self.target.logs()

    def gc_stats(self) -> dict | None:
        return None  # only Parley's server reports its collections

    def stop(self) -> None:
        self.target.stop()


# Run inside `manage.py shell`: N visitors, each a customer with a visitor identity and an open
# conversation in one widget inbox, so that each socket joins its visitor groups on connect.
_SEED = """
import json
from django.db import transaction
from django.utils import timezone
from contact_center.models import Conversation, Customer, Identity, Inbox
from widget.tokens import issue_visitor_token, new_visitor_id

N = {sockets}
now = timezone.now()
visitor_ids = [new_visitor_id() for _ in range(N)]
with transaction.atomic():
    inbox = Inbox.objects.create(name="Bench soak", kind="widget")
    customers = Customer.objects.bulk_create([Customer(name=f"Soak visitor {{i}}") for i in range(N)], batch_size=2000)
    identities = Identity.objects.bulk_create(
        [Identity(customer=c, kind="visitor", value=v) for c, v in zip(customers, visitor_ids)], batch_size=2000
    )
    Conversation.objects.bulk_create(
        [
            Conversation(customer=c, inbox=inbox, identity=i, last_activity_at=now)
            for c, i in zip(customers, identities)
        ],
        batch_size=2000,
    )
print(json.dumps([issue_visitor_token(inbox.public_key, v) for v in visitor_ids]))
"""


class ParleySoak:
    """Parley: one `manage.py serve --roles web` on a fresh database, seeded with N visitors."""

    kind = "parley"

    def __init__(self, backend: str, *, database_url: str, redis_url: str, gc_tuning: bool = True):
        self.backend = backend
        self.gc_tuning = gc_tuning
        self.name = f"parley-{backend}"
        self.description = {
            "embedded": "Parley web process, embedded default (SQLite + in-memory layer)",
            "services": "Parley web process on PostgreSQL + Redis",
        }[backend]
        self.database_url, self.redis_url = database_url, redis_url
        self.handshake = _visitor_hello
        self.stack: LiveStack | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="parley-soak-")

    def start(self, sockets: int) -> None:
        tmp = Path(self._tmp.name)
        if self.backend == "services":
            self.stack = LiveStack(tmp, database_url=self.database_url, redis_url=self.redis_url)
        else:
            self.stack = LiveStack(tmp)
        tokens = json.loads(self.stack.shell(_SEED.format(sockets=sockets)).splitlines()[-1])
        self.gc_stats_file = tmp / "gc-stats.json"
        env = {"PARLEY_GC_STATS_FILE": str(self.gc_stats_file), "PARLEY_GC_TUNING": "on" if self.gc_tuning else "off"}
        base_url = self.stack.start("web", env=env)
        self.pid = self.stack.processes[0].pid
        ws_base = base_url.replace("http://", "ws://")
        self.endpoints = [Endpoint(f"{ws_base}/ws/widget/?token={quote(t)}", base_url) for t in tokens]

    def members(self) -> int | None:
        # The in-memory layer lives inside the server process: nothing outside it can count its groups.
        # On Redis, the groups the server subscribes to (D20), not one count per socket as for the anchor.
        if self.backend != "services":
            return None
        return redis_group_subscriptions(self.redis_url, self.stack.env["PARLEY_CHANNEL_PREFIX"])

    def logs(self) -> str:
        return self.stack.logs() if self.stack else ""

    def gc_stats(self) -> dict | None:
        """The server's latest GC snapshot (written every second)."""
        try:
            return json.loads(self.gc_stats_file.read_text())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if self.stack is not None:
            prefix = self.stack.env["PARLEY_CHANNEL_PREFIX"]
            self.stack.stop()
            if self.backend == "services":
                _delete_redis_keys(self.redis_url, prefix)
            self.stack = None
        self._tmp.cleanup()


# --- Driving ----------------------------------------------------------------------------------------


class Opened:
    def __init__(self):
        self.sockets: list[ClientConnection] = []
        self.latencies_ns: list[int] = []
        self.errors: list[str] = []
        self.deflate = 0  # sockets on which the server accepted permessage-deflate


async def _open_one(endpoint: Endpoint, handshake: Handshake, source: str, gate: asyncio.Semaphore, out: Opened):
    async with gate:
        t = time.monotonic_ns()
        try:
            ws = await connect(
                endpoint.url,
                origin=endpoint.origin,
                ping_interval=None,  # the server's pings are answered; the client sends none, as browsers
                open_timeout=60,
                local_addr=(source, 0),
            )
        except Exception as exc:
            out.errors.append(f"connect: {exc!r}")
            return
        try:
            await asyncio.wait_for(handshake(ws), 60)
        except Exception as exc:
            out.errors.append(f"handshake: {exc!r}")
            await ws.close()
            return
        out.latencies_ns.append(time.monotonic_ns() - t)
        if "permessage-deflate" in (ws.response.headers.get("Sec-WebSocket-Extensions") or ""):
            out.deflate += 1
        out.sockets.append(ws)


async def open_many(endpoints, handshake, *, concurrency: int, sources: list[str], progress: Progress | None = None):
    gate = asyncio.Semaphore(concurrency)
    out = Opened()
    tasks = [
        asyncio.create_task(_open_one(e, handshake, sources[i % len(sources)], gate, out))
        for i, e in enumerate(endpoints)
    ]
    if progress is not None:
        pending = set(tasks)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=5)
            if pending:
                progress(f"  {len(out.sockets)}/{len(endpoints)} open, {len(out.errors)} errors")
    await asyncio.gather(*tasks)
    return out


async def run_soak(system, *, sockets, concurrency, hold, sources: list[str], progress: Progress, settle=SETTLE_S):
    result: dict = {"sockets": sockets, "concurrency": concurrency, "hold_s": hold}
    warmup = system.endpoints[:WARMUP_SOCKETS]
    warm = await open_many(warmup, system.handshake, concurrency=concurrency, sources=sources)
    await asyncio.gather(*(ws.close() for ws in warm.sockets), return_exceptions=True)
    result["warmup_errors"] = warm.errors[:3]
    await asyncio.sleep(2)
    result["rss_baseline_kib"] = baseline = rss_kib(system.pid)
    gc_before = system.gc_stats()
    result["members_before"] = system.members()
    progress(f"baseline RSS {baseline / 1024:.1f} MiB; opening {sockets} sockets, {concurrency} in flight")

    cpu = CpuWindow(system.pid)
    cpu.start()
    drops_before = listen_drops()
    open_started = time.time()
    t = time.monotonic()
    opened = await open_many(
        system.endpoints, system.handshake, concurrency=concurrency, sources=sources, progress=progress
    )
    wall = time.monotonic() - t
    usage = cpu.stop()
    result["listen_overflows"] = {k: v - drops_before[k] for k, v in listen_drops().items()}
    result.update(
        {
            "opened": len(opened.sockets),
            "open_errors": len(opened.errors),
            "open_errors_first": opened.errors[:5],
            "deflate_accepted": opened.deflate,
            "open_wall_s": wall,
            "connects_per_s": len(opened.sockets) / wall if wall else None,
            "connect_latency_ms": percentiles(opened.latencies_ns),
            "open_server_cpu_s": usage["server_cpu_s"],
            "open_server_cpu_ms_per_connect": 1000 * usage["server_cpu_s"] / max(1, len(opened.sockets)),
            "open_loadgen_cpu_pct": 100 * usage["loadgen_cpu_s"] / usage["wall_s"],
            "open_machine_busy_pct": usage["machine_busy_pct"],
        }
    )
    progress(
        f"{len(opened.sockets)} open in {wall:.1f}s ({result['connects_per_s']:.0f}/s), {len(opened.errors)} errors; "
        f"holding {hold:g}s"
    )

    drops = Drops()
    readers = [asyncio.create_task(_read(ws, "visitor", lambda frame: None, drops)) for ws in opened.sockets]
    samples = []
    hold_started = time.time()
    idle = CpuWindow(system.pid)
    idle.start()
    end = time.monotonic() + hold
    while time.monotonic() < end:
        await asyncio.sleep(min(1.0, max(0.0, end - time.monotonic())))
        samples.append(rss_kib(system.pid))
    idle_usage = idle.stop()
    hold_ended = time.time()
    result["idle_server_cpu_pct"] = 100 * idle_usage["server_cpu_s"] / idle_usage["wall_s"]
    result["idle_machine_busy_pct"] = idle_usage["machine_busy_pct"]
    held = rss_kib(system.pid)
    result["rss_held_kib"] = held
    result["rss_samples_kib"] = samples
    result["kib_per_socket"] = (held - baseline) / len(opened.sockets) if opened.sockets else None
    result["members_open"] = system.members()
    result["dropped_while_idle"] = len(drops.reasons)
    result["dropped_first"] = drops.reasons[:5]
    await asyncio.sleep(1.2)  # the server writes its GC snapshot every second
    result.update(
        gc_phases(
            gc_before, system.gc_stats(), {"open": (open_started, hold_started), "idle": (hold_started, hold_ended)}
        )
    )
    progress(
        f"RSS {held / 1024:.1f} MiB = {result['kib_per_socket'] or 0:.1f} KiB/socket over the baseline; "
        f"idle server CPU {result['idle_server_cpu_pct']:.2f}% of a core; GC {result.get('gc_collections')} "
        f"collections, max pause {result.get('gc_max_pause_ms')} ms; "
        f"group members {result['members_open']}; closing all {len(opened.sockets)} at once"
    )

    drops.closing = True
    t = time.monotonic()
    closes = await asyncio.gather(*(ws.close() for ws in opened.sockets), return_exceptions=True)
    result["close_wall_s"] = time.monotonic() - t
    result["close_errors"] = sum(1 for c in closes if isinstance(c, BaseException))
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)

    # Settle: memberships are removed by the server's disconnect handlers, which may lag behind the closes.
    t = time.monotonic()
    members = system.members()
    while members and time.monotonic() - t < settle:
        await asyncio.sleep(0.5)
        members = system.members()
    if members is None:
        await asyncio.sleep(3)
    result["members_after"] = members
    result["settle_s"] = time.monotonic() - t
    result["rss_after_kib"] = rss_kib(system.pid)
    progress(
        f"closed in {result['close_wall_s']:.1f}s, {result['close_errors']} close errors; group members left "
        f"{'not observable' if members is None else members} after {result['settle_s']:.1f}s"
    )
    return result


def gc_phases(before: dict | None, after: dict | None, phases: dict[str, tuple[float, float]]) -> dict:
    """Collections between two GC snapshots, and the longest pause of each phase (wall-time window).

    Pauses under 1 ms are counted but not kept with their time: a phase whose longest is under 1 ms
    reports 0. Nothing for a server that reports no snapshots (the anchors)."""
    if before is None or after is None:
        return {}
    out = {
        "gc_collections": sum(after["collections"]) - sum(before["collections"]),
        "gc_collections_by_generation": [
            a - b for a, b in zip(after["collections"], before["collections"], strict=True)
        ],
        "gc_total_pause_ms": 1000 * (after["total_s"] - before["total_s"]),
        "gc_over_20ms": after["over_20ms"] - before["over_20ms"],
        "gc_threshold": after["threshold"],
        "gc_frozen": after["frozen"],
    }
    for name, (start, end) in phases.items():
        pauses = [(g, p, cpu) for at, g, p, cpu in after["pauses"] if start <= at <= end + 1.0]
        out[f"gc_{name}_max_pause_ms"] = 1000 * max((p for _, p, _ in pauses), default=0.0)
        out[f"gc_{name}_max_pause_cpu_ms"] = 1000 * max((cpu for _, _, cpu in pauses), default=0.0)
        out[f"gc_{name}_max_pause_generation"] = max(pauses, key=lambda pause: pause[1], default=(None,))[0]
        out[f"gc_{name}_pauses_over_1ms"] = len(pauses)
    out["gc_max_pause_ms"] = max(out[f"gc_{name}_max_pause_ms"] for name in phases)
    out["gc_max_pause_cpu_ms"] = max(out[f"gc_{name}_max_pause_cpu_ms"] for name in phases)
    return out


def source_addresses(count: int) -> list[str]:
    """127.0.0.1..count: each has its own ~28,000 ephemeral ports towards the server's one port."""
    return [f"127.0.0.{i}" for i in range(1, count + 1)]
