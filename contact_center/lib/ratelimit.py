"""Fixed-window rate limits on Django's cache, and the client address they are keyed on.

With ``REDIS_URL`` the cache is Redis, so a limit holds across every web node: ``add`` and ``incr``
are single atomic Redis commands. Without it the cache is per process, which is the whole installation
in the embedded default.

A fixed window lets a client send up to twice the limit across a window boundary; that is the price of
one counter per key, and still bounds abuse to a small multiple of what an honest visitor needs.

``hit_first_refusal`` counts several buckets at once (a visitor's and their address's) and stops at the
first one that refuses. On Redis that is one Lua script, so one round trip for a whole check instead of
two commands per bucket; on any other cache (the embedded default's LocMemCache, in process) it is
``hit`` bucket by bucket, which costs no round trip at all. Both keep the same counters, so ``hit`` and
``blocked_for`` read what it counted.
"""

from __future__ import annotations

import ipaddress
import math
import time
import weakref
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

_PREFIX = "ratelimit"


def hit(bucket: str, key: str, rate: tuple[int, int] | None) -> int | None:
    """Count one use of ``bucket`` by ``key``; None while within ``rate`` (count, seconds), else the
    seconds until the window resets. A None ``rate`` (limit off) or ``key`` (unknown client) never limits.

    Refused uses are counted too, so a client that keeps hammering stays refused until the window ends.
    """
    return hit_first_refusal([(bucket, key, rate)])


# KEYS: the buckets' window keys, in order; ARGV: per key its limit and its time to live. Counts each
# bucket until one is over its limit and returns that one's position (1-based), 0 when none is: later
# buckets are left uncounted, as ``_hit_one_by_one`` does. INCR makes a missing key 1 (a Django int in
# Redis is stored as the bare number, so cache.get reads it); only then does it need its expiry.
_HIT_SCRIPT = """
for i, key in ipairs(KEYS) do
  local used = redis.call('INCR', key)
  if used == 1 then redis.call('EXPIRE', key, ARGV[2 * i]) end
  if used > tonumber(ARGV[2 * i - 1]) then return i end
end
return 0
"""


def hit_first_refusal(checks: Iterable[tuple[str, str, tuple[int, int] | None]]) -> int | None:
    """``hit`` for each ``(bucket, key, rate)`` in order, stopping at the first refusal, whose seconds it
    returns (None when every bucket allowed the use). Stopping there means a client over one limit does
    not use up the next (a visitor over their own limit leaves their address's budget alone).

    One round trip on Redis however many buckets; no round trip on an in-process cache.
    """
    now = time.time()
    counted = []  # (bucket, key, count, seconds, window)
    for bucket, key, rate in checks:
        if rate is None or not key:
            continue  # never limits, so never refuses: skipping it changes nothing
        count, seconds = rate
        window = int(now // seconds)
        counted.append((f"{_PREFIX}:{bucket}:{key}:{window}", count, seconds, window))
    if not counted:
        return None
    backend = caches["default"]
    redis = isinstance(backend, RedisCache)
    refused = _hit_on_redis(backend, counted) if redis else _hit_one_by_one(counted)
    if refused is None:
        return None
    _, _, seconds, window = counted[refused]
    return max(1, math.ceil((window + 1) * seconds - now))


def _hit_on_redis(backend: RedisCache, counted: list) -> int | None:
    keys = [backend.make_and_validate_key(cache_key) for cache_key, *_ in counted]
    args = [value for _, count, seconds, _ in counted for value in (count, seconds + 1)]
    position = _script_for(backend)(keys=keys, args=args)
    return int(position) - 1 if position else None


def _script_for(backend: RedisCache):
    """The script, registered once per backend on a client of its write pool: Django builds a client (and
    redis-py a script, hashing its text) per call otherwise, a tenth of a message's CPU on Redis."""
    script = _scripts.get(backend)
    if script is None:
        client = backend._cache.get_client(write=True)
        script = _scripts[backend] = client.register_script(_HIT_SCRIPT)
    return script


_scripts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _hit_one_by_one(counted: list) -> int | None:
    for position, (cache_key, count, seconds, _) in enumerate(counted):
        if _count(cache_key, seconds) > count:
            return position
    return None


def _count(cache_key: str, seconds: int) -> int:
    # A second of slack: the key must outlive its window even when clocks of two nodes differ a little.
    cache.add(cache_key, 0, timeout=seconds + 1)
    try:
        return cache.incr(cache_key)
    except ValueError:
        # Evicted (or expired) between add and incr: this use starts a new count.
        cache.add(cache_key, 1, timeout=seconds + 1)
        return 1


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
