"""Where the real services are, and what to do when one is missing.

Locally a missing PostgreSQL or Redis skips the tests that need it. Under CI=true it fails them: CI
must prove the product against the real services, and a skip would hide that it did not.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support import live

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def redis_url() -> str | None:
    """The Redis to test against: REDIS_URL, else a local default if one answers."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    return url if _reachable(url) else None


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true and {reason}: services are required in CI, never skipped", pytrace=False)
    return pytest.mark.skipif(True, reason=reason)


def needs_redis():
    """Decorator for tests that need a Redis server (shared or their own)."""
    if redis_url() is None:
        return _missing(f"no Redis answers at {os.environ.get('REDIS_URL') or DEFAULT_REDIS_URL}")
    return pytest.mark.skipif(False, reason="")


def needs_redis_binary():
    """Decorator for tests that start (and stop) a private redis-server."""
    if redis_server_binary() is None:
        return _missing("redis-server is not installed")
    return pytest.mark.skipif(False, reason="")


class PrivateRedis:
    """A redis-server of this test's own, on a fixed loopback port so it can come back at the same address."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = live.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        # No persistence: it comes back empty, as a replaced Redis would.
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([redis_server_binary(), *options], cwd=self.workdir, stdout=subprocess.DEVNULL)
        live.wait_for_port(self.port, timeout=10, proc=self.process)

    def pause(self) -> None:
        """Stopped, not gone: its connections stay open and nothing answers on them."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


async def kill_subscriber(url: str, layer) -> None:
    """Cut a Redis layer's subscriber connection from the server side (``RedisEventsLayer`` in the running
    loop): what a Redis restart, or Redis dropping a subscriber behind its output buffer, does to it."""
    from redis import asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        [found] = [c for c in await client.client_list() if c["name"] == layer._here().subscriber_name]
        await client.client_kill_filter(_id=found["id"])
    finally:
        await client.aclose()
