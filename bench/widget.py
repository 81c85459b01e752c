"""The widget's figures: its weight, time from click to usable, and a connection soak beside two anchors.

Run from the repository root (it starts every server itself, on loopback ports):

    .venv/bin/python bench/widget.py              # full run: 20 click runs, 10,000 sockets per system
    .venv/bin/python bench/widget.py --quick      # smoke run: 5 click runs, 500 sockets
    .venv/bin/python bench/widget.py --skip-click --sockets 2000 --systems parley-embedded

1. Sizes: loader.js, and the whole widget (loader + appearance + frame HTML as served + every script and
   style the frame page references), raw and gzipped at levels 9 (what the goal and
   tests/widget/test_size_budget.py use) and 6 (a typical server's default), fetched over HTTP from a
   running Parley (embedded default, `seed_demo`).
2. Click to usable, on that Parley's demo page, in headless chromium (a fresh browser context per run, so
   nothing is cached): first load (navigation start to launcher visible), and click on the launcher to
   the frame's message box visible and enabled *and* its socket's ``ready``. Timed in the page with
   ``performance.timeOrigin + performance.now()`` (one clock across the page and its frame) by an init
   script that hooks the click (capture phase), ``WebSocket`` and the message box.
3. Connection soak, one system after another, each alone: N idle sockets on one server process, the
   client offering permessage-deflate as browsers do (bench/_soak.py): server RSS per socket, connects
   per second (Parley: authenticated with a visitor token, visitor groups joined, ``hello`` to ``ready``),
   then all closed at once: errors on either side, and group memberships left behind (counted in Redis:
   per socket for the channels-redis anchor, groups subscribed for Parley's pub/sub layer; the in-memory
   layer of the embedded default cannot be seen from outside its process).

A summary table and the goals go to stdout; progress to stderr; everything to var/bench/widget-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import math
import os
import re
import sys
import tempfile
import time
import traceback
import urllib.request
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
    percentiles,
    write_report,
)
from bench._soak import AnchorSoak, ParleySoak, run_soak, source_addresses  # noqa: E402
from bench._targets import ChannelsTarget, RelayTarget  # noqa: E402
from bench.chat_latency import command_line, raise_open_files_limit  # noqa: E402
from tests.support.live import LiveStack  # noqa: E402

GOALS = {
    "loader_gz9": 4 * 1024,
    "widget_gz9": 30 * 1024,
    "sockets": 10_000,
    "kib_per_socket": 24.0,
    "connects_per_s": 1500.0,
    "idle_cpu_pct_2000": 2.0,  # 2,000 idle sockets: under 2% of a core
    "gc_pause_ms": 20.0,  # no collection pauses the loop longer, even at 10,000 sockets
}
SYSTEMS = ["relay", "relay-deflate", "channels-redis", "parley-embedded", "parley-services"]
# Parley's own assets that the frame page references (as in tests/widget/test_size_budget.py).
OWN_ASSET = re.compile(r"""(?:src|href)=["'](/static/[^"']+)["']""")
CHROMIUM = os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [  # as tests/browser/conftest.py
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=10_000, help="idle sockets per system (default 10000)")
    parser.add_argument("--concurrency", type=int, default=300, help="handshakes in flight (default 300)")
    parser.add_argument("--hold", type=float, default=10, help="seconds the sockets stay open, idle (default 10)")
    parser.add_argument("--sources", type=int, default=4, help="client source addresses 127.0.0.1..N (default 4)")
    parser.add_argument("--click-runs", type=int, default=20, help="click-to-usable runs (default 20)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"soak systems (default all: {SYSTEMS})")
    parser.add_argument("--skip-click", action="store_true", help="no sizes or click runs")
    parser.add_argument("--skip-soak", action="store_true", help="sizes and click runs only")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 500 sockets, 5 click runs, 3 s hold, 10 s settle"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),
        help="PostgreSQL to create parley-services' fresh database on",
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument(
        "--gc-tuning",
        choices=["on", "off"],
        default="on",
        help="Parley's GC tuning in serve (PARLEY_GC_TUNING; off: CPython's defaults, to compare)",
    )
    parser.add_argument("--output", type=Path, help="JSON results file (default var/bench/widget-<time>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sockets, args.click_runs, args.hold = 500, 5, 3
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if set(args.systems) - set(SYSTEMS):
        parser.error(f"--systems takes {', '.join(SYSTEMS)}")
    return args


# --- Sizes and click to usable ----------------------------------------------------------------------


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:  # no Accept-Encoding: the raw bytes
        return response.read()


def measure_sizes(base: str, public_key: str) -> dict:
    parts = {
        "loader.js": fetch(f"{base}/widget/loader.js"),
        "appearance": fetch(f"{base}/widget/api/appearance/{public_key}/"),
        "frame": fetch(f"{base}/widget/frame/{public_key}/?host=https%3A%2F%2Fshop.example"),
    }
    for path in sorted(set(OWN_ASSET.findall(parts["frame"].decode()))):
        parts[path] = fetch(base + path)
    sizes = {
        name: {
            "raw": len(data),
            "gz9": len(gzip.compress(data, compresslevel=9)),
            "gz6": len(gzip.compress(data, compresslevel=6)),
        }
        for name, data in parts.items()
    }
    total = {k: sum(s[k] for s in sizes.values()) for k in ("raw", "gz9", "gz6")}
    return {"parts": sizes, "loader": sizes["loader.js"], "widget": total}


# Runs in every frame before its scripts. Times are performance.timeOrigin + performance.now(): one clock
# for the page and its frame. The page records the click on the launcher (capture phase, before the
# loader's handler) and when the launcher first shows; the frame records its socket and the message box.
HOOK = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const b = (window.__bench = { origin: performance.timeOrigin });
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const ws = protocols === undefined ? new NativeWebSocket(url) : new NativeWebSocket(url, protocols);
    b.socketCreated = b.socketCreated || now();
    ws.addEventListener("open", () => { b.socketOpen = b.socketOpen || now(); });
    ws.addEventListener("message", (e) => {
      if (!b.ready && e.data.indexOf('"ready"') !== -1 && JSON.parse(e.data).type === "ready") b.ready = now();
    });
    return ws;
  };
  window.WebSocket.prototype = NativeWebSocket.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) window.WebSocket[k] = NativeWebSocket[k];
  const poll = (test, name) => {
    const timer = setInterval(() => { if (test()) { b[name] = now(); clearInterval(timer); } }, 2);
  };
  if (window.top === window) {
    addEventListener("click", () => { b.click = b.click || now(); }, true);
    poll(() => {
      const host = document.getElementById("parley-widget");
      const button = host && host.shadowRoot && host.shadowRoot.querySelector("button");
      return button && button.checkVisibility();
    }, "launcherVisible");
  } else {
    poll(() => {
      const box = document.getElementById("body");
      return box && !box.disabled && box.checkVisibility();
    }, "textbox");
  }
})();
"""


def measure_clicks(base: str, runs: int, progress: Progress) -> dict:
    from playwright.sync_api import expect, sync_playwright

    samples: list[dict] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for run in range(runs):
                context = browser.new_context(viewport=VIEWPORT)
                context.add_init_script(HOOK)
                page = context.new_page()
                page.goto(base + "/")
                launcher = page.get_by_role("button", name="Chat with us")
                expect(launcher).to_be_visible(timeout=30_000)
                page.wait_for_function("window.__bench.launcherVisible", timeout=30_000)
                launcher.click()
                frame = None
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    frame = frame or page.frame(name="parley-frame")
                    got = frame.evaluate("window.__bench || {}") if frame else {}
                    if got.get("ready") and got.get("textbox"):
                        break
                    page.wait_for_timeout(20)  # not time.sleep: Playwright learns of new frames only while called
                else:
                    raise TimeoutError(f"the widget was not usable 30 s after the click: {frame and frame.url} {got}")
                top = page.evaluate("window.__bench")
                click = top["click"]
                sample = {
                    "first_load_ms": top["launcherVisible"] - top["origin"],
                    "frame_start_ms": got["origin"] - click,
                    "textbox_ms": got["textbox"] - click,
                    "socket_created_ms": got["socketCreated"] - click,
                    "socket_open_ms": got["socketOpen"] - click,
                    "ready_ms": got["ready"] - click,
                    "usable_ms": max(got["textbox"], got["ready"]) - click,
                }
                samples.append(sample)
                progress(
                    f"run {run + 1}/{runs}: first load {sample['first_load_ms']:.0f} ms, "
                    f"click to usable {sample['usable_ms']:.0f} ms"
                )
                context.close()
        finally:
            browser.close()
    keys = samples[0].keys() if samples else []
    stats = {}
    for k in keys:
        values = [s[k] for s in samples]
        stats[k] = {**percentiles([int(v * 1e6) for v in values]), "p95": nearest_rank(values, 95)}
    return {"runs": len(samples), "samples": samples, **stats}


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def measure_widget(args, progress: Progress) -> dict:
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="parley-widget-bench-") as tmp:
        stack = LiveStack(Path(tmp))
        try:
            stack.manage("seed_demo")
            base = stack.start("web,worker")
            # The demo page's inbox (contact_center/views/site.py: the first widget inbox).
            code = (
                "from contact_center.models import Inbox; "
                "print(Inbox.objects.filter(kind='widget').order_by('pk')[0].public_key)"
            )
            public_key = stack.shell(code).split()[-1]
            result["sizes"] = measure_sizes(base, public_key)
            w = result["sizes"]["widget"]
            loader = result["sizes"]["loader"]
            progress(f"loader {loader['gz9']} B gzip -9; whole widget {w['gz9']} B gzip -9, {w['raw']} B raw")
            result["click"] = measure_clicks(base, args.click_runs, progress)
        except Exception:
            result["failed"] = traceback.format_exc()
            progress("FAILED:\n" + result["failed"])
        finally:
            logs = stack.logs()
            result["server_log_tracebacks"] = logs.count("Traceback (most recent call last)")
            stack.stop()
    return result


# --- Soak -------------------------------------------------------------------------------------------


def make_system(name: str, args):
    if name == "relay":
        return AnchorSoak(RelayTarget())
    if name == "relay-deflate":
        relay = RelayTarget(deflate=True)
        relay.name, relay.description = "relay-deflate", "bare websockets server accepting permessage-deflate"
        return AnchorSoak(relay)
    if name == "channels-redis":
        # channels-redis' connection pool (redis-py: 100, no waiting) refuses the group_add of the 101st
        # concurrent connect with a 500: held below it, the anchor measures its sockets, not that refusal.
        return AnchorSoak(ChannelsTarget(args.redis_url), redis_url=args.redis_url, max_concurrency=90)
    return ParleySoak(
        name.split("-", 1)[1],
        database_url=args.database_url,
        redis_url=args.redis_url,
        gc_tuning=args.gc_tuning == "on",
    )


async def measure_soak(system, args, log: Progress) -> dict:
    async def run(result: dict) -> None:
        result.update(
            await run_soak(
                system,
                sockets=args.sockets,
                concurrency=min(args.concurrency, getattr(system, "max_concurrency", None) or args.concurrency),
                hold=args.hold,
                sources=source_addresses(args.sources),
                progress=log,
                settle=10 if args.quick else 30,
            )
        )

    return await measure_system(system, log, lambda: system.start(args.sockets), run)


async def soak_all(args, report: dict) -> None:
    cancel_on_signals()
    for name in args.systems:
        report["soak"].append(await measure_soak(make_system(name, args), args, Progress(name)))


# --- Reporting --------------------------------------------------------------------------------------


def _p(stats, key="p50") -> str:
    return "-" if not stats else f"{stats[key]:.0f}"


def left_of(r: dict) -> str:
    return "not observable" if r["members_after"] is None else str(r["members_after"])


def summary(report: dict) -> str:
    lines = [
        f"widget: {report['args']['sockets']} sockets per system, {report['args']['click_runs']} click runs; machine: "
        f"{report['machine']['nproc']} x {report['machine']['cpu']}, {report['machine']['ram_gib']} GiB; "
        f"load average {report['loadavg_before'][0]:.2f} before, {report['loadavg_after'][0]:.2f} after"
    ]
    checks = []
    widget = report.get("widget") or {}
    if "sizes" in widget:
        lines += ["", f"{'part':<34} {'raw':>8} {'gzip -9':>8} {'gzip -6':>8}"]
        for name, s in widget["sizes"]["parts"].items():
            lines.append(f"{name:<34} {s['raw']:>8,} {s['gz9']:>8,} {s['gz6']:>8,}")
        w, loader = widget["sizes"]["widget"], widget["sizes"]["loader"]
        lines.append(f"{'whole widget':<34} {w['raw']:>8,} {w['gz9']:>8,} {w['gz6']:>8,}")
        checks += [
            ("loader <= 4 KiB gzip -9", f"{loader['gz9']:,} B", loader["gz9"] <= GOALS["loader_gz9"]),
            ("whole widget <= 30 KiB gzip -9", f"{w['gz9']:,} B", w["gz9"] <= GOALS["widget_gz9"]),
        ]
    if "click" in widget:
        c = widget["click"]
        lines += ["", f"click runs: {c['runs']} (ms; fresh browser context each)      p50     p95     max"]
        names = {
            "first_load_ms": "first load: navigation to launcher",
            "frame_start_ms": "click to frame navigation start",
            "textbox_ms": "click to message box usable",
            "socket_created_ms": "click to new WebSocket()",
            "socket_open_ms": "click to socket open",
            "ready_ms": "click to socket ready",
            "usable_ms": "click to usable (box and ready)",
        }
        for key, label in names.items():
            stats = c.get(key)
            if stats:
                lines.append(f"  {label:<52} {stats['p50']:>6.0f} {stats['p95']:>7.0f} {stats['max']:>7.0f}")
    if widget.get("failed"):
        lines.append(f"sizes/click FAILED: {widget['failed'].strip().splitlines()[-1]}")

    soak = report.get("soak") or []
    if soak:
        lines += [
            "",
            f"{'system':<16} {'open':>6} {'err':>4} {'deflate':>7} {'KiB/sock':>8} {'conn/s':>7} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'cpu ms/conn':>11} {'gen cpu':>7} {'idle cpu':>8} {'gc n':>5} {'gc max':>6} {'gc cpu':>6} "
            f"{'members':>8} {'left':>5} {'tb':>3}",
        ]
        for r in soak:
            if "failed" in r:
                lines.append(f"{r['system']:<16} FAILED: {r['failed'].strip().splitlines()[-1]}")
                continue
            lat = r["connect_latency_ms"]
            errors = r["open_errors"] + r["dropped_while_idle"] + r["close_errors"]
            left = "n/a" if r["members_after"] is None else r["members_after"]
            members = "n/a" if r["members_open"] is None else r["members_open"]
            gc_n = r.get("gc_collections", "n/a")
            gc_max = "n/a" if "gc_max_pause_ms" not in r else f"{r['gc_max_pause_ms']:.1f}"
            gc_cpu = "n/a" if "gc_max_pause_cpu_ms" not in r else f"{r['gc_max_pause_cpu_ms']:.1f}"
            lines.append(
                f"{r['system']:<16} {r['opened']:>6} {errors:>4} {r['deflate_accepted']:>7} "
                f"{r['kib_per_socket'] or 0:>8.1f} {r['connects_per_s']:>7.0f} {_p(lat):>7} {_p(lat, 'p99'):>7} "
                f"{r['open_server_cpu_ms_per_connect']:>11.2f} {r['open_loadgen_cpu_pct']:>6.0f}% "
                f"{r['idle_server_cpu_pct']:>7.2f}% {gc_n!s:>5} {gc_max:>6} {gc_cpu:>6} {members!s:>8} "
                f"{left!s:>5} {r['server_log_tracebacks']:>3}"
            )
        lines.append(
            "err = failed opens + sockets dropped while idle + failed closes; deflate = sockets where the server "
            "accepted permessage-deflate; idle cpu = server CPU while the sockets were held idle (% of one "
            "core); gc n = the server's collections while opening and idle, gc max = its longest pause (ms, wall "
            "clock; 0 = none of 1 ms or more), gc cpu = the most CPU one collection took (beyond it, a pause "
            "waited for a core on a busy machine); members = group members in Redis while open "
            "(Parley on Redis: groups subscribed), left = after all closed; tb = tracebacks in the server log"
        )
        for r in soak:
            if r["kind"] != "parley" or "failed" in r:
                continue
            ok_sockets = r["opened"] >= GOALS["sockets"]
            clean = r["open_errors"] + r["dropped_while_idle"] + r["close_errors"] + r[
                "server_log_tracebacks"
            ] == 0 and r["members_after"] in (0, None)
            checks += [
                (
                    f"{r['system']}: 10,000 sockets at <= 24 KiB each",
                    f"{r['opened']:,} at {r['kib_per_socket']:.1f} KiB",
                    ok_sockets and r["kib_per_socket"] <= GOALS["kib_per_socket"],
                ),
                (
                    f"{r['system']}: idle sockets < 2% of a core per 2,000",
                    f"{r['idle_server_cpu_pct']:.2f}% for {r['opened']:,}",
                    r["idle_server_cpu_pct"] * 2000 / max(1, r["opened"]) < GOALS["idle_cpu_pct_2000"],
                ),
                (
                    f"{r['system']}: no GC pause over 20 ms",
                    f"max {r.get('gc_max_pause_ms', float('nan')):.1f} ms, {r.get('gc_over_20ms', '?')} over 20 ms",
                    r.get("gc_over_20ms") == 0,
                ),
                (
                    f"{r['system']}: >= 1,500 connects/s",
                    f"{r['connects_per_s']:,.0f}/s",
                    r["connects_per_s"] >= GOALS["connects_per_s"],
                ),
                (
                    f"{r['system']}: zero errors, zero leaked memberships",
                    f"errors {r['open_errors'] + r['dropped_while_idle'] + r['close_errors']}, tracebacks "
                    f"{r['server_log_tracebacks']}, left {left_of(r)}",
                    clean,
                ),
            ]
    if checks:
        lines += ["", "goals:"]
        for name, value, ok in checks:
            lines.append(f"  {'met   ' if ok else 'MISSED'} {name:<52} {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    nofile = raise_open_files_limit(args.sockets + 1024)  # servers started from here inherit it
    report = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "open_files_limit": nofile,
        "loadavg_before": os.getloadavg(),
        "args": {k: v for k, v in vars(args).items() if k not in {"output", "database_url", "redis_url"}},
        "widget": None,
        "soak": [],
    }
    report["args"]["output"] = str(args.output) if args.output else None
    if not args.skip_click:
        report["widget"] = measure_widget(args, Progress("widget"))
    if not args.skip_soak:
        try:
            asyncio.run(soak_all(args, report))
        except asyncio.CancelledError:
            print("interrupted; writing what was measured", file=sys.stderr)
    report["loadavg_after"] = os.getloadavg()
    write_report(
        report, args.output, ROOT / "var" / "bench" / f"widget-{datetime.now():%Y%m%d-%H%M%S}.json", summary(report)
    )
    failed = (report["widget"] or {}).get("failed") or any("failed" in r for r in report["soak"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
