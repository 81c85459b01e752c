"""Where the real services are, and what to do when one is missing.

Locally a missing PostgreSQL or Redis skips the tests that need it. Under CI=true it fails them: CI
must prove the product against the real services, and a skip would hide that it did not.
"""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlsplit

import pytest

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
