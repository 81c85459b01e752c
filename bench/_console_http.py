"""HTTP side of bench/console.py: a running ``manage.py serve --roles web``, a real login, and concurrent
keep-alive clients requesting timeline pages.

The client is a minimal HTTP/1.1 one on asyncio streams (GET and a form POST, Content-Length or chunked
bodies, one persistent connection per client) rather than a new dependency: the project has no HTTP
client library, and this is all the load needs. Each client sends its next request as soon as the
previous answer is read (closed loop), so pages/s is what the server sustains at that concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from bench._loadgen import machine_cpu_ticks, process_cpu_seconds, self_cpu_seconds
from tests.support.live import ROOT, free_port, wait_for_port


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Connection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port; reconnects when the server closes it."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Response:
        if self.writer is None:
            await self._connect()
            self.reconnects += 1
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        response = Response(status=int(status_line.split()[1]), headers={})
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                response.cookies[key] = rest.split(";", 1)[0]
            else:
                response.headers[name] = value
        if "content-length" in response.headers:
            response.body = await self.reader.readexactly(int(response.headers["content-length"]))
        elif response.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            response.body = b"".join(chunks)
        if response.headers.get("connection", "").lower() == "close":
            await self.close()
        return response


async def login(port: int, username: str, password: str) -> str:
    """Log in through the console's login form, as a browser does; returns the Cookie header to send."""
    conn = Connection(port)
    try:
        page = await conn.request("GET", "/console/login/")
        csrf_cookie = page.cookies["csrftoken"]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
        form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"})
        answer = await conn.request(
            "POST",
            "/console/login/",
            headers={"Cookie": f"csrftoken={csrf_cookie}", "Content-Type": "application/x-www-form-urlencoded"},
            body=form.encode(),
        )
        if answer.status != 302 or "sessionid" not in answer.cookies:
            raise RuntimeError(f"login as {username} failed: HTTP {answer.status}")
        return f"sessionid={answer.cookies['sessionid']}"
    finally:
        await conn.close()


class Server:
    """``manage.py serve --roles web`` (daphne, through the in-process WSGI bridge) on a free loopback port
    against ``env``'s database; or, with ``gunicorn="<worker class>:<workers>[x<threads>]"`` (for example
    ``gthread:2x4`` or ``sync:5``), gunicorn serving contact_center.wsgi, Django's WSGI handler as is."""

    def __init__(self, env: dict[str, str], log_path: Path, gunicorn: str | None = None):
        self.port = free_port()
        self.env = dict(env, PUBLIC_BASE_URL=f"http://127.0.0.1:{self.port}")
        self.log_path = log_path
        self.gunicorn = gunicorn
        self.proc: subprocess.Popen | None = None

    @property
    def label(self) -> str:
        return f"gunicorn {self.gunicorn}" if self.gunicorn else "daphne"

    def argv(self) -> list[str]:
        if not self.gunicorn:
            return [sys.executable, str(ROOT / "manage.py"), "serve", "--roles", "web", "--port", str(self.port)]
        worker_class, _, size = self.gunicorn.partition(":")
        workers, _, threads = size.partition("x")
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "contact_center.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--worker-class",
            worker_class,
            "--workers",
            workers,
            "--threads",
            threads or "1",
            "--backlog",
            "1024",  # as `serve` gives daphne
            "--log-level",
            "warning",
        ]

    def start(self) -> None:
        self.log = open(self.log_path, "a")  # noqa: SIM115  (closed in stop())
        self.proc = subprocess.Popen(self.argv(), cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, timeout=60, proc=self.proc)

    def tracebacks(self) -> int:
        return self.log_path.read_text().count("Traceback (most recent call last)")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.log.close()
        self.proc = None


async def drive(
    servers: list[tuple[int, int]],
    cookie: str,
    paths: list[str],
    *,
    clients: int,
    duration: float,
    around_window: Callable[[], Callable[[], dict]] | None = None,
) -> dict:
    """``clients`` keep-alive connections, spread over ``servers`` ((port, pid) each), requesting
    ``paths`` in turn for ``duration`` s after a warm-up of five requests each.

    ``around_window`` is called (in a thread) right before the window and returns what to call right
    after it; that call's dict is merged into the result: how the caller counts what happens in the
    database during the window. Returns pages/s (answers with status 200 over the window), latency
    samples in ns (request written to body read), the answers by status, reconnects, and the CPU of
    the server processes, of this process and of the machine over the window.
    """
    headers = {"Cookie": cookie, "Accept": "application/json"}
    connections = [Connection(servers[i % len(servers)][0]) for i in range(clients)]
    latencies: list[int] = []
    statuses: dict[int, int] = {}
    body_bytes = 0

    async def warm(conn: Connection, offset: int) -> None:
        for k in range(5):
            response = await conn.request("GET", paths[(offset + k) % len(paths)], headers=headers)
            if response.status != 200:
                raise RuntimeError(f"warm-up: HTTP {response.status} for {paths[(offset + k) % len(paths)]}")

    async def run(conn: Connection, offset: int, deadline: float) -> None:
        nonlocal body_bytes
        k = offset
        while time.monotonic() < deadline:
            path = paths[k % len(paths)]
            k += 1
            t = time.perf_counter_ns()
            response = await conn.request("GET", path, headers=headers)
            latencies.append(time.perf_counter_ns() - t)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            body_bytes += len(response.body)

    pids = [pid for _, pid in servers]
    extra: dict = {}
    try:
        await asyncio.gather(*(warm(c, i * 7) for i, c in enumerate(connections)))
        after = await asyncio.to_thread(around_window) if around_window else None
        reconnects_before = sum(c.reconnects for c in connections)
        started, server_cpu, self_cpu = time.monotonic(), _cpu(pids), self_cpu_seconds()
        machine = machine_cpu_ticks()
        deadline = started + duration
        await asyncio.gather(*(run(c, i * 13, deadline) for i, c in enumerate(connections)))
        wall = time.monotonic() - started
        server_cpu, self_cpu = _cpu(pids) - server_cpu, self_cpu_seconds() - self_cpu
        busy, total = machine_cpu_ticks()
        machine_busy = 100 * (busy - machine[0]) / max(1, total - machine[1])
        if after is not None:
            extra = await asyncio.to_thread(after)
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    ok = statuses.get(200, 0)
    return {
        "servers": len(servers),
        "clients": clients,
        "duration_s": wall,
        "requests": len(latencies),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "pages_per_s": ok / wall,
        "latencies_ns": latencies,
        "mean_body_bytes": body_bytes / max(1, len(latencies)),
        "reconnects": sum(c.reconnects for c in connections) - reconnects_before,
        "server_cpu_ms_per_page": 1000 * server_cpu / max(1, ok),
        "server_cpu_pct": 100 * server_cpu / wall,
        "loadgen_cpu_pct": 100 * self_cpu / wall,
        "machine_busy_pct": machine_busy,
        "loadavg": os.getloadavg(),  # at the window's end
        **extra,
    }


def _cpu(pids: list[int]) -> float:
    """CPU seconds of ``pids`` and of their descendants (gunicorn's workers are its master's children)."""
    total = 0.0
    for member in (p for pid in pids for p in process_tree(pid)):
        with contextlib.suppress(OSError):
            total += process_cpu_seconds(member)
    return total


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc/<pid>/task/<tid>/children."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found += process_tree(int(child))
    return found


def open_files_named(pid: int, path: str) -> int:
    """How many of ``pid``'s file descriptors are open on ``path``: its SQLite connections."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd) == path:
                count += 1
    return count


# --- wrk -------------------------------------------------------------------------------------------------

WRK_SCRIPT = """-- Generated by bench/_console_http.py: the pages in turn, with the persona's cookie.
local paths = {%(paths)s}
local headers = {["Cookie"] = "%(cookie)s", ["Accept"] = "application/json"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], headers)
end
"""


def wrk_available() -> str | None:
    return shutil.which("wrk")


def drive_wrk(
    servers: list[tuple[int, int]], cookie: str, paths: list[str], *, clients: int, duration: float, tmp: Path
) -> dict:
    """The same closed-loop load as ``drive``, generated by wrk (Debian's ``wrk`` package): one wrk per
    server, ``clients`` connections in all. wrk is C, so the load costs the two cores a fraction of
    what the asyncio client does, and more of them is left to the server: the fairer reading of what
    the server sustains. Returns what ``drive`` returns, latency as wrk's percentiles."""
    script = tmp / "wrk-pages.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(f'"{p}"' for p in paths), "cookie": cookie})
    per_server = max(1, clients // len(servers))
    pids = [pid for _, pid in servers]
    started, server_cpu, machine = time.monotonic(), _cpu(pids), machine_cpu_ticks()
    procs = [
        subprocess.Popen(
            [wrk_available(), "-t1", f"-c{per_server}", f"-d{duration:g}s", "--latency", "-s", str(script)]
            + [f"http://127.0.0.1:{port}/"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for port, _ in servers
    ]
    outputs = [proc.communicate(timeout=duration + 30)[0] for proc in procs]
    wall = time.monotonic() - started
    server_cpu = _cpu(pids) - server_cpu
    busy, total = machine_cpu_ticks()
    parsed = [_parse_wrk(text) for text in outputs]
    requests = sum(p["requests"] for p in parsed)
    bad = sum(p["non_2xx"] for p in parsed)
    ok = requests - bad
    return {
        "loadgen": "wrk",
        "servers": len(servers),
        "clients": per_server * len(servers),
        "duration_s": wall,
        "requests": requests,
        "statuses": {"200": ok, "other": bad} if bad else {"200": ok},
        "pages_per_s": sum(p["requests_per_s"] for p in parsed) * ok / max(1, requests),
        # wrk reports percentiles per process; with one per server, the slowest server's are shown.
        "latency_ms": {k: max(p["latency_ms"][k] for p in parsed) for k in parsed[0]["latency_ms"]},
        "server_cpu_ms_per_page": 1000 * server_cpu / max(1, ok),
        "server_cpu_pct": 100 * server_cpu / wall,
        "machine_busy_pct": 100 * (busy - machine[0]) / max(1, total - machine[1]),
        "loadavg": os.getloadavg(),  # at the window's end
        "wrk_output": outputs,
    }


def _parse_wrk(text: str) -> dict:
    def ms(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    found = {
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0,
        "latency_ms": {},
    }
    for label, key in (("50%", "p50"), ("90%", "p90"), ("99%", "p99")):
        found["latency_ms"][key] = ms(re.search(rf"^\s+{label}\s+(\S+)", text, re.M).group(1))
    found["latency_ms"]["max"] = ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", text).group(1))
    return found
