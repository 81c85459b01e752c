"""Real Parley processes for end-to-end tests: `manage.py serve` in subprocesses on loopback ports.

Each ``LiveStack`` gets its own database (a SQLite file, or a fresh PostgreSQL database when
DATABASE_URL names one) and its own channel-layer prefix, so stacks never see each other's data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class LiveStack:
    """A database plus any number of Parley processes sharing it.

    ``backend`` is "embedded" (SQLite + in-memory layer; one web process only) or "services"
    (PostgreSQL from DATABASE_URL if it is one, else SQLite; Redis from ``redis_url``).
    """

    def __init__(self, tmp_path: Path, *, redis_url: str | None = None, database_url: str | None = None):
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self._pg_admin_url: str | None = None
        self._pg_name: str | None = None
        self.env = {
            k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        }
        self.env.update(
            {
                "PARLEY_VAR_DIR": str(tmp_path / "var"),
                "SECRET_KEY": "live-test-" + uuid.uuid4().hex + uuid.uuid4().hex,
                "DEBUG": "0",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
                "PARLEY_CHANNEL_PREFIX": "parley-" + uuid.uuid4().hex[:8],
                # Every browser and load generator of a test comes from 127.0.0.1: limits per address
                # would count them all as one client. Per-visitor limits stay on.
                "PARLEY_RATE_MESSAGES_PER_IP": "off",
                "PARLEY_RATE_UPLOADS_PER_IP": "off",
                "PARLEY_RATE_CONVERSATIONS_PER_IP": "off",
            }
        )
        if database_url and database_url.startswith(("postgres://", "postgresql://")):
            self._pg_admin_url = database_url
            self._pg_name = "parley_live_" + uuid.uuid4().hex[:10]
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self._pg_name}"')
            parts = urlsplit(database_url)
            self.env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + self._pg_name))
        else:
            self.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'live.sqlite3'}"
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self.manage("migrate", "--no-input", "-v0")

    def manage(self, *args: str, input: str | None = None) -> str:
        """Run a management command against this stack's database; returns its stdout."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def shell(self, code: str) -> str:
        """Run Python with Django set up against this stack's database; returns what it prints."""
        return self.manage("shell", "--no-imports", "-c", code)

    def start(self, roles: str = "web,worker", port: int | None = None, env: dict | None = None) -> str:
        """Start ``manage.py serve`` and wait until it listens; returns its base URL."""
        port = port or free_port()
        proc_env = dict(self.env, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", **(env or {}))
        log = open(self.tmp_path / f"serve-{port}.log", "a")  # noqa: SIM115  (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "serve", "--roles", roles, "--port", str(port)],
            cwd=ROOT,
            env=proc_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log_file = log  # type: ignore[attr-defined]
        self.processes.append(proc)
        if "web" in roles:
            wait_for_port(port, proc=proc)
        return f"http://127.0.0.1:{port}"

    def restart(self) -> str:
        """Stop every process and start the same roles again on the same ports, keeping the database:
        what a deploy or a crash looks like to connected browsers. Returns the first web node's URL."""
        started = [
            (proc.args[proc.args.index("--roles") + 1], int(proc.args[proc.args.index("--port") + 1]))
            for proc in self.processes
        ]
        self._terminate_processes()
        urls = [self.start(roles, port=port) for roles, port in started]
        return urls[0]

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp_path.glob("serve-*.log")))

    def stop(self) -> None:
        self._terminate_processes()
        if self._pg_name:
            with psycopg.connect(self._pg_admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._pg_name}" WITH (FORCE)')
            self._pg_name = None

    def _terminate_processes(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.log_file.close()
        self.processes.clear()
