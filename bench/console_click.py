"""The console's time to usable with 100 open conversations, for one or more source trees (issue 12).

Measures whether the console's front-end costs an agent anything measurable, comparing trees in one
invocation on the same machine (e.g. the code before and after a change). Run from the repository root:

    .venv/bin/python bench/console_click.py --tree before=/work/before --tree after=.
    .venv/bin/python bench/console_click.py --tree before=/work/before --tree after=. --quick   # 3 rounds
    .venv/bin/python bench/console_click.py                      # this tree alone (current=.)
    .venv/bin/python bench/console_click.py --tree a=/work/before --tree b=. --cache revalidate --repeat 30

Each tree gets its own SQLite database, migrated and seeded by that tree's own code (`manage.py` puts its
directory first on sys.path, so /work/main's venv runs another checkout's code; the seed checks it): an
admin agent with a known password, one widget inbox, --conversations open conversations, each with its own
customer and --entries timeline entries (inbound messages and replies in turn, through the project's
actions). Then `manage.py serve --roles web` on a free loopback port, with tests/support/live.py's
settings (DEBUG=0: WhiteNoise serves the static files from the apps, no hashed names) and no worker (it
would spend the measured minutes delivering the seeded replies' outbox rows).

Headless chromium (/usr/bin/chromium, the browser tests' flags) with one browser context per tree, signed
in once through the login form's POST (without loading the console, so the first round starts from an
empty cache). Then one cold round and --repeat warm rounds; in each round every tree is measured once,
in an order that alternates from round to round so machine noise hits them alike, with a fresh page in
the tree's context each time: its HTTP cache is a returning agent's. Production serves static files with
WhiteNoise's `max-age=60`, so a returning agent meets one of two caches, measured one after the other
(--cache), each with its own servers (a settings module that imports the tree's settings and changes
WHITENOISE_MAX_AGE alone) and its own fresh contexts:

- fresh (max-age one day): every file comes from the cache, as on a reload within the minute;
- revalidate (max-age 0): every file is asked for again and answered 304, as on any later visit (the
  next morning). Each file is one more request; the table counts the warm rounds that sent any.

Both times are taken inside the page, on its own clock (performance.now(), whose zero is the navigation
start), by an init script that checks the conditions on every DOM mutation, focus change and every 10 ms:

- page to usable: navigation start to the list showing its first page of rows (min(--conversations, 50):
  the list's page size, contact_center/lists.py PAGE_SIZE; the other 50 are behind "Load more") AND the
  connection badge saying Live (#connection has class "live");
- click to usable: the click on the 50th row (its click event, capture phase) to all of: the timeline
  showing every one of that conversation's --entries entries (#timeline > li[data-id]), and the reply box
  (#reply-body) visible, not disabled and focused (the console focuses it once the thread has loaded).

The steps of page to usable are shown too: HTML received (the navigation's responseEnd), scripts run (the
end of DOMContentLoaded: classic and module scripts have all run), the badge Live, the rows shown.
Also recorded per round: the JS files the page loaded (Playwright's network events, type "script") and
their bytes (the Resource Timing entries: decoded body size; transfer size, 0 when served from cache).

Stdout: p50/p90/max per tree and measure (warm rounds), the cold round, JS files and bytes, and each
tree's difference from the first tree's (warm medians, with a 95% bootstrap interval; and the difference of
the minimums). Progress on stderr; everything to var/bench/console-click-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._loadgen import Progress, machine, write_report  # noqa: E402
from bench.chat_latency import command_line  # noqa: E402
from bench.widget import CHROMIUM, CHROMIUM_ARGS, VIEWPORT  # noqa: E402
from tests.support.live import LiveStack, free_port, wait_for_port  # noqa: E402

USERNAME = "bench-admin"
PASSWORD = "bench-console-click"  # noqa: S105  (a throwaway database's login)
LIST_PAGE = 50  # contact_center/lists.py PAGE_SIZE: rows the list shows before "Load more"
CLICK_ROW = 50  # the row clicked, 1-based
TIMEOUT_MS = 30_000
SETTLE_S = 0.3  # after closing a page, so its socket's close is not inside the next measurement
BOOTSTRAP = 2000
# Static files' Cache-Control max-age per cache mode. Production's is WhiteNoise's 60 s (no hashed names):
# a reload within a minute finds every file fresh, any later visit (the next morning) revalidates each one.
# Static files' max-age under fixed names, or None: the tree's own settings (production's versioned,
# cached-for-good URLs where the tree has them, contact_center/static_files.py).
CACHE_MODES = {"fresh": 86400, "revalidate": 0, "versioned": None}
CACHE_NOTES = {
    "fresh": "warm rounds find every file fresh in the cache: a reload within max-age",
    "revalidate": "max-age 0: warm rounds revalidate every file, 304s: a visit after max-age",
    "versioned": "the tree's own production settings: versioned URLs cached for good where it has them",
}
SHIM_MODULE = "bench_console_click_settings"
SETTINGS_SHIM = """# bench/console_click.py: the tree's own settings with the static files' max-age of the cache mode.
import os

from contact_center.settings import *  # noqa: F403

_max_age = os.environ["BENCH_STATIC_MAX_AGE"]
if _max_age:
    # Fixed names, re-checked after max-age: what the embedded default serves, and every tree before
    # static URLs carried their version.
    STATIC_URL = "/static/"
    WHITENOISE_IMMUTABLE_FILE_TEST = lambda path, url: False  # noqa: E731
    WHITENOISE_MAX_AGE = int(_max_age)
"""

# Runs with `manage.py shell` in the tree's own code. The project's actions rather than bulk SQL: 2,000
# entries take a few seconds in one transaction, and the rows are exactly what the console reads in use.
SEED = """
import json
import contact_center
from django.db import transaction
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_send_reply
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Agent, Conversation, Inbox, Team, TimelineEntry

with transaction.atomic():
    team = Team.objects.create(name="Support")
    admin = Agent.objects.create(username={username!r}, display_name="Bench admin", role=Agent.Role.ADMIN)
    admin.set_password({password!r})
    admin.save()
    inbox = Inbox.objects.create(name="Website", kind=Inbox.Kind.WIDGET, team=team)
    inbox.members.add(admin)
    for i in range({conversations}):
        for j in range({entries}):
            if j % 2 == 0:
                sender = Sender(kind="visitor", value=f"bench-visitor-{{i:04d}}", display_name=f"Customer {{i:04d}}")
                envelope = InboundEnvelope(
                    inbox_id=inbox.pk, external_id=f"bench:{{i}}:{{j}}", sender=sender,
                    body=f"Question {{j}} about my order #{{1000 + i}}: where is it now?",
                )
                conversation_id = do_receive_inbound(envelope).entry.conversation_id
            else:
                do_send_reply(admin, conversation_id, f"Answer {{j}}: order #{{1000 + i}} left our warehouse today.")
print(json.dumps({{
    "code": contact_center.__file__,
    "open": Conversation.objects.filter(status="open").count(),
    "entries": TimelineEntry.objects.count(),
}}))
"""

# Runs in every page of a tree's context before the page's own scripts (only the console page measures).
HOOK = """
(() => {
  if (location.pathname !== "/console/") return;
  const ROWS = %(rows)d, ENTRIES = %(entries)d;
  const b = (window.__bench = {});
  const count = (selector) => document.querySelectorAll(selector).length;
  function check() {
    const t = performance.now();
    const connection = document.getElementById("connection");
    if (b.live === undefined && connection && connection.classList.contains("live")) b.live = t;
    if (b.rows === undefined && count("#conversations > li") >= ROWS) b.rows = t;
    if (b.usable === undefined && b.live !== undefined && b.rows !== undefined) {
      b.usable = t;
      const nav = performance.getEntriesByType("navigation")[0];
      b.html = nav.responseEnd;
      b.scripts = nav.domContentLoadedEventEnd;  // classic and module scripts have all run by then
    }
    if (b.click !== undefined && b.opened === undefined) {
      const box = document.getElementById("reply-body");
      if (count("#timeline > li[data-id]") >= ENTRIES && box && !box.disabled && box.checkVisibility()
          && document.activeElement === box) b.opened = t;
    }
  }
  const all = { subtree: true, childList: true, attributes: true, characterData: true };
  new MutationObserver(check).observe(document, all);
  // Focus changes no DOM; a condition that turns true without a mutation (a style sheet arriving) is
  // caught by the interval, at most 10 ms late.
  document.addEventListener("focusin", check, true);
  setInterval(check, 10);
  document.addEventListener("click", (event) => {
    if (b.click === undefined && event.target.closest("#conversations button")) b.click = performance.now();
  }, true);
})();
"""

# What the page fetched, from Resource Timing (the page's own record of its requests).
RESOURCES = """
() => performance.getEntriesByType("resource")
  .filter((e) => new URL(e.name).pathname.endsWith(".js"))
  .map((e) => ({ path: new URL(e.name).pathname, transfer: e.transferSize, decoded: e.decodedBodySize,
                 start: e.startTime, end: e.responseEnd }))
"""


# What the page shows, for the error when a condition never comes true.
STATE = """
() => ({
  marks: window.__bench,
  rows: document.querySelectorAll("#conversations > li").length,
  connection: document.getElementById("connection")?.className,
  entries: document.querySelectorAll("#timeline > li[data-id]").length,
  replyBox: { disabled: document.getElementById("reply-body")?.disabled,
              focused: document.activeElement?.id === "reply-body" },
})
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tree",
        action="append",
        metavar="NAME=PATH",
        help="a source tree to measure (repeatable; the first is the baseline; default current=.)",
    )
    parser.add_argument("--repeat", type=int, default=15, help="warm rounds after the cold one (default 15)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 warm rounds")
    parser.add_argument("--conversations", type=int, default=100, help="open conversations (default 100)")
    parser.add_argument("--entries", type=int, default=20, help="timeline entries per conversation (default 20)")
    parser.add_argument(
        "--cache",
        choices=["fresh", "revalidate", "versioned", "all"],
        default="all",
        help="warm rounds with every file fresh in the cache, revalidating each, under the tree's own versioned "
        "URLs, or all three in turn (default all)",
    )
    parser.add_argument("--output", type=Path, help="JSON results (default var/bench/console-click-<time>.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 3
    args.cache = list(CACHE_MODES) if args.cache == "all" else [args.cache]
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.conversations < CLICK_ROW:
        parser.error(f"--conversations must be at least {CLICK_ROW}: the bench clicks row {CLICK_ROW}")
    if not 1 <= args.entries <= 50:
        parser.error("--entries must be 1..50: the thread opens on its latest page of 50")
    trees = {}
    for spec in args.tree or ["current=."]:
        name, sep, path = spec.partition("=")
        root = Path(path).resolve() if sep else None
        if not name or root is None or not (root / "manage.py").is_file():
            parser.error(f"--tree takes NAME=PATH, PATH a checkout with manage.py: {spec!r}")
        if name in trees:
            parser.error(f"--tree {name} given twice")
        trees[name] = root
    args.trees = trees
    return args


class TreeStack(LiveStack):
    """tests/support/live.py's stack (settings, database, logs), running another checkout's manage.py."""

    def __init__(self, root: Path, tmp_path: Path):
        self.root = root
        super().__init__(tmp_path)

    def manage(self, *args: str, input: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, str(self.root / "manage.py"), *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{self.root}/manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start(self, roles: str = "web", port: int | None = None, env: dict | None = None) -> str:
        port = port or free_port()
        proc_env = dict(self.env, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", **(env or {}))
        log = open(self.tmp_path / f"serve-{port}.log", "a")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, str(self.root / "manage.py"), "serve", "--roles", roles, "--port", str(port)],
            cwd=self.root,
            env=proc_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log_file = log  # type: ignore[attr-defined]
        self.processes.append(proc)
        wait_for_port(port, proc=proc)
        return f"http://127.0.0.1:{port}"


def tree_version(root: Path) -> str | None:
    """The commit a tree is at, with "+dirty" for uncommitted changes; None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
        return head.stdout.strip() + ("+dirty" if dirty.strip() else "")
    except OSError:
        return None


class Tree:
    """One checkout: its database, its server, its browser context (its HTTP cache) and its samples."""

    def __init__(self, name: str, root: Path, tmp: Path):
        self.name, self.root, self.tmp = name, root, tmp
        self.stack: TreeStack | None = None
        self.context = None
        self.url = ""
        self.samples: list[dict] = []
        self.seed: dict = {}
        self.tracebacks = 0

    def prepare(self, args, progress: Progress) -> None:
        progress(f"{self.name}: migrating a fresh database ({self.root})")
        self.stack = TreeStack(self.root, self.tmp)
        progress(f"{self.name}: seeding {args.conversations} conversations x {args.entries} entries")
        started = time.monotonic()
        out = self.stack.shell(
            SEED.format(username=USERNAME, password=PASSWORD, conversations=args.conversations, entries=args.entries)
        )
        self.seed = json.loads(out.strip().splitlines()[-1])
        self.seed["seconds"] = round(time.monotonic() - started, 1)
        code = Path(self.seed["code"]).resolve()
        if not code.is_relative_to(self.root):
            raise RuntimeError(f"tree {self.name} ran the code in {code}, not {self.root}: check sys.path")
        if self.seed["open"] != args.conversations:
            seeded = self.seed["open"]
            raise RuntimeError(f"tree {self.name}: {seeded} open conversations seeded, not {args.conversations}")
        progress(f"{self.name}: seeded in {self.seed['seconds']} s")

    def serve(self, cache: str, shim_dir: Path) -> None:
        """Start the server with static files' max-age for ``cache`` (a settings module that imports the
        tree's own settings and changes WHITENOISE_MAX_AGE alone)."""
        python_path = os.pathsep.join(p for p in (str(shim_dir), os.environ.get("PYTHONPATH", "")) if p)
        self.url = self.stack.start(
            "web",
            env={
                "PYTHONPATH": python_path,
                "DJANGO_SETTINGS_MODULE": SHIM_MODULE,
                "BENCH_STATIC_MAX_AGE": "" if CACHE_MODES[cache] is None else str(CACHE_MODES[cache]),
            },
        )

    def sign_in(self, browser, args) -> None:
        """Through the login form's POST, from the context's request API: its cookies are the pages',
        but nothing it fetches enters the browser's HTTP cache, so the cold round starts from nothing."""
        self.context = browser.new_context(base_url=self.url, viewport=VIEWPORT)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(HOOK % {"rows": min(args.conversations, LIST_PAGE), "entries": args.entries})
        self.context.request.get("/console/login/")
        token = next(c["value"] for c in self.context.cookies() if c["name"] == "csrftoken")
        answer = self.context.request.post(
            "/console/login/",
            form={"csrfmiddlewaretoken": token, "username": USERNAME, "password": PASSWORD, "next": "/console/"},
            max_redirects=0,
        )
        if answer.status != 302 or not any(c["name"] == "sessionid" for c in self.context.cookies()):
            raise RuntimeError(f"tree {self.name}: signing in answered {answer.status}, no session")

    def measure(self, cache: str, round_no: int) -> dict:
        page = self.context.new_page()
        scripts: list[dict] = []

        def on_response(response) -> None:
            if response.request.resource_type == "script":
                scripts.append({"url": response.url, "status": response.status})

        page.on("response", on_response)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            page.goto("/console/", wait_until="commit")
            self.wait_for(page, "usable", "the list's first page and the badge Live", errors)
            row = page.locator(f"#conversations > li:nth-child({CLICK_ROW}) > button")
            conversation = row.get_attribute("data-conversation")
            row.click()
            self.wait_for(page, "opened", f"row {CLICK_ROW}'s entries and the reply box", errors)
            b = page.evaluate("window.__bench")
            resources = page.evaluate(RESOURCES)
        finally:
            page.close()
        return {
            "cache": cache,
            "round": round_no,
            "cold": round_no == 0,
            "page_to_usable_ms": b["usable"],
            "html_ms": b["html"],
            "scripts_ms": b["scripts"],
            "live_ms": b["live"],
            "rows_ms": b["rows"],
            "click_to_usable_ms": b["opened"] - b["click"],
            "conversation": conversation,
            "js_responses": scripts,
            "js_resources": resources,
            "js_files": len({r["path"] for r in resources}),
            "js_bytes": sum(r["decoded"] for r in resources),
            "js_transfer_bytes": sum(r["transfer"] for r in resources),
            "js_over_network": sum(1 for r in resources if r["transfer"] > 0),
            "page_errors": errors,
        }

    def wait_for(self, page, mark: str, what: str, errors: list[str]) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            page.wait_for_function(f"() => window.__bench && window.__bench.{mark} !== undefined", polling=50)
        except PlaywrightTimeout:
            state = page.evaluate(STATE)
            raise RuntimeError(
                f"tree {self.name}: {what} not there after {TIMEOUT_MS} ms; the page: {state}; its errors: {errors}"
            ) from None

    def close_context(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None

    def stop_server(self) -> None:
        if self.stack is not None:
            self.stack.stop()  # the processes; the database stays for the next cache mode


def run(args, report: dict) -> None:
    from playwright.sync_api import sync_playwright

    progress = Progress("console-click")
    with tempfile.TemporaryDirectory(prefix="parley-console-click-") as tmp:
        (Path(tmp) / f"{SHIM_MODULE}.py").write_text(SETTINGS_SHIM)
        trees = []
        for name, root in args.trees.items():
            (Path(tmp) / name).mkdir()
            trees.append(Tree(name, root, Path(tmp) / name))
        try:
            for tree in trees:
                tree.prepare(args, progress)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                try:
                    for cache in args.cache:
                        for tree in trees:
                            tree.serve(cache, Path(tmp))
                            tree.sign_in(browser, args)
                        progress(f"cache {cache}: " + ", ".join(f"{t.name} on {t.url}" for t in trees))
                        measure_rounds(trees, cache, args.repeat, progress)
                        for tree in trees:
                            tree.close_context()
                            tree.stop_server()
                finally:
                    for tree in trees:
                        tree.close_context()
                    browser.close()
        except Exception:
            report["failed"] = traceback.format_exc()
            progress("FAILED:\n" + report["failed"])
        finally:
            for tree in trees:
                tree.stop_server()
                if tree.stack is not None:  # every server's log of the tree, all cache modes
                    tree.tracebacks = tree.stack.logs().count("Traceback (most recent call last)")
                report["trees"].append(
                    {
                        "name": tree.name,
                        "path": str(tree.root),
                        "version": tree_version(tree.root),
                        "seed": tree.seed,
                        "server_log_tracebacks": tree.tracebacks,
                        "samples": tree.samples,
                    }
                )


def measure_rounds(trees: list[Tree], cache: str, repeat: int, progress: Progress) -> None:
    for round_no in range(repeat + 1):
        # Alternate the order, so neither tree always runs right after the other.
        for tree in trees if round_no % 2 == 0 else trees[::-1]:
            sample = tree.measure(cache, round_no)
            tree.samples.append(sample)
            progress(
                f"{cache} round {round_no}{' (cold)' if round_no == 0 else ''} {tree.name}: page to usable "
                f"{sample['page_to_usable_ms']:.0f} ms, click to usable {sample['click_to_usable_ms']:.0f} ms, "
                f"{sample['js_files']} JS files, {sample['js_over_network']} over the network"
            )
            time.sleep(SETTLE_S)


# --- Statistics and the summary ---------------------------------------------------------------------

MEASURES = {
    "page_to_usable_ms": "page to usable",
    "html_ms": "  HTML received",
    "scripts_ms": "  scripts run",
    "live_ms": "  badge Live",
    "rows_ms": "  rows shown",
    "click_to_usable_ms": "click to usable",
}
COMPARED = ("page_to_usable_ms", "scripts_ms", "click_to_usable_ms")


def nearest_rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def bootstrap_median_difference(base: list[float], other: list[float], seed: int = 12) -> tuple[float, float]:
    """95% interval of median(other) - median(base), resampling each side with replacement."""
    rng = random.Random(seed)
    diffs = sorted(
        statistics.median(rng.choices(other, k=len(other))) - statistics.median(rng.choices(base, k=len(base)))
        for _ in range(BOOTSTRAP)
    )
    return diffs[int(0.025 * BOOTSTRAP)], diffs[int(0.975 * BOOTSTRAP) - 1]


def warm(tree: dict, cache: str, key: str) -> list[float]:
    return [s[key] for s in tree["samples"] if s["cache"] == cache and not s["cold"]]


def compute_stats(report: dict) -> None:
    trees = [t for t in report["trees"] if t["samples"]]
    for tree in trees:
        tree["stats"] = {}
        for cache in report["args"]["cache"]:
            cold = next((s for s in tree["samples"] if s["cache"] == cache and s["cold"]), None)
            if cold is None:
                continue
            stats = tree["stats"][cache] = {}
            for key in MEASURES:
                values = warm(tree, cache, key)
                stats[key] = {
                    "cold": cold[key],
                    "p50": statistics.median(values) if values else None,
                    "p90": nearest_rank(values, 90) if values else None,
                    "max": max(values) if values else None,
                    "min": min(values) if values else None,
                    "samples": len(values),
                }
            revalidating = [
                s for s in tree["samples"] if s["cache"] == cache and not s["cold"] and s["js_over_network"]
            ]
            stats["warm_rounds_with_js_over_network"] = len(revalidating)
    if len(trees) < 2:
        return
    base = trees[0]
    for tree in trees[1:]:
        tree["difference"] = {}
        for cache in report["args"]["cache"]:
            for key in COMPARED:
                a, b = warm(base, cache, key), warm(tree, cache, key)
                if not a or not b:
                    continue
                low, high = bootstrap_median_difference(a, b)
                tree["difference"].setdefault(cache, {})[key] = {
                    "against": base["name"],
                    "median": statistics.median(b) - statistics.median(a),
                    "ci95": [low, high],
                    "min": min(b) - min(a),
                }


def summary(report: dict) -> str:
    a = report["args"]
    lines = [
        f"console click: {a['conversations']} open conversations x {a['entries']} entries; per cache mode 1 cold + "
        f"{a['repeat']} warm rounds per tree, alternating; machine: {report['machine']['nproc']} x "
        f"{report['machine']['cpu']}; load average {report['loadavg_before'][0]:.2f} before, "
        f"{report['loadavg_after'][0]:.2f} after",
        "",
        f"{'tree':<12} {'version':<16} {'JS files':>8} {'JS bytes':>9}  path",
    ]
    trees = [t for t in report["trees"] if t.get("stats")]
    for t in trees:
        cold = next(s for s in t["samples"] if s["cold"])
        lines.append(
            f"{t['name']:<12} {t['version'] or '-':<16} {cold['js_files']:>8} {cold['js_bytes']:>9,}  {t['path']}"
        )
    for cache in a["cache"]:
        lines += [
            "",
            f"cache {cache} ({CACHE_NOTES[cache]})",
            f"{'ms':<18} {'tree':<12} {'cold':>7} {'p50':>7} {'p90':>7} {'max':>7} {'min':>7} {'n':>3} {'JS net':>6}",
        ]
        for key, label in MEASURES.items():
            for t in trees:
                s = t["stats"].get(cache, {}).get(key)
                if not s or s["p50"] is None:
                    continue
                net = (
                    f"{t['stats'][cache]['warm_rounds_with_js_over_network']:>6}" if key == "page_to_usable_ms" else ""
                )
                lines.append(
                    f"{label:<18} {t['name']:<12} {s['cold']:>7.0f} {s['p50']:>7.0f} {s['p90']:>7.0f} {s['max']:>7.0f} "
                    f"{s['min']:>7.0f} {s['samples']:>3} {net}"
                )
        for t in trees[1:]:
            for key in COMPARED:
                d = (t.get("difference") or {}).get(cache, {}).get(key)
                if d:
                    lines.append(
                        f"{MEASURES[key].strip()}: {t['name']} - {d['against']} = {d['median']:+.0f} ms on the warm "
                        f"medians (95% bootstrap {d['ci95'][0]:+.0f}..{d['ci95'][1]:+.0f}), {d['min']:+.0f} ms on "
                        "the minimums"
                    )
    lines += [
        "",
        "ms from navigation start (HTML received: its responseEnd; scripts run: DOMContentLoaded's end; page to "
        "usable: the list's first page of rows shown and the badge Live) and from the click on row 50 (click to "
        "usable: its entries shown, the reply box enabled and focused). p50/p90/max/min over the warm rounds; JS "
        "net = warm rounds where some JS went over the network. JS files/bytes: the first cold round's (decoded).",
    ]
    errors = sum(len(s["page_errors"]) for t in report["trees"] for s in t["samples"])
    tracebacks = sum(t.get("server_log_tracebacks", 0) for t in report["trees"])
    if errors or tracebacks:
        lines.append(f"WARNING: {errors} uncaught page errors, {tracebacks} tracebacks in the server logs (JSON)")
    if report.get("failed"):
        lines.append(f"FAILED: {report['failed'].strip().splitlines()[-1]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "loadavg_before": os.getloadavg(),
        "args": {
            "repeat": args.repeat,
            "conversations": args.conversations,
            "entries": args.entries,
            "cache": args.cache,
            "trees": {name: str(root) for name, root in args.trees.items()},
        },
        "trees": [],
    }
    try:
        run(args, report)
    except KeyboardInterrupt:
        report["failed"] = "interrupted"
    report["loadavg_after"] = os.getloadavg()
    compute_stats(report)
    write_report(
        report,
        args.output,
        ROOT / "var" / "bench" / f"console-click-{datetime.now():%Y%m%d-%H%M%S}.json",
        summary(report),
    )
    return 1 if report.get("failed") else 0


if __name__ == "__main__":
    sys.exit(main())
