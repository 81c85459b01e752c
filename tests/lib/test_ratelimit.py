"""Fixed-window counters on the cache, the client address they key on, and the COUNT/UNIT setting format."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from contact_center.lib import env, ratelimit


def test_it_allows_up_to_the_limit_then_says_how_long_to_wait(monkeypatch):
    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_000_040.0)  # 20 s into a minute window

    answers = [ratelimit.hit("messages", "vera", (3, 60)) for _ in range(5)]

    assert answers == [None, None, None, 40, 40]
    assert ratelimit.hit("messages", "victor", (3, 60)) is None


def test_it_starts_counting_again_in_the_next_window(monkeypatch):
    now = [1_000_040.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [ratelimit.hit("uploads", "vera", (1, 60)) for _ in range(2)] == [None, 40]

    now[0] += 40

    assert ratelimit.hit("uploads", "vera", (1, 60)) is None


def test_it_never_limits_when_the_limit_is_off_or_the_client_unknown():
    assert all(ratelimit.hit("messages", "vera", None) is None for _ in range(100))
    assert all(ratelimit.hit("messages", "", (1, 60)) is None for _ in range(3))


def test_it_ignores_x_forwarded_for_unless_the_proxy_is_trusted(settings):
    settings.PARLEY_TRUST_X_FORWARDED_FOR = False
    assert ratelimit.client_ip("10.0.0.2", "203.0.113.9") == "10.0.0.2"

    settings.PARLEY_TRUST_X_FORWARDED_FOR = True
    assert ratelimit.client_ip("10.0.0.2", "203.0.113.9, 10.0.0.1") == "203.0.113.9"
    assert ratelimit.client_ip("10.0.0.2", "not-an-address") == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20/minute", (20, 60)),
        ("5/h", (5, 3600)),
        (" 100/Day ", (100, 86400)),
        ("off", None),
        ("", (7, 1)),
        ("5/15minute", (5, 900)),
        ("30/2h", (30, 7200)),
    ],
)
def test_it_parses_a_rate_setting(monkeypatch, raw, expected):
    monkeypatch.setenv("PARLEY_TEST_RATE", raw)
    assert env.get_rate("PARLEY_TEST_RATE", "7/second") == expected


@pytest.mark.parametrize("raw", ["20", "0/minute", "-1/minute", "20/fortnight", "many/minute", "5/0minute", "5/15"])
def test_it_refuses_a_rate_that_does_not_parse(monkeypatch, raw):
    monkeypatch.setenv("PARLEY_TEST_RATE", raw)
    with pytest.raises(ImproperlyConfigured, match="PARLEY_TEST_RATE"):
        env.get_rate("PARLEY_TEST_RATE", "20/minute")


def test_it_peeks_at_a_limit_without_counting_a_use():
    rate = (2, 60)
    assert ratelimit.blocked_for("peek", "k", rate) is None
    ratelimit.hit("peek", "k", rate)
    assert ratelimit.blocked_for("peek", "k", rate) is None
    ratelimit.hit("peek", "k", rate)

    assert 1 <= ratelimit.blocked_for("peek", "k", rate) <= 60
    assert ratelimit.blocked_for("peek", "k", None) is None
    assert ratelimit.blocked_for("peek", "", rate) is None
