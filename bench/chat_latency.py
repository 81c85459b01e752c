"""Visitor-to-agent chat latency of Parley over real sockets, beside two anchors on the same workload.

Run from the repository root (it starts every server itself, on loopback ports):

    .venv/bin/python bench/chat_latency.py                 # full run: 1,000 conversations, 200 msg/s, 30 s
    .venv/bin/python bench/chat_latency.py --quick         # smoke run: 50 conversations, 5 s
    .venv/bin/python bench/chat_latency.py --backends embedded --skip-anchors

Systems, one after another, each alone on the machine while it is measured:

- ``relay``: a bare ``websockets`` relay (bench/_relay.py) that forwards each visitor frame to its
  agent socket. Nothing is parsed or stored: the floor.
- ``channels-redis``: the Channels tutorial's group chat (bench/anchors/) under daphne on
  channels-redis, a group per conversation, nothing stored.
- ``parley-embedded``: one ``manage.py serve --roles web,worker`` on SQLite + the in-memory layer.
- ``parley-services``: the same process on a fresh PostgreSQL database + Redis.

Workload (the same for every system): N conversations, each a visitor socket and the one agent socket
that follows it (2N sockets); a warm-up message per conversation, then ``--rate`` messages/s for
``--duration`` s, open loop, spread over the conversations. Parley stores every message (checked
against the database afterwards) and acks it to the visitor; the anchors store nothing.

Measured, per system: visitor-to-agent latency (agent receive minus visitor send on this process's
monotonic clock) p50/p90/p99/p99.9/max over the measured window; messages delivered, lost, duplicated,
misrouted; the server process's CPU (utime+stime from /proc) per message (for Parley on services, the
web process only: PostgreSQL's and Redis' CPU is not in it); this load generator's CPU and the whole
machine's CPU during the window (to show neither the generator nor a neighbour was the bottleneck);
sockets the server dropped and tracebacks in its log. For Parley also: visitor send to ack latency,
and every message id checked against the inbound rows in its database. Fan-out: ``--fanout`` agent
sockets following one conversation, one visitor message, time until all have it, as deliveries/s.
A summary table with Parley's ratios to each anchor and the goals goes to stdout; progress goes to
stderr; everything is also written to var/bench/*.json. bench/README.md has the details.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._loadgen import (  # noqa: E402
    Progress,
    cancel_on_signals,
    machine,
    measure_system,
    run_fanout,
    run_pairs,
    write_report,
)
from bench._targets import ChannelsTarget, ParleyTarget, RelayTarget  # noqa: E402

GOALS = {"p99_ms": 15.0, "p99.9_ms": 50.0, "cpu_ms_per_msg": 1.5, "fanout_deliveries_per_s": 10_000}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=1000, help="visitor/agent pairs (default 1000)")
    parser.add_argument("--rate", type=float, default=200, help="messages per second, all pairs (default 200)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of measured load (default 30)")
    parser.add_argument("--fanout", type=int, default=1000, help="agent sockets in the fan-out case (default 1000)")
    parser.add_argument("--fanout-repeats", type=int, default=5, help="measured fan-out rounds (default 5)")
    parser.add_argument(
        "--backends", default="embedded,services", help="Parley backends: embedded, services (default both)"
    )
    parser.add_argument("--skip-anchors", action="store_true", help="measure Parley only")
    parser.add_argument("--quick", action="store_true", help="smoke run: 50 conversations, 5 s, 50 fan-out sockets")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL to create the services run's fresh database on",
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--output", type=Path, help="JSON results file (default var/bench/chat_latency-<time>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.conversations, args.duration, args.fanout = 50, 5, 50
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(args.backends) - {"embedded", "services"}:
        parser.error("--backends takes embedded and/or services")
    return args


def raise_open_files_limit(needed: int) -> int:
    """Raise RLIMIT_NOFILE towards ``needed`` (servers started later inherit it); returns the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def command_line() -> str:
    return " ".join([os.path.relpath(sys.executable, ROOT), *sys.argv])


async def measure(target, args, log: Progress) -> dict:
    async def run(result: dict) -> None:
        pairs, tracker = await run_pairs(
            target.dialect,
            conversations=args.conversations,
            rate=args.rate,
            duration=args.duration,
            server_pid=target.pid,
            progress=log,
        )
        result.update(pairs)
        result["persisted"] = target.persisted(list(tracker.sent))
        errors = getattr(target.dialect, "errors", [])
        result["error_frames"] = len(errors)
        if errors:
            log(f"{len(errors)} error frames, first: {errors[0]}")
        lat, ack = result["latency_ms"] or {}, result["ack_latency_ms"] or {}
        log(
            f"delivered {result['delivered']}/{result['sent']}, p50 {lat.get('p50', float('nan')):.2f} ms, "
            f"p99 {lat.get('p99', float('nan')):.2f} ms, server CPU {result['server_cpu_ms_per_msg']:.3f} ms/msg"
            + (f"; acks p50 {ack['p50']:.2f} ms, p99 {ack['p99']:.2f} ms" if ack else "")
        )
        if args.fanout:
            result["fanout"] = await run_fanout(
                target.dialect, sockets=args.fanout, repeats=args.fanout_repeats, server_pid=target.pid, progress=log
            )

    return await measure_system(target, log, target.start, run)


# --- Reporting --------------------------------------------------------------------------------------


def _ms(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ratio(a, b) -> str:
    if a is None or b in (None, 0):
        return "-"
    ratio = a / b
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2f}x"


def summary(report: dict) -> str:
    results = [r for r in report["results"] if "failed" not in r]
    lines = [
        f"chat_latency: {report['args']['conversations']} conversations, {report['args']['rate']:g} msg/s, "
        f"{report['args']['duration']:g} s measured; machine: {report['machine']['nproc']} x "
        f"{report['machine']['cpu']}, {report['machine']['ram_gib']} GiB",
        "",
        f"{'system':<16} {'sent':>6} {'p50':>7} {'p90':>7} {'p99':>7} {'p99.9':>7} {'max':>8} "
        f"{'lost':>5} {'dup':>4} {'stored':>7} {'cpu ms/msg':>10} {'gen cpu':>8} {'machine':>8} {'fan-out/s':>10}",
    ]
    for r in results:
        lat = r["latency_ms"] or {}
        stored = r["persisted"]["rows"] if r.get("persisted") else "-"
        fan = (r.get("fanout") or {}).get("deliveries_per_s")
        lines.append(
            f"{r['system']:<16} {r['sent']:>6} {_ms(lat.get('p50')):>7} {_ms(lat.get('p90')):>7} "
            f"{_ms(lat.get('p99')):>7} {_ms(lat.get('p99.9')):>7} {_ms(lat.get('max')):>8} {r['lost']:>5} "
            f"{r['duplicated']:>4} {stored:>7} {r['server_cpu_ms_per_msg']:>10.3f} "
            f"{r['loadgen_cpu_pct']:>7.0f}% {r['machine_busy_pct']:>7.0f}% {'-' if fan is None else f'{fan:,.0f}':>10}"
        )
    for r in report["results"]:
        if "failed" in r:
            lines.append(f"{r['system']:<16} FAILED: {r['failed'].strip().splitlines()[-1]}")
    lines.append("latencies in ms, visitor send to agent receive; 'stored' = inbound rows found in the database")
    for r in report["results"]:
        if r.get("sockets_dropped"):
            lines.append(f"{r['system']}: {r['sockets_dropped']} sockets dropped by the server during the run")
        if r.get("server_log_tracebacks"):
            lines.append(f"{r['system']}: {r['server_log_tracebacks']} tracebacks in the server log (see the JSON)")

    anchors = [r for r in results if r["kind"] == "anchor"]
    for p in (r for r in results if r["kind"] == "parley"):
        lat = p["latency_ms"] or {}
        if anchors:
            lines.append("")
            lines.append(f"{p['system']} / anchor     p50     p99   p99.9  cpu/msg  fan-out/s")
            for a in anchors:
                alat = a["latency_ms"] or {}
                pf, af = (
                    (p.get("fanout") or {}).get("deliveries_per_s"),
                    (a.get("fanout") or {}).get("deliveries_per_s"),
                )
                lines.append(
                    f"  vs {a['system']:<20} {_ratio(lat.get('p50'), alat.get('p50')):>7} "
                    f"{_ratio(lat.get('p99'), alat.get('p99')):>7} {_ratio(lat.get('p99.9'), alat.get('p99.9')):>7} "
                    f"{_ratio(p['server_cpu_ms_per_msg'], a['server_cpu_ms_per_msg']):>8} {_ratio(pf, af):>10}"
                )
        fan = (p.get("fanout") or {}).get("deliveries_per_s")
        stored = p.get("persisted") or {}
        checks = [
            ("p99 <= 15 ms", lat.get("p99"), lat.get("p99") is not None and lat["p99"] <= GOALS["p99_ms"]),
            ("p99.9 <= 50 ms", lat.get("p99.9"), lat.get("p99.9") is not None and lat["p99.9"] <= GOALS["p99.9_ms"]),
            (
                "CPU <= 1.5 ms/msg",
                p["server_cpu_ms_per_msg"],
                p["server_cpu_ms_per_msg"] <= GOALS["cpu_ms_per_msg"],
            ),
            (
                "zero lost/duplicated, all stored once",
                f"lost {p['lost']}, dup {p['duplicated']}, missing {stored.get('missing')}, "
                f"stored twice {stored.get('duplicated')}",
                p["lost"] == 0
                and p["duplicated"] == 0
                and p["misrouted"] == 0
                and stored.get("missing") == 0
                and stored.get("duplicated") == 0,
            ),
            (
                "fan-out >= 10,000 deliveries/s",
                None if fan is None else f"{fan:,.0f}/s",
                fan is not None and fan >= GOALS["fanout_deliveries_per_s"],
            ),
        ]
        lines.append(f"{p['system']} goals:")
        for name, value, ok in checks:
            shown = f"{value:.2f}" if isinstance(value, float) else value
            lines.append(f"  {'met   ' if ok else 'MISSED'} {name:<38} {shown}")
    return "\n".join(lines)


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sockets = 2 * args.conversations + args.fanout + 64
    nofile = raise_open_files_limit(max(sockets * 2, 4096))
    targets = []
    if not args.skip_anchors:
        targets += [RelayTarget(), ChannelsTarget(args.redis_url)]
    for backend in args.backends:
        targets.append(
            ParleyTarget(
                backend,
                conversations=args.conversations,
                fanout=args.fanout,
                database_url=args.database_url,
                redis_url=args.redis_url,
            )
        )
    report = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "open_files_limit": nofile,
        "loadavg_before": os.getloadavg(),
        "args": {
            k: v for k, v in vars(args).items() if k in {"conversations", "rate", "duration", "fanout", "backends"}
        }
        | {"fanout_repeats": args.fanout_repeats},
        "results": [],
    }
    cancel_on_signals()
    for target in targets:
        report["results"].append(await measure(target, args, Progress(target.name)))
    report["loadavg_after"] = os.getloadavg()
    write_report(
        report,
        args.output,
        ROOT / "var" / "bench" / f"chat_latency-{datetime.now():%Y%m%d-%H%M%S}.json",
        summary(report),
    )
    return 1 if any("failed" in r for r in report["results"]) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
