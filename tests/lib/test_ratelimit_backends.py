"""One rate-limit check, several buckets, one round trip: ``ratelimit.hit_first_refusal`` on both caches.

Every spec runs on the in-process cache (the embedded default, which the other tests use) and on a real
Redis (production with REDIS_URL), where the whole check is one Lua script. Without a Redis the Redis
half is skipped locally and fails under CI=true (tests/support/services.py).
"""

from __future__ import annotations

import contextlib
import uuid

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from contact_center.lib import ratelimit
from tests.support.services import needs_redis, redis_url

NOW = 1_000_040.0  # 20 s into a minute window
VISITOR, ADDRESS, NEW = (5, 60), (8, 60), (2, 60)


def on_redis():
    """The Redis half of each spec: marked so it skips (or fails under CI) without a Redis."""
    return pytest.param("redis", marks=needs_redis())


@contextlib.contextmanager
def redis_cache():
    """Django's RedisCache on the test Redis, under a prefix of its own that is deleted afterwards."""
    prefix = f"parley-test-ratelimit-{uuid.uuid4().hex}"
    url = redis_url()
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": prefix}
    try:
        with override_settings(CACHES={"default": cache}):
            yield
    finally:
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}:*"))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture(params=["locmem", on_redis()])
def backend(request, monkeypatch):
    monkeypatch.setattr(ratelimit.time, "time", lambda: NOW)
    if request.param == "locmem":
        yield  # tests/conftest.py's fresh LocMemCache
        return
    with redis_cache():
        yield


def message(visitor: str, address: str = "203.0.113.9", *, new_conversation: bool = False) -> list:
    checks = [("messages:visitor", visitor, VISITOR), ("messages:ip", address, ADDRESS)]
    if new_conversation:
        checks.append(("conversations:ip", address, NEW))
    return checks


def test_it_allows_each_bucket_up_to_its_limit_then_says_how_long_to_wait(backend):
    answers = [ratelimit.hit_first_refusal(message("vera")) for _ in range(7)]

    assert answers == [None] * 5 + [40, 40]


def test_it_stops_at_the_first_refusal_so_a_visitor_over_their_limit_spares_their_address(backend):
    for _ in range(7):  # vera: five allowed, two refused by her own limit
        ratelimit.hit_first_refusal(message("vera"))

    # Her two refusals did not count against the address: it has 8 - 5 = 3 uses left for anyone.
    answers = [ratelimit.hit_first_refusal(message(f"visitor-{i}")) for i in range(4)]

    assert answers == [None, None, None, 40]


def test_it_counts_the_later_buckets_only_when_the_earlier_allowed(backend):
    assert ratelimit.hit_first_refusal(message("vera", new_conversation=True)) is None
    assert ratelimit.hit_first_refusal(message("victor", new_conversation=True)) is None

    # A third new conversation from the address is refused by its last bucket; the visitor and address
    # buckets before it were counted (they allowed it), as with separate hits in order.
    assert ratelimit.hit_first_refusal(message("wendy", new_conversation=True)) == 40
    assert ratelimit.blocked_for("conversations:ip", "203.0.113.9", NEW) == 40
    assert ratelimit.blocked_for("messages:ip", "203.0.113.9", (3, 60)) == 40
    assert ratelimit.blocked_for("messages:ip", "203.0.113.9", (4, 60)) is None


def test_it_skips_a_bucket_whose_limit_is_off_or_whose_client_is_unknown(backend):
    checks = [("messages:visitor", "vera", None), ("messages:ip", "", (1, 60)), ("uploads:visitor", "vera", (2, 60))]

    answers = [ratelimit.hit_first_refusal(checks) for _ in range(3)]

    assert answers == [None, None, 40]
    assert ratelimit.hit_first_refusal([("messages:visitor", "vera", None)]) is None


def test_it_shares_its_counters_with_hit_and_blocked_for(backend):
    ratelimit.hit("uploads:visitor", "vera", (3, 60))
    ratelimit.hit_first_refusal([("uploads:visitor", "vera", (3, 60))])

    assert ratelimit.blocked_for("uploads:visitor", "vera", (2, 60)) == 40
    assert ratelimit.hit("uploads:visitor", "vera", (3, 60)) is None
    assert ratelimit.hit("uploads:visitor", "vera", (3, 60)) == 40


@needs_redis()
def test_it_checks_every_bucket_in_one_redis_round_trip_and_lets_the_counters_expire(monkeypatch):
    monkeypatch.setattr(ratelimit.time, "time", lambda: NOW)
    commands = []
    execute = redis.Redis.execute_command
    monkeypatch.setattr(
        redis.Redis, "execute_command", lambda self, *args, **kw: commands.append(args[0]) or execute(self, *args, **kw)
    )
    with redis_cache():
        ratelimit.hit_first_refusal(message("warm-up"))  # may load the script into Redis first
        commands.clear()

        ratelimit.hit_first_refusal(message("vera", new_conversation=True))

        assert commands == ["EVALSHA"]
        backend = caches["default"]
        key = backend.make_and_validate_key(f"ratelimit:conversations:ip:203.0.113.9:{int(NOW // 60)}")
        ttl = backend._cache.get_client(key).ttl(key)
        assert 0 < ttl <= 61
