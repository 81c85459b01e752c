"""Server time of the agent console's reads on a large installation, and timeline pages/s over HTTP.

Run from the repository root; it creates (and drops) its own database:

    .venv/bin/python bench/console.py                        # PostgreSQL (100,000 conversations), then SQLite
    .venv/bin/python bench/console.py --backend sqlite       # SQLite only: 10,000 conversations
    .venv/bin/python bench/console.py --quick                # smoke run: a tiny set on SQLite, seconds

For each backend: a fresh database, ``migrate``, then bench/_console_data.py fills it (PostgreSQL:
100,000 conversations, 1,000,000 timeline entries, 30,000 customers, 50 agents in eight inboxes;
SQLite: a tenth of that; on both one customer with 10,000 entries over eight conversations).

Measured in this process, through Django's test client (the whole middleware stack, the session
from the cache and the agent from the database on every request), as an admin and as an ordinary agent who is a
member of three inboxes: the first page of each list view (all, mine, unassigned, mentions) of open
conversations in each sort order the application has, and narrowed to one inbox (team, channel); the
view counts; the customer profile; page 1 and page 100 of the long conversation's entries and of the
heavy customer's unified timeline (page 100 = ``next`` followed 99 times from the newest page). Each
request ``--warmup`` times unmeasured, then ``--repeat`` times: p50/p95/max of the wall time of
``Client.get`` and the p50 of this process's CPU for it; then once more under
``CaptureQueriesContext`` for its queries (the agent lookup, and the session's should it miss the
cache, counted apart from the view's own). Walking the timeline to page 100 also checks every page:
50 entries, newest first across pages and oldest first within one, no entry twice, none from an
inbox the agent may not see, and the view's queries at every depth. The slowest query of each request
is EXPLAINed (ANALYZE on PostgreSQL) into the JSON, and printed for those that miss a goal. Also: what
opening a database connection costs (connect, set-up, one query).

Over HTTP: ``manage.py serve --roles web`` (daphne) on a loopback port against the same database,
a login through the console's login form, then ``--http-clients`` keep-alive connections requesting
the heavy customer's timeline pages 1..100 in turn for ``--http-duration`` s, per persona (and for the
agent on ``--http-servers`` processes too): pages/s, latency percentiles, the server's CPU per page,
and what it does to the database (PostgreSQL sessions opened, connections left open). Where wrk is
installed (Debian's ``wrk``), the agent's load on ``--http-servers`` processes runs once more from wrk,
whose C client takes less of the two cores than the asyncio one; the pages/s goal is judged on that run
(without wrk, on the Python client's run on every serve process).

Progress goes to stderr, the tables and goals to stdout, everything to var/bench/console-<time>.json.
bench/README.md has the details.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import _loadgen  # noqa: E402
from bench._loadgen import Progress, machine  # noqa: E402

GOALS = {"timeline_p95_ms": 15.0, "list_p95_ms": 100.0, "timeline_max_queries": 3, "http_pages_per_s": 300}
DEFAULTS = {
    "postgres": {"conversations": 100_000, "entries": 1_000_000},
    "sqlite": {"conversations": 10_000, "entries": 100_000},
}
QUICK = {"conversations": 200, "entries": 7_000, "customer_entries": 6_500, "customers": 100}
SORTS = ("activity", "oldest", "priority")
VIEWS = ("all", "mine", "unassigned", "mentions")
PAGE = 50
DEPTH = 100
# Databases the test suite and CI use: never created, dropped or filled here.
RESERVED_DATABASES = {"test", "test_test"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="both", choices=["postgres", "sqlite", "both"])
    parser.add_argument("--conversations", type=int, help="default 100,000 on PostgreSQL, 10,000 on SQLite")
    parser.add_argument("--entries", type=int, help="timeline entries in all; default 1,000,000 / 100,000")
    parser.add_argument("--customers", type=int, help="default 30%% of --conversations")
    parser.add_argument("--customer-entries", type=int, default=10_000, help="the heavy customer's entries")
    parser.add_argument("--repeat", type=int, default=300, help="measured requests per case (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per case first (default 20)")
    parser.add_argument("--http-duration", type=float, default=20, help="seconds of HTTP load per persona")
    parser.add_argument("--http-clients", type=int, default=8, help="concurrent keep-alive connections (default 8)")
    parser.add_argument(
        "--http-servers", type=int, default=2, help="also run the agent's load on this many serve processes (default 2)"
    )
    parser.add_argument(
        "--gunicorn",
        default="gthread:2x4,sync:5",
        help="the agent's HTTP load once more on gunicorn serving contact_center.wsgi, one run per "
        "<worker class>:<workers>[x<threads>], comma-separated; '' for none (default gthread:2x4,sync:5)",
    )
    parser.add_argument("--skip-http", action="store_true", help="in-process measurements only")
    parser.add_argument("--quick", action="store_true", help="smoke run: a tiny set on SQLite, few repetitions")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_CONSOLE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server to create the run's own database parley_bench_<pid> on",
    )
    parser.add_argument("--keep-db", action="store_true", help="leave the generated database and print its URL")
    parser.add_argument("--reuse", metavar="URL", help="measure a database an earlier --keep-db run generated")
    parser.add_argument("--output", type=Path, help="JSON results file (default var/bench/console-<time>.json)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        if args.backend == "both":
            args.backend = "sqlite"
        for name, value in QUICK.items():
            if getattr(args, name) in (None, parser.get_default(name)):
                setattr(args, name, value)
        args.repeat, args.warmup = min(args.repeat, 3), min(args.warmup, 1)
        args.http_duration, args.http_clients = min(args.http_duration, 1.0), min(args.http_clients, 2)
        args.http_servers = 1
        if args.gunicorn == parser.get_default("gunicorn"):
            args.gunicorn = "gthread:2x4"
    args.gunicorn = [spec.strip() for spec in args.gunicorn.split(",") if spec.strip()]
    if args.reuse:
        args.backend = "postgres" if args.reuse.startswith(("postgres://", "postgresql://")) else "sqlite"
    if urlsplit(args.database_url).path.lstrip("/") in RESERVED_DATABASES:
        parser.error("--database-url must not name the test suite's databases (test, test_test): use postgres")
    return args


def percentiles(samples_ns: list[int]) -> dict | None:
    """Nearest-rank p50/p90/p95/p99 (the goals are p95s), max and mean, in milliseconds."""
    return _loadgen.percentiles(samples_ns, points=(50, 90, 95, 99))


# --- The database ------------------------------------------------------------------------------------


class Database:
    """The run's own database: ``parley_bench_<pid>`` on the PostgreSQL server, or a SQLite file."""

    def __init__(self, backend: str, args: argparse.Namespace, log: Progress):
        self.backend, self.log, self.keep = backend, log, args.keep_db or bool(args.reuse)
        self.reused = bool(args.reuse)
        self.created = False
        if args.reuse:
            self.url = args.reuse
            return
        if backend == "postgres":
            self.admin_url = args.database_url
            self.name = f"parley_bench_{os.getpid()}"
            self.url = urlunsplit(urlsplit(args.database_url)._replace(path="/" + self.name))
        else:
            path = ROOT / "var" / "bench" / f"console-{os.getpid()}.sqlite3"
            path.parent.mkdir(parents=True, exist_ok=True)
            self.path = path
            self.url = f"sqlite:///{path}"

    def create(self) -> None:
        if self.reused:
            return
        if self.backend == "postgres":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.created = True
        self.log(f"created {self.url}")

    def drop(self) -> None:
        if not self.created or self.keep:
            if self.created:
                self.log(f"kept {self.url} (measure it again with --reuse {self.url})")
            return
        if self.backend == "postgres":
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        self.log(f"dropped {self.url}")


def configure_django(database_url: str, var_dir: str, secret_key: str) -> dict[str, str]:
    """Point the project's settings at ``database_url`` (through the variables they read) and set Django up.
    Returns the environment a ``manage.py serve`` against the same database needs."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        {
            "DATABASE_URL": database_url,
            # Production settings: DEBUG off (no query log, no debug pages), a real key, connections
            # kept between requests as DATABASE_CONN_MAX_AGE's default does.
            "DEBUG": "0",
            "SECRET_KEY": secret_key,
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "PARLEY_VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    # WhiteNoise warns on every start when STATIC_ROOT is missing; collectstatic would have made it.
    (Path(var_dir) / "static").mkdir(parents=True, exist_ok=True)
    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "contact_center.settings"
    import django

    django.setup()
    return env


# --- In-process measurements ---------------------------------------------------------------------------


def _is_auth_query(sql: str) -> bool:
    """The queries every authenticated request makes before the view runs: its agent (and its session,
    when the cache does not have it)."""
    if '"django_session"' in sql:
        return True
    head = sql.split(" WHERE ", 1)
    return len(head) == 2 and head[0].endswith('FROM "cc_agent"') and head[1].startswith('"cc_agent"."id" = ')


class Measurer:
    """The in-process measurements of one generated database (Django is set up by then)."""

    def __init__(self, args, dataset, log: Progress):
        from django.db import connection
        from django.test import Client

        self.args, self.dataset, self.log = args, dataset, log
        self.Client = Client
        self.connection = connection

    def client_for(self, agent_id: int):
        from contact_center.models import Agent

        client = self.Client()
        client.force_login(Agent.objects.get(pk=agent_id))
        return client

    def queries(self, client, url: str) -> tuple[dict, object]:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(self.connection) as captured:
            response = client.get(url)
        sql = [(q["sql"], float(q["time"])) for q in captured.captured_queries]
        view = [(s, t) for s, t in sql if not _is_auth_query(s)]
        info = {
            "queries": len(sql),
            "view_queries": len(view),
            "sql": [s for s, _ in sql],
            "view_sql": [s for s, _ in view],
        }
        return info, response

    def time_case(self, client, name: str, url: str, kind: str) -> dict:
        for _ in range(self.args.warmup):
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: HTTP {response.status_code} for {url}: {response.content[:300]!r}")
        samples, cpu = [], []
        for _ in range(self.args.repeat):
            t, c = time.perf_counter_ns(), time.thread_time_ns()
            client.get(url)
            samples.append(time.perf_counter_ns() - t)
            cpu.append(time.thread_time_ns() - c)
        info, response = self.queries(client, url)
        result = {
            "case": name,
            "kind": kind,
            "url": url,
            "ms": percentiles(samples),
            # This process's CPU for the request (the database server's is not in it): what the wall
            # time would be on an idle machine, less the time spent waiting for the database.
            "cpu_ms": percentiles(cpu),
            "bytes": len(response.content),
        }
        result.update(info)
        return result

    def explain(self, statements: list[str]) -> dict:
        """The plan of the slowest of a request's own queries, each run again here: EXPLAIN ANALYZE on
        PostgreSQL (slowest by its execution time), EXPLAIN QUERY PLAN on SQLite (slowest by wall time)."""
        slowest = {"query": None, "plan": None, "ms": -1.0}
        for sql in statements:
            try:
                with self.connection.cursor() as cursor:
                    if self.connection.vendor == "postgresql":
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                        lines = [row[0] for row in cursor.fetchall()]
                        ms = float(lines[-1].split(":")[1].split()[0])
                    else:
                        t = time.perf_counter()
                        cursor.execute(sql)
                        cursor.fetchall()
                        ms = (time.perf_counter() - t) * 1000
                        cursor.execute("EXPLAIN QUERY PLAN " + sql)
                        lines = [" | ".join(str(v) for v in row) for row in cursor.fetchall()]
            except Exception as exc:  # a plan is a diagnostic: never lose the run over one
                lines, ms = [f"(EXPLAIN failed: {exc})"], 0.0
            if ms > slowest["ms"]:
                slowest = {"query": sql, "plan": "\n".join(lines), "ms": ms}
        return slowest

    def narrowed_lists(self) -> list[tuple[str, dict]]:
        """The list filters the application understands, each with a value of the agent's: one inbox
        always; one team and one channel where ``?team=`` and ``?channel=`` exist."""
        from contact_center import lists
        from contact_center.models import Inbox

        inbox = Inbox.objects.get(pk=self.dataset.agent_inbox_ids[0])
        out = [("one inbox", {"inbox": inbox.pk})]
        fields = getattr(lists.ListQuery, "__dataclass_fields__", {})
        if "team_id" in fields and inbox.team_id:
            out.append(("one team", {"team": inbox.team_id}))
        if "channel" in fields:
            out.append(("one channel (email)", {"channel": "email"}))
        return out

    def connect_cost(self, times: int = 50) -> dict:
        """What a request pays when it opens its own database connection (as every HTTP request does
        under the ASGI handler, see docs/benchmarks.md): connect, the backend's set-up, one query."""
        samples = []
        for _ in range(times):
            self.connection.close()
            t = time.perf_counter_ns()
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            samples.append(time.perf_counter_ns() - t)
        return percentiles(samples)

    # Walks ----------------------------------------------------------------------------------------

    def walk_timeline(self, client, persona: str, agent_inboxes: set[int] | None) -> dict:
        """Follows ``next`` from the newest page to page DEPTH (or the last), checking every page."""
        from contact_center.models import Conversation

        base = f"/console/api/customers/{self.dataset.heavy_customer_id}/timeline/"
        urls, max_view_queries, problems, seen, keys, conversations = [base], 0, [], set(), [], set()
        cursor = None
        for depth in range(1, DEPTH + 1):
            url = base + (f"?{urlencode({'before': cursor})}" if cursor else "")
            info, response = self.queries(client, url)
            if response.status_code != 200:
                raise RuntimeError(f"timeline page {depth}: HTTP {response.status_code}: {response.content[:300]!r}")
            body = response.json()
            max_view_queries = max(max_view_queries, info["view_queries"])
            entries = body["entries"]
            if depth > 1:
                urls.append(url)
            page_keys = [(datetime.fromisoformat(e["created_at"]), e["id"]) for e in entries]
            if page_keys != sorted(page_keys):
                problems.append(f"page {depth}: entries not oldest first")
            if keys and page_keys and page_keys[-1] >= keys[-1][0]:
                problems.append(f"page {depth}: not older than page {depth - 1}")
            keys.append(page_keys)
            for e in entries:
                conversations.add(e["conversation"])
                if e["id"] in seen:
                    problems.append(f"page {depth}: entry {e['id']} shown twice")
                seen.add(e["id"])
            cursor = body.get("next")
            if len(entries) != PAGE and cursor:
                problems.append(f"page {depth}: {len(entries)} entries and a next cursor")
            if not cursor:
                break
        if agent_inboxes is not None:
            outside = Conversation.objects.filter(pk__in=conversations).exclude(inbox_id__in=agent_inboxes).count()
            if outside:
                problems.append(f"{outside} conversations from inboxes {persona} may not see")
        return {
            "pages": len(urls),
            "entries_seen": len(seen),
            "max_view_queries": max_view_queries,
            "problems": problems,
            "urls": urls,
        }

    def walk_entries(self, client) -> dict:
        """Page 1 and page DEPTH (or the last) of the long conversation's entries, ``before`` = the oldest
        seq of the page before, as the console asks for them."""
        base = f"/console/api/conversations/{self.dataset.long_conversation_id}/entries/"
        urls, max_view_queries, before = [base], 0, None
        for depth in range(1, DEPTH + 1):
            url = base + (f"?before={before}" if before else "")
            info, response = self.queries(client, url)
            entries = response.json()["entries"]
            max_view_queries = max(max_view_queries, info["view_queries"])
            if depth > 1:
                urls.append(url)
            if len(entries) < PAGE or entries[0]["seq"] == 1:
                break
            before = entries[0]["seq"]
        return {"pages": len(urls), "max_view_queries": max_view_queries, "urls": urls}

    def run(self) -> dict:
        from django.urls import Resolver404, resolve

        d = self.dataset
        try:
            resolve(f"/console/api/customers/{d.heavy_customer_id}/timeline/")
            has_timeline = True
        except Resolver404:
            has_timeline = False
            self.log("the customer timeline endpoint does not exist: only the conversation entries are measured")
        from contact_center import lists

        # Every sort order the application offers (activity, oldest and priority at least).
        sorts = [*SORTS, *(sort for sort in lists.SORTS if sort not in SORTS)]
        personas = [("admin", d.admin_id, None), ("agent", d.agent_id, set(d.agent_inbox_ids))]
        out = {"has_timeline": has_timeline, "connect_ms": self.connect_cost(), "personas": {}}
        self.log(f"opening a database connection and a first query: p50 {out['connect_ms']['p50']:.2f} ms")
        for persona, agent_id, inboxes in personas:
            client = self.client_for(agent_id)
            cases = []
            for view in VIEWS:
                for sort in sorts:
                    url = "/console/api/conversations/?" + urlencode({"view": view, "status": "open", "sort": sort})
                    cases.append((f"list {view} / {sort}", url, "list"))
            for name, narrowed in self.narrowed_lists():
                url = "/console/api/conversations/?" + urlencode({"view": "all", "status": "open", **narrowed})
                cases.append((f"list all / activity, {name}", url, "list"))
            cases.append(("counts", "/console/api/conversations/counts/", "list"))
            cases.append(("customer profile", f"/console/api/customers/{d.heavy_customer_id}/", "other"))
            entries_walk = self.walk_entries(client)
            cases.append(("conversation entries page 1", entries_walk["urls"][0], "entries"))
            cases.append((f"conversation entries page {entries_walk['pages']}", entries_walk["urls"][-1], "entries"))
            walk = None
            if has_timeline:
                walk = self.walk_timeline(client, persona, inboxes)
                self.log(
                    f"{persona}: walked {walk['pages']} timeline pages, {walk['entries_seen']} entries, "
                    f"at most {walk['max_view_queries']} view queries a page, {len(walk['problems'])} problems"
                )
                cases.append(("customer timeline page 1", walk["urls"][0], "timeline"))
                cases.append((f"customer timeline page {walk['pages']}", walk["urls"][-1], "timeline"))
            results = []
            for name, url, kind in cases:
                result = self.time_case(client, name, url, kind)
                explained = self.explain(result["view_sql"])
                result["explained_query"], result["plan"] = explained["query"], explained["plan"]
                result["explained_ms"] = explained["ms"]
                results.append(result)
                ms = result["ms"]
                self.log(
                    f"{persona}: {name}: p50 {ms['p50']:.2f} p95 {ms['p95']:.2f} max {ms['max']:.2f} ms, "
                    f"{result['view_queries']}+{result['queries'] - result['view_queries']} queries"
                )
            out["personas"][persona] = {
                "cases": results,
                "timeline_walk": {k: v for k, v in (walk or {}).items() if k != "urls"} or None,
                "timeline_urls": walk["urls"] if walk else None,
                "entries_walk": {k: v for k, v in entries_walk.items() if k != "urls"},
                "entries_urls": entries_walk["urls"],
            }
        return out


# --- HTTP ----------------------------------------------------------------------------------------------


def _database_counters(vendor: str, url: str, server_pids: list[int]):
    """What the server does to the database in a window: on PostgreSQL the sessions opened (from
    pg_stat_database) and the client backends left at its end; on SQLite the connections (open
    descriptors of the database file) the server processes hold at its end. Called right before the
    window; returns the function to call right after it."""
    if vendor == "postgresql":
        import psycopg

        name = urlsplit(url).path.lstrip("/")
        conn = psycopg.connect(url, autocommit=True)

        def read() -> tuple[int, int]:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            sessions = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", [name]).fetchone()[0]
            backends = conn.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()",
                [name],
            ).fetchone()[0]
            return sessions, backends

        before, _ = read()

        def after() -> dict:
            try:
                # A backend reports its session when its first transaction ends; give the last ones time.
                time.sleep(0.5)
                sessions, backends = read()
                return {"db_sessions_opened": sessions - before, "db_connections_at_end": backends}
            finally:
                conn.close()

        return after

    from django.db import connection

    from bench._console_http import open_files_named

    path = str(connection.settings_dict["NAME"])

    def after() -> dict:
        return {"db_connections_at_end": sum(open_files_named(pid, path) for pid in server_pids)}

    return after


def measure_http(env: dict, measured: dict, args, log: Progress, tmp: Path) -> dict:
    from django.db import connection

    from bench._console_data import ADMIN_USERNAME, AGENT_USERNAME, BENCH_PASSWORD
    from bench._console_http import Server, drive, drive_wrk, login, wrk_available

    what = "customer timeline" if measured["has_timeline"] else "conversation entries"
    urls_key = "timeline_urls" if measured["has_timeline"] else "entries_urls"
    runs = [("agent", 1), ("admin", 1)] + ([("agent", args.http_servers)] if args.http_servers > 1 else [])
    servers = [Server(env, tmp / f"serve-{i}.log") for i in range(max(n for _, n in runs))]
    out = {"what": what, "runs": []}
    try:
        for server in servers:
            server.start()
        log(f"serving on 127.0.0.1 ports {', '.join(str(s.port) for s in servers)}")
        cookies = {
            persona: asyncio.run(login(servers[0].port, username, BENCH_PASSWORD))
            for persona, username in (("agent", AGENT_USERNAME), ("admin", ADMIN_USERNAME))
        }
        url = env["DATABASE_URL"]
        for persona, n in runs:
            paths = measured["personas"][persona][urls_key]
            chosen = [(s.port, s.proc.pid) for s in servers[:n]]
            log(f"{persona}: {args.http_clients} clients, {n} server(s), {len(paths)} pages, {args.http_duration:g}s")
            result = asyncio.run(
                drive(
                    chosen,
                    cookies[persona],
                    paths,
                    clients=args.http_clients,
                    duration=args.http_duration,
                    around_window=lambda chosen=chosen: _database_counters(
                        connection.vendor, url, [pid for _, pid in chosen]
                    ),
                )
            )
            result["persona"], result["server"] = persona, "daphne"
            result["latency_ms"] = percentiles(result.pop("latencies_ns"))
            result["pages"] = len(paths)
            lat = result["latency_ms"]
            log(
                f"{persona} on {n}: {result['pages_per_s']:.0f} pages/s, p50 {lat['p50']:.2f} p99 {lat['p99']:.2f} ms, "
                f"statuses {result['statuses']}, server CPU {result['server_cpu_ms_per_page']:.2f} ms/page, "
                f"database sessions opened {result.get('db_sessions_opened', '-')}, "
                f"connections at the end {result.get('db_connections_at_end')}"
            )
            out["runs"].append(result)
        if wrk_available():
            n = args.http_servers
            chosen = [(s.port, s.proc.pid) for s in servers[:n]]
            log(f"agent: wrk, {args.http_clients} connections, {n} server(s), {args.http_duration:g}s")
            result = drive_wrk(
                chosen,
                cookies["agent"],
                measured["personas"]["agent"][urls_key],
                clients=args.http_clients,
                duration=args.http_duration,
                tmp=tmp,
            )
            result["persona"], result["pages"] = "agent", len(measured["personas"]["agent"][urls_key])
            result["server"] = "daphne"
            lat = result["latency_ms"]
            log(
                f"agent on {n} (wrk): {result['pages_per_s']:.0f} pages/s, p50 {lat['p50']:.2f} p99 {lat['p99']:.2f} "
                f"ms, statuses {result['statuses']}, server CPU {result['server_cpu_ms_per_page']:.2f} ms/page"
            )
            out["runs"].append(result)
        else:
            log("wrk is not installed (apt-get install wrk): the asyncio client's runs only")
        for server in servers:
            server.stop()  # the two cores to gunicorn alone, as they were to daphne alone
        for spec in args.gunicorn:
            out["runs"] += _gunicorn_runs(spec, env, cookies["agent"], measured, urls_key, args, log, tmp)
    finally:
        for server in servers:
            server.stop()
        out["server_log_tracebacks"] = sum(server.tracebacks() for server in servers if server.log_path.exists())
        out["gunicorn_log_tracebacks"] = sum(
            Path(log_path).read_text().count("Traceback (most recent call last)")
            for log_path in tmp.glob("gunicorn-*.log")
        )
    return out


def _gunicorn_runs(spec: str, env: dict, cookie: str, measured: dict, urls_key: str, args, log, tmp: Path) -> list:
    """The agent's load, as on daphne (the asyncio client, then wrk where installed), on one gunicorn
    serving contact_center.wsgi on loopback with ``spec``'s workers. No proxy in front of either: the
    benchmark talks to daphne directly too. The CPU counted is the master's and its workers'."""
    from django.db import connection

    from bench._console_http import Server, drive, drive_wrk, process_tree, wrk_available

    server = Server(env, tmp / f"gunicorn-{spec.replace(':', '-')}.log", gunicorn=spec)
    paths = measured["personas"]["agent"][urls_key]
    url = env["DATABASE_URL"]
    runs = []
    try:
        server.start()
        log(f"{server.label} on 127.0.0.1:{server.port}")
        chosen = [(server.port, server.proc.pid)]
        result = asyncio.run(
            drive(
                chosen,
                cookie,
                paths,
                clients=args.http_clients,
                duration=args.http_duration,
                around_window=lambda: _database_counters(connection.vendor, url, process_tree(server.proc.pid)),
            )
        )
        result["latency_ms"] = percentiles(result.pop("latencies_ns"))
        runs.append(result)
        if wrk_available():
            runs.append(
                drive_wrk(chosen, cookie, paths, clients=args.http_clients, duration=args.http_duration, tmp=tmp)
            )
        for result in runs:
            result["persona"], result["server"], result["pages"] = "agent", server.label, len(paths)
            lat = result["latency_ms"]
            log(
                f"agent on {server.label}{' (wrk)' if result.get('loadgen') == 'wrk' else ''}: "
                f"{result['pages_per_s']:.0f} pages/s, p50 {lat['p50']:.2f} p99 {lat['p99']:.2f} ms, statuses "
                f"{result['statuses']}, server CPU {result['server_cpu_ms_per_page']:.2f} ms/page"
            )
    finally:
        server.stop()
    return runs


# --- One backend -----------------------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> dict:
    log = Progress(backend)
    defaults = DEFAULTS[backend]
    conversations = args.conversations or defaults["conversations"]
    entries = args.entries or defaults["entries"]
    result: dict = {"backend": backend, "loadavg_before": os.getloadavg()}
    db = Database(backend, args, log)
    tmp = Path(tempfile.mkdtemp(prefix="parley-bench-console-"))
    secret_key = "bench-" + secrets.token_urlsafe(40)
    try:
        db.create()
        env = configure_django(db.url, str(tmp / "var"), secret_key)
        from django.core.management import call_command
        from django.db import connection

        from bench import _console_data as data

        if db.reused:
            dataset = data.find_dataset()
            log(f"reusing {db.url}: {dataset.conversations:,} conversations, {dataset.entries:,} entries")
        else:
            t = time.monotonic()
            call_command("migrate", verbosity=0, interactive=False)
            log(f"migrated in {time.monotonic() - t:.1f}s")
            spec = data.Spec(
                conversations=conversations,
                entries=entries,
                customers=min(conversations, args.customers or max(10, conversations * 3 // 10)),
                customer_entries=args.customer_entries,
            )
            result["spec"] = dataclasses.asdict(spec)
            dataset = data.generate(spec, log)
            t = time.monotonic()
            result["verify"] = data.verify()
            bad = {k: v for k, v in result["verify"].items() if v}
            log(f"verified in {time.monotonic() - t:.1f}s: " + (f"PROBLEMS {bad}" if bad else "all invariants hold"))
        result["dataset"] = dataset.as_dict()
        result["database_version"] = _database_version(connection)
        result["database_size_mb"] = _database_size_mb(connection, db)
        measured = Measurer(args, dataset, log).run()
        result["inprocess"] = measured
        if not args.skip_http:
            result["http"] = measure_http(env, measured, args, log, tmp)
        connection.close()
    except Exception:
        result["failed"] = traceback.format_exc()
        log("FAILED:\n" + result["failed"])
        log_file = tmp / "serve.log"
        if log_file.exists():
            log("server log tail:\n" + "\n".join(log_file.read_text().splitlines()[-40:]))
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may not have been set up at all
            pass
        db.drop()
        result["loadavg_after"] = os.getloadavg()
    return result


def _database_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return "PostgreSQL " + cursor.fetchone()[0]
        cursor.execute("SELECT sqlite_version()")
        return "SQLite " + cursor.fetchone()[0]


def _database_size_mb(connection, db: Database) -> float:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return round(cursor.fetchone()[0] / 2**20, 1)
    path = Path(connection.settings_dict["NAME"])
    return round(sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()) / 2**20, 1)


# --- Reporting ---------------------------------------------------------------------------------------------


def goal_of(case: dict) -> tuple[str, float] | None:
    if case["kind"] in ("timeline", "entries"):
        return "p95 < 15 ms", GOALS["timeline_p95_ms"]
    if case["kind"] == "list":
        return "p95 < 100 ms", GOALS["list_p95_ms"]
    return None


def goals(backend_result: dict) -> list[tuple[str, str, bool | None]]:
    """(goal, measured, met) for one backend; met None when it could not be measured."""
    out = []
    measured = backend_result.get("inprocess") or {}
    for persona, data in (measured.get("personas") or {}).items():
        timeline = [c for c in data["cases"] if c["kind"] == "timeline"]
        lists = [c for c in data["cases"] if c["kind"] == "list"]
        entries = [c for c in data["cases"] if c["kind"] == "entries"]
        if timeline:
            worst = max(timeline, key=lambda c: c["ms"]["p95"])
            out.append(
                (
                    f"{persona}: customer timeline p95 < 15 ms (page 1 and page {data['timeline_walk']['pages']})",
                    f"{worst['ms']['p95']:.2f} ms ({worst['case']})",
                    worst["ms"]["p95"] < GOALS["timeline_p95_ms"],
                )
            )
            walk = data["timeline_walk"]
            out.append(
                (
                    f"{persona}: customer timeline <= 3 queries at any depth (pages 1-{walk['pages']})",
                    f"at most {walk['max_view_queries']} (+1 agent)",
                    walk["max_view_queries"] <= GOALS["timeline_max_queries"],
                )
            )
            out.append(
                (
                    f"{persona}: timeline pages correct (order, no repeats, visibility)",
                    "; ".join(walk["problems"][:3]) or f"{walk['entries_seen']:,} entries checked",
                    not walk["problems"],
                )
            )
        else:
            out.append((f"{persona}: customer timeline p95 < 15 ms", "endpoint missing: not measured", None))
        if entries:
            worst = max(entries, key=lambda c: c["ms"]["p95"])
            out.append(
                (
                    f"{persona}: conversation entries p95 < 15 ms (pages 1 and {data['entries_walk']['pages']})",
                    f"{worst['ms']['p95']:.2f} ms ({worst['case']})",
                    worst["ms"]["p95"] < GOALS["timeline_p95_ms"],
                )
            )
        if lists:
            worst = max(lists, key=lambda c: c["ms"]["p95"])
            out.append(
                (
                    f"{persona}: list views and counts p95 < 100 ms",
                    f"{worst['ms']['p95']:.2f} ms ({worst['case']})",
                    worst["ms"]["p95"] < GOALS["list_p95_ms"],
                )
            )
    http = backend_result.get("http") or {}
    # The goal is judged on what production runs today (daphne); gunicorn's runs are a comparison.
    runs = [run for run in http.get("runs") or [] if run.get("server", "daphne") == "daphne"]
    # The goal is the machine's: judged on all serve processes, and from wrk where there is one, the
    # lighter client on the same two cores (the Python client's runs stay in the table above).
    most = max((run["servers"] for run in runs), default=0)
    judged = [run for run in runs if run.get("loadgen") == "wrk"] or [run for run in runs if run["servers"] == most]
    for run in judged:
        out.append(
            (
                f"{run['persona']}: >= 300 {http['what']} pages/s over HTTP ({run['servers']} serve process"
                + ("es" if run["servers"] > 1 else "")
                + (", wrk)" if run.get("loadgen") == "wrk" else ")"),
                f"{run['pages_per_s']:.0f}/s",
                run["pages_per_s"] >= GOALS["http_pages_per_s"],
            )
        )
    return out


def summary(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"console: machine {m['nproc']} x {m['cpu']}, {m['ram_gib']} GiB; load average before "
        f"{report['loadavg_before'][0]:.2f}, after {report['loadavg_after'][0]:.2f}"
    ]
    for r in report["results"]:
        lines.append("")
        if "dataset" in r:
            d = r["dataset"]
            lines.append(
                f"== {r['backend']} ({r.get('database_version', '?')}, {r.get('database_size_mb', 0):,.0f} MB): "
                f"{d['conversations']:,} conversations ({d['open_conversations']:,} open), {d['entries']:,} entries, "
                f"{d['customers']:,} customers, {d['agents']} agents, {d['mentions']:,} mentions; heavy customer "
                f"{d['heavy_entries']:,} entries ({d['heavy_entries_visible_to_agent']:,} visible to the agent); "
                f"generated in {d['seconds']:.0f}s"
            )
        if "failed" in r:
            lines.append(f"== {r['backend']} FAILED: {r['failed'].strip().splitlines()[-1]}")
        measured = r.get("inprocess") or {}
        if measured.get("connect_ms"):
            connect = measured["connect_ms"]
            lines.append(
                f"-- a new database connection and a first query: p50 {connect['p50']:.2f} ms, "
                f"p95 {connect['p95']:.2f} ms (in this process)"
            )
        for persona, data in (measured.get("personas") or {}).items():
            lines.append(f"-- {persona}: server time in ms (test client, {report['args']['repeat']} requests each)")
            lines.append(f"   {'case':<36} {'p50':>7} {'p95':>7} {'max':>8} {'cpu p50':>8} {'queries':>8}  goal")
            for c in data["cases"]:
                goal = goal_of(c)
                auth = c["queries"] - c["view_queries"]
                verdict = "" if goal is None else ("met   " if c["ms"]["p95"] < goal[1] else "MISSED") + f" {goal[0]}"
                lines.append(
                    f"   {c['case']:<36} {c['ms']['p50']:>7.2f} {c['ms']['p95']:>7.2f} {c['ms']['max']:>8.2f} "
                    f"{c['cpu_ms']['p50']:>8.2f} {c['view_queries']:>4}+{auth:<3}  {verdict}"
                )
        http = r.get("http") or {}
        if http.get("runs"):
            lines.append(
                f"-- HTTP: {http['what']} pages, keep-alive clients, closed loop, straight to the server on loopback"
            )
            lines.append(
                f"   {'persona':<13} {'server':<22} {'procs':>5} {'clients':>7} {'pages/s':>8} {'p50':>7} {'p90':>7} "
                f"{'p99':>7} {'max':>8} {'non-200':>7} {'srv ms/page':>11} {'db sessions/page':>16} {'db conns':>8} "
                f"{'machine':>7} {'load':>5}"
            )
            for h in http["runs"]:
                lat = h["latency_ms"]
                non200 = sum(v for k, v in h["statuses"].items() if k != "200")
                opened = h.get("db_sessions_opened")
                per_page = "-" if opened is None else f"{opened / max(1, h['requests']):.2f}"
                persona = h["persona"] + (" (wrk)" if h.get("loadgen") == "wrk" else "")
                lines.append(
                    f"   {persona:<13} {h.get('server', 'daphne'):<22} {h['servers']:>5} {h['clients']:>7} "
                    f"{h['pages_per_s']:>8.0f} "
                    f"{lat['p50']:>7.2f} {lat['p90']:>7.2f} {lat['p99']:>7.2f} {lat['max']:>8.2f} {non200:>7} "
                    f"{h['server_cpu_ms_per_page']:>11.2f} {per_page:>16} {h.get('db_connections_at_end', '-'):>8} "
                    f"{h['machine_busy_pct']:>6.0f}% {h['loadavg'][0] if 'loadavg' in h else float('nan'):>5.2f}"
                )
            lines.append(
                f"   server log tracebacks: daphne {http.get('server_log_tracebacks')}, gunicorn "
                f"{http.get('gunicorn_log_tracebacks', '-')} (procs: daphne processes; gunicorn: one master, "
                "its workers and threads in the server's name)"
            )
        lines.append(f"-- {r['backend']} goals:")
        for name, value, ok in goals(r):
            lines.append(f"   {'-     ' if ok is None else 'met   ' if ok else 'MISSED'} {name:<72} {value}")
        for persona, data in (measured.get("personas") or {}).items():
            for c in data["cases"]:
                goal = goal_of(c)
                if goal and c["ms"]["p95"] >= goal[1] and c.get("plan"):
                    lines.append(
                        f"-- plan of the slowest query of {persona} / {c['case']} ({c['explained_ms']:.2f} ms here):"
                    )
                    lines.append(c["explained_query"])
                    lines.append(c["plan"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (a run stopped in the background) ends it like Ctrl+C: the database is still dropped.
    signal.signal(signal.SIGTERM, _interrupt)
    if args.child:
        result = run_backend(args.backend, args)
        args.output.write_text(json.dumps(result, indent=2, default=str))
        return 1 if "failed" in result else 0
    report = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([os.path.relpath(sys.executable, ROOT), *sys.argv]),
        "machine": machine(),
        "loadavg_before": os.getloadavg(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "child"},
        "goals": GOALS,
        "results": [],
    }
    backends = ["postgres", "sqlite"] if args.backend == "both" else [args.backend]
    if len(backends) == 1:
        report["results"].append(run_backend(backends[0], args))
    else:
        # Django is set up once per process, on one database: each backend runs in its own child.
        for backend in backends:
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
                child_out = Path(out.name)
            argv_child = [a for a in (argv if argv is not None else sys.argv[1:])]
            argv_child = _replace_flag(argv_child, "--backend", backend)
            argv_child = _replace_flag(argv_child, "--output", str(child_out))
            proc = subprocess.run([sys.executable, __file__, *argv_child, "--child"], cwd=ROOT)
            try:
                report["results"].append(json.loads(child_out.read_text()))
            except (OSError, ValueError):
                report["results"].append({"backend": backend, "failed": f"child exited {proc.returncode}"})
            child_out.unlink(missing_ok=True)
    report["loadavg_after"] = os.getloadavg()
    output = args.output or ROOT / "var" / "bench" / f"console-{datetime.now():%Y%m%d-%H%M%S}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, default=str))
    print(summary(report))
    print(f"\nfull results: {output}")
    return 1 if any("failed" in r for r in report["results"]) else 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _replace_flag(argv: list[str], flag: str, value: str) -> list[str]:
    out, skip = [], False
    for i, a in enumerate(argv):
        if skip:
            skip = False
            continue
        if a == flag:
            skip = i + 1 < len(argv)
            continue
        if a.startswith(flag + "="):
            continue
        out.append(a)
    return [*out, flag, value]


if __name__ == "__main__":
    sys.exit(main())
