"""Which ASGI server for Parley's sockets: memory per idle widget socket, connects/s and CPU per connect.

Run from the repository root (it starts every server itself, on loopback ports):

    .venv/bin/python bench/servers.py                 # 2,000 then 5,000 sockets on each server
    .venv/bin/python bench/servers.py --quick         # smoke run: 200 then 500 sockets, 2 s hold
    .venv/bin/python bench/servers.py --steps 2000 --systems parley-daphne,parley-granian

Each system is one server process of its own (granian: the one worker it forks, whose RSS and CPU are
the ones read), measured alone, one after the other, on the same client and workload as bench/widget.py's
soak (bench/_soak.py): every Parley socket authenticated with its own visitor token, joining its
visitor groups on connect, ``hello`` until ``ready``; the client is the ``websockets`` client with its
defaults, so it offers permessage-deflate as browsers do (whether the server accepts it is recorded).
Parley runs on the embedded default (SQLite + the in-memory layer) on a fresh database, the same
contact_center.asgi:application under each server:

- ``parley-daphne``: ``manage.py serve --roles web``, as production runs it today;
- ``parley-uvicorn-websockets`` / ``-sansio`` / ``-wsproto``: uvicorn with uvloop and httptools, and each of
  its WebSocket implementations (``websockets`` is the legacy one, ``websockets-sansio`` the new one);
- ``parley-granian``: granian's ASGI interface (``asginl``: Channels' router has no lifespan), one worker.

The server options follow ``serve``'s where the server has one: 1 MiB messages, a 1,024 backlog, pings
every 20 s, no proxy headers (loopback). Two variants isolate a cause: ``parley-uvicorn-sansio-nodeflate``
refuses permessage-deflate (as daphne does), ``parley-granian-buf16k`` shrinks granian's 408 KiB HTTP/1
buffer. Anchors in the same invocation: ``relay`` and ``relay-deflate`` (a bare ``websockets`` server
refusing / accepting permessage-deflate) and ``channels-redis`` (stock Channels on daphne, Redis).

For each system: a warm-up (50 sockets opened and closed), the baseline VmRSS, then the sockets opened
in steps (``--steps``, cumulative); after each step they are held idle ``--hold`` s, the server runs a
full ``gc.collect()`` (bench/_gchook/sitecustomize.py, loaded through PYTHONPATH; the baseline is read
after one too), and the RSS over the baseline divided by the sockets open is the cost of one socket
(and the difference between two steps divided by the sockets added, the marginal cost). The load
average is read beside each step. Finally every socket is closed at once.

The summary goes to stdout, progress to stderr, everything to var/bench/servers-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._console_http import process_tree  # noqa: E402
from bench._loadgen import (  # noqa: E402
    CpuWindow,
    Drops,
    Endpoint,
    Progress,
    _read,
    cancel_on_signals,
    machine,
    measure_system,
    percentiles,
    write_report,
)
from bench._soak import (  # noqa: E402
    _SEED,
    WARMUP_SOCKETS,
    AnchorSoak,
    ParleySoak,
    listen_drops,
    open_many,
    rss_kib,
    source_addresses,
)
from bench._targets import ChannelsTarget, RelayTarget  # noqa: E402
from bench.chat_latency import command_line, raise_open_files_limit  # noqa: E402
from tests.support.live import LiveStack, free_port, wait_for_port  # noqa: E402

GOAL_KIB_PER_SOCKET = 24.0
MAX_MESSAGE_BYTES = 1024 * 1024  # contact_center/lib/sockets.py, as `serve` passes it to daphne
SYSTEMS = [
    "relay",
    "relay-deflate",
    "channels-redis",
    "parley-daphne",
    "parley-uvicorn-websockets",
    "parley-uvicorn-sansio",
    "parley-uvicorn-wsproto",
    "parley-uvicorn-sansio-nodeflate",
    "parley-granian",
    "parley-granian-buf16k",
]
APP = "contact_center.asgi:application"


def uvicorn_argv(ws: str, *extra: str):
    def argv(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            APP,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--ws",
            ws,
            "--ws-max-size",
            str(MAX_MESSAGE_BYTES),
            "--ws-ping-interval",
            "20",
            "--backlog",
            "1024",
            "--lifespan",
            "off",
            "--no-proxy-headers",
            "--no-access-log",
            "--log-level",
            "warning",
            *extra,
        ]

    return argv


def granian_argv(*extra: str):
    # No option for a message size limit, pings or proxy headers: granian has none of them (ASGI).
    return lambda port: [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asginl",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backlog",
        "1024",
        "--no-access-log",
        "--log-level",
        "warning",
        *extra,
        APP,
    ]


SERVER_ARGV = {
    "uvicorn-websockets": uvicorn_argv("websockets"),
    "uvicorn-sansio": uvicorn_argv("websockets-sansio"),
    "uvicorn-wsproto": uvicorn_argv("wsproto"),
    # The same, refusing the permessage-deflate the client offers (as daphne does).
    "uvicorn-sansio-nodeflate": uvicorn_argv("websockets-sansio", "--ws-per-message-deflate", "false"),
    "granian": granian_argv(),
    # granian's HTTP/1 buffer is 408 KiB per connection by default.
    "granian-buf16k": granian_argv("--http1-buffer-size", "16384"),
}
DESCRIPTIONS = {
    "daphne": "Parley under daphne (manage.py serve --roles web)",
    "uvicorn-websockets": "Parley under uvicorn, uvloop + httptools, ws=websockets (legacy)",
    "uvicorn-sansio": "Parley under uvicorn, uvloop + httptools, ws=websockets-sansio",
    "uvicorn-wsproto": "Parley under uvicorn, uvloop + httptools, ws=wsproto",
    "uvicorn-sansio-nodeflate": "Parley under uvicorn, ws=websockets-sansio, permessage-deflate refused",
    "granian": "Parley under granian, ASGI interface, 1 worker",
    "granian-buf16k": "Parley under granian, ASGI interface, 1 worker, 16 KiB HTTP/1 buffer",
}


class ParleyOnServer(ParleySoak):
    """Parley's embedded default on a fresh database, seeded like bench/_soak.py's, under ``server``."""

    def __init__(self, server: str):
        super().__init__("embedded", database_url="", redis_url="")
        self.server = server
        self.name = f"parley-{server}"
        self.description = DESCRIPTIONS[server]

    def start(self, sockets: int) -> None:
        if self.server == "daphne":
            super().start(sockets)
            return
        tmp = Path(self._tmp.name)
        self.stack = LiveStack(tmp)
        tokens = json.loads(self.stack.shell(_SEED.format(sockets=sockets)).splitlines()[-1])
        port = free_port()
        env = dict(self.stack.env, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
        log = open(tmp / f"serve-{port}.log", "a")  # noqa: SIM115  (closed by LiveStack.stop with the process)
        proc = subprocess.Popen(SERVER_ARGV[self.server](port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        proc.log_file = log  # type: ignore[attr-defined]
        self.stack.processes.append(proc)  # so that LiveStack.stop() and logs() take care of it
        wait_for_port(port, timeout=60, proc=proc)
        self.pid = proc.pid
        base_url = f"http://127.0.0.1:{port}"
        if self.server.startswith("granian"):
            # granian's main process only supervises: the application runs in the worker it starts, and
            # the main process's socket accepts connections before that worker is ready. Once the worker
            # answers, it is the largest child (there may be short-lived helpers beside it).
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(base_url + "/healthz", timeout=5):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            self.pid = max(process_tree(proc.pid)[1:], key=rss_kib)
        self.endpoints = [Endpoint(f"ws://127.0.0.1:{port}/ws/widget/?token={quote(t)}", base_url) for t in tokens]


def make_system(name: str, args):
    if name == "relay":
        return AnchorSoak(RelayTarget())
    if name == "relay-deflate":
        relay = RelayTarget(deflate=True)
        relay.name, relay.description = "relay-deflate", "bare websockets server accepting permessage-deflate"
        return AnchorSoak(relay)
    if name == "channels-redis":
        # As bench/widget.py: held below redis-py's pool of 100, which refuses the 101st concurrent group_add.
        return AnchorSoak(ChannelsTarget(args.redis_url), redis_url=args.redis_url, max_concurrency=90)
    return ParleyOnServer(name.removeprefix("parley-"))


GC_HOOK = Path(__file__).resolve().parent / "_gchook"


def install_gc_hook(directory: str) -> None:
    """Servers started from now on (their environment is this process's) load bench/_gchook/sitecustomize.py."""
    os.environ["PARLEY_BENCH_GC_DIR"] = directory
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(GC_HOOK), os.environ.get("PYTHONPATH")) if p)


def collect_garbage(pid: int, timeout: float = 5.0) -> dict | None:
    """Ask ``pid`` for a full ``gc.collect()`` through its hook and wait for it (call it in a thread);
    None when it has no hook (the Channels anchor's command sets its own PYTHONPATH) or did not answer."""
    directory = os.environ.get("PARLEY_BENCH_GC_DIR")
    if not directory:
        return None
    done = Path(directory, f"{pid}.done")
    done.unlink(missing_ok=True)
    Path(directory, f"{pid}.request").touch()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if done.exists():
            collected, seconds = done.read_text().split()
            done.unlink()
            return {"collected": int(collected), "ms": 1000 * float(seconds)}
    Path(directory, f"{pid}.request").unlink(missing_ok=True)
    return None


async def soak_steps(system, *, steps: list[int], concurrency: int, hold: float, sources: list[str], progress) -> dict:
    """Warm up, read the baseline, open the sockets step by step (held idle after each), close them all."""
    result: dict = {"steps": []}
    warm = await open_many(
        system.endpoints[:WARMUP_SOCKETS], system.handshake, concurrency=concurrency, sources=sources
    )
    await asyncio.gather(*(ws.close() for ws in warm.sockets), return_exceptions=True)
    result["warmup_errors"] = warm.errors[:3]
    await asyncio.sleep(2)
    result["baseline_gc"] = await asyncio.to_thread(collect_garbage, system.pid)
    result["rss_baseline_kib"] = baseline = rss_kib(system.pid)
    progress(f"baseline RSS {baseline / 1024:.1f} MiB (after gc: {result['baseline_gc'] is not None})")
    sockets, readers, drops = [], [], Drops()
    previous_rss, previous_open = baseline, 0
    for target in steps:
        endpoints = system.endpoints[len(sockets) : target]
        cpu = CpuWindow(system.pid)
        overflows = listen_drops()
        cpu.start()
        t = time.monotonic()
        opened = await open_many(
            endpoints, system.handshake, concurrency=concurrency, sources=sources, progress=progress
        )
        wall = time.monotonic() - t
        usage = cpu.stop()
        sockets += opened.sockets
        readers += [asyncio.create_task(_read(ws, "visitor", lambda frame: None, drops)) for ws in opened.sockets]
        await asyncio.sleep(hold)
        before_gc = rss_kib(system.pid)
        gc_run = await asyncio.to_thread(collect_garbage, system.pid)
        held = rss_kib(system.pid)
        step = {
            "sockets_open": len(sockets),
            "opened": len(opened.sockets),
            "open_errors": len(opened.errors),
            "open_errors_first": opened.errors[:5],
            "deflate_accepted": opened.deflate,
            "listen_overflows": {k: v - overflows[k] for k, v in listen_drops().items()},
            "open_wall_s": wall,
            "connects_per_s": len(opened.sockets) / wall if wall else None,
            "connect_latency_ms": percentiles(opened.latencies_ns),
            "server_cpu_ms_per_connect": 1000 * usage["server_cpu_s"] / max(1, len(opened.sockets)),
            "loadgen_cpu_pct": 100 * usage["loadgen_cpu_s"] / usage["wall_s"],
            "machine_busy_pct": usage["machine_busy_pct"],
            "rss_kib": held,
            "gc": gc_run,  # None: not collected (no hook), and the figures below are before any collection
            "kib_per_socket": (held - baseline) / len(sockets) if sockets else None,
            "kib_per_socket_before_gc": (before_gc - baseline) / len(sockets) if sockets else None,
            "marginal_kib_per_socket": (held - previous_rss) / (len(sockets) - previous_open)
            if len(sockets) > previous_open
            else None,
            "dropped_while_idle": len(drops.reasons),
            "loadavg": os.getloadavg(),
        }
        result["steps"].append(step)
        previous_rss, previous_open = held, len(sockets)
        progress(
            f"{len(sockets)} open ({step['connects_per_s']:.0f}/s, "
            f"{step['server_cpu_ms_per_connect']:.2f} ms CPU each, "
            f"{len(opened.errors)} errors, deflate on {opened.deflate}): RSS {held / 1024:.1f} MiB = "
            f"{step['kib_per_socket']:.1f} KiB/socket; load {step['loadavg'][0]:.2f}"
        )
    drops.closing = True
    closes = await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    result["close_errors"] = sum(1 for c in closes if isinstance(c, BaseException))
    result["dropped_first"] = drops.reasons[:5]
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    await asyncio.sleep(2)
    result["rss_after_close_kib"] = rss_kib(system.pid)
    return result


async def measure(system, args, log: Progress) -> dict:
    async def run(result: dict) -> None:
        concurrency = min(args.concurrency, getattr(system, "max_concurrency", None) or args.concurrency)
        result["concurrency"] = concurrency
        result.update(
            await soak_steps(
                system,
                steps=args.steps,
                concurrency=concurrency,
                hold=args.hold,
                sources=source_addresses(args.sources),
                progress=log,
            )
        )

    return await measure_system(system, log, lambda: system.start(max(args.steps)), run)


async def measure_all(args, report: dict) -> None:
    cancel_on_signals()
    for name in args.systems:
        report["systems"].append(await measure(make_system(name, args), args, Progress(name)))


def summary(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"servers: steps {report['args']['steps']}, hold {report['args']['hold']:g} s; machine: {m['nproc']} x "
        f"{m['cpu']}, {m['ram_gib']} GiB; load average {report['loadavg_before'][0]:.2f} before, "
        f"{report['loadavg_after'][0]:.2f} after",
        "",
        f"{'system':<32} {'open':>6} {'err':>4} {'deflate':>7} {'KiB/sock':>8} {'no gc':>6} {'marginal':>8} "
        f"{'conn/s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'cpu ms/conn':>11} {'gen cpu':>7} {'load 1m':>7} {'tb':>3}",
    ]
    for r in report["systems"]:
        if "failed" in r:
            lines.append(f"{r['system']:<32} FAILED: {r['failed'].strip().splitlines()[-1]}")
            continue
        for s in r["steps"]:
            lat = s["connect_latency_ms"] or {}
            errors = s["open_errors"] + s["dropped_while_idle"]
            lines.append(
                f"{r['system']:<32} {s['sockets_open']:>6} {errors:>4} {s['deflate_accepted']:>7} "
                f"{s['kib_per_socket'] or 0:>8.1f} {'' if s['gc'] else '*':>6} "
                f"{s['marginal_kib_per_socket'] or 0:>8.1f} {s['connects_per_s'] or 0:>7.0f} "
                f"{lat.get('p50', 0):>7.0f} {lat.get('p99', 0):>7.0f} "
                f"{s['server_cpu_ms_per_connect']:>11.2f} {s['loadgen_cpu_pct']:>6.0f}% {s['loadavg'][0]:>7.2f} "
                f"{r['server_log_tracebacks']:>3}"
            )
    lines += [
        "KiB/sock = (RSS - baseline) / sockets open, both read after a full gc.collect() in the server "
        "(no gc = * where the server could not be asked: its figure is without one); marginal = RSS added / "
        "sockets added since the step before; "
        "conn/s, cpu and latency are of that step's connects; err = failed opens + sockets dropped while idle; "
        "deflate = connects of that step on which the server accepted permessage-deflate; tb = tracebacks in "
        f"the server log. Goal: <= {GOAL_KIB_PER_SOCKET:g} KiB per socket.",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="2000,5000", help="cumulative socket counts (default 2000,5000)")
    parser.add_argument("--concurrency", type=int, default=300, help="handshakes in flight (default 300)")
    parser.add_argument("--hold", type=float, default=10, help="idle seconds after each step (default 10)")
    parser.add_argument("--sources", type=int, default=4, help="client source addresses 127.0.0.1..N (default 4)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"default all: {SYSTEMS}")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 then 500 sockets, 2 s hold")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--output", type=Path, help="JSON results file (default var/bench/servers-<time>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.hold = "200,500", 2
    args.steps = sorted(int(s) for s in args.steps.split(",") if s.strip())
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if set(args.systems) - set(SYSTEMS):
        parser.error(f"--systems takes {', '.join(SYSTEMS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nofile = raise_open_files_limit(max(args.steps) + 1024)  # servers started from here inherit it
    gc_dir = tempfile.TemporaryDirectory(prefix="parley-bench-gc-")
    install_gc_hook(gc_dir.name)
    report = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "open_files_limit": nofile,
        "loadavg_before": os.getloadavg(),
        "args": {k: v for k, v in vars(args).items() if k not in {"output", "redis_url"}},
        "systems": [],
    }
    try:
        asyncio.run(measure_all(args, report))
    except asyncio.CancelledError:
        print("interrupted; writing what was measured", file=sys.stderr)
    report["loadavg_after"] = os.getloadavg()
    default = ROOT / "var" / "bench" / f"servers-{datetime.now():%Y%m%d-%H%M%S}.json"
    write_report(report, args.output, default, summary(report))
    return 1 if any("failed" in r for r in report["systems"]) else 0


if __name__ == "__main__":
    sys.exit(main())
