"""Fixed-window rate limits on Django's cache, and the client address they are keyed on.

With ``REDIS_URL`` the cache is Redis, so a limit holds across every web node: ``add`` and ``incr``
are single atomic Redis commands. Without it the cache is per process, which is the whole installation
in the embedded default.

A fixed window lets a client send up to twice the limit across a window boundary; that is the price of
one counter per key, and still bounds abuse to a small multiple of what an honest visitor needs.
"""

from __future__ import annotations

import ipaddress
import math
import time

from django.conf import settings
from django.core.cache import cache

_PREFIX = "ratelimit"


def hit(bucket: str, key: str, rate: tuple[int, int] | None) -> int | None:
    """Count one use of ``bucket`` by ``key``; None while within ``rate`` (count, seconds), else the
    seconds until the window resets. A None ``rate`` (limit off) or ``key`` (unknown client) never limits.

    Refused uses are counted too, so a client that keeps hammering stays refused until the window ends.
    """
    if rate is None or not key:
        return None
    count, seconds = rate
    now = time.time()
    window = int(now // seconds)
    cache_key = f"{_PREFIX}:{bucket}:{key}:{window}"
    # A second of slack: the key must outlive its window even when clocks of two nodes differ a little.
    cache.add(cache_key, 0, timeout=seconds + 1)
    try:
        used = cache.incr(cache_key)
    except ValueError:
        # Evicted (or expired) between add and incr: this use starts a new count.
        cache.add(cache_key, 1, timeout=seconds + 1)
        used = 1
    if used <= count:
        return None
    return max(1, math.ceil((window + 1) * seconds - now))


def blocked_for(bucket: str, key: str, rate: tuple[int, int] | None) -> int | None:
    """Like ``hit`` but counting nothing: None while ``key`` has uses of ``bucket`` left in this window,
    else the seconds until it resets. For limits on failures, which are counted (``hit``) only once they
    happen but checked before each try (signing in: contact_center/actions/agent_security.py)."""
    if rate is None or not key:
        return None
    count, seconds = rate
    now = time.time()
    window = int(now // seconds)
    used = cache.get(f"{_PREFIX}:{bucket}:{key}:{window}") or 0
    if used < count:
        return None
    return max(1, math.ceil((window + 1) * seconds - now))


def client_ip(remote_addr: str | None, forwarded_for: str | None) -> str:
    """The client's address: the first ``X-Forwarded-For`` hop when ``PARLEY_TRUST_X_FORWARDED_FOR`` says
    a proxy in front sets it, else the connection's own address. "" when neither is a valid address.
    """
    candidate = remote_addr
    if settings.PARLEY_TRUST_X_FORWARDED_FOR and forwarded_for:
        candidate = forwarded_for.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address((candidate or "").strip()))
    except ValueError:
        return ""


def client_ip_of_scope(scope) -> str:
    """``client_ip`` of an ASGI connection (a socket)."""
    client = scope.get("client") or (None, None)
    forwarded = None
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin1")
    return client_ip(client[0], forwarded)


def client_ip_of_request(request) -> str:
    """``client_ip`` of an HTTP request."""
    return client_ip(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))
