"""Signing in at /console/login/: failed attempts are limited per account and per address
(docs/console.md, "Signing in"; PARLEY_RATE_LIMITS["login_failures_per_*"] in docs/configuration.md)."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/console/login/"
THROTTLED = "Too many failed sign-in attempts. Try again in"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.PARLEY_RATE_LIMITS = {
        **settings.PARLEY_RATE_LIMITS,
        "login_failures_per_account": (5, 900),
        "login_failures_per_ip": (30, 900),
    }


def sign_in(client: Client, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def test_it_signs_in_with_the_right_password_and_goes_to_the_console(client, alice):
    response = sign_in(client, "alice", "alice-password")

    assert response.status_code == 302
    assert response["Location"] == "/console/"
    assert signed_in(client)


def test_it_answers_a_wrong_password_with_the_usual_message(client, alice):
    response = sign_in(client, "alice", "wrong")

    assert response.status_code == 200
    assert "didn&#x27;t match" in response.content.decode()
    assert not signed_in(client)


def test_it_refuses_the_sixth_try_after_five_wrong_passwords_even_with_the_right_one(client, alice):
    for _ in range(5):
        assert sign_in(client, "alice", "wrong").status_code == 200

    response = sign_in(client, "alice", "alice-password")

    assert response.status_code == 429
    assert THROTTLED in response.content.decode()
    assert not signed_in(client)


def test_it_limits_an_account_whatever_the_address_and_the_case_of_the_username(client, alice):
    for number in range(5):
        sign_in(client, "Alice" if number % 2 else "alice", "wrong", ip=f"198.51.100.{number + 1}")

    response = sign_in(client, "alice", "alice-password", ip="203.0.113.50")

    assert response.status_code == 429


def test_it_does_not_lock_other_accounts_when_one_is_locked(client, alice, bob):
    for _ in range(6):
        sign_in(client, "alice", "wrong")

    assert sign_in(client, "bob", "bob-password").status_code == 302


def test_it_limits_one_address_across_accounts(client, alice, bob, settings):
    settings.PARLEY_RATE_LIMITS = {**settings.PARLEY_RATE_LIMITS, "login_failures_per_ip": (3, 900)}
    for name in ["nobody", "someone", "anyone"]:
        sign_in(client, name, "guess")

    assert sign_in(client, "bob", "bob-password").status_code == 429
    assert sign_in(Client(), "bob", "bob-password", ip="203.0.113.9").status_code == 302


def test_it_does_not_count_successful_sign_ins(client, alice):
    for _ in range(10):
        assert sign_in(Client(), "alice", "alice-password").status_code == 302

    for _ in range(4):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", "alice-password").status_code == 302


def test_it_lets_the_account_in_again_when_the_window_ends(client, alice, monkeypatch):
    from contact_center.lib import ratelimit

    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_800_000.0)
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", "alice-password").status_code == 429

    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_800_000.0 + 900)

    assert sign_in(client, "alice", "alice-password").status_code == 302


def test_it_says_how_many_minutes_are_left(client, alice, monkeypatch):
    from contact_center.lib import ratelimit

    monkeypatch.setattr(ratelimit.time, "time", lambda: 1_800_000.0 + 780)  # 2 minutes before the window ends
    for _ in range(5):
        sign_in(client, "alice", "wrong")

    response = sign_in(client, "alice", "alice-password")

    assert "Try again in 2 minutes." in response.content.decode()


def test_it_turns_the_limit_off_with_off(client, alice, settings):
    settings.PARLEY_RATE_LIMITS = {
        **settings.PARLEY_RATE_LIMITS,
        "login_failures_per_account": None,
        "login_failures_per_ip": None,
    }
    for _ in range(30):
        sign_in(client, "alice", "wrong")

    assert sign_in(client, "alice", "alice-password").status_code == 302


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"username": "alice"},
        {"username": "a" * 5000, "password": "x"},
        {"username": "alice", "password": "p" * 100_000},
        {"username": "alice\x00", "password": "alice-password"},
    ],
)
def test_it_answers_a_hostile_form_with_the_form_never_a_500(client, alice, form):
    response = client.post(LOGIN, form)

    assert response.status_code == 200
    assert not signed_in(client)


def test_it_goes_to_a_safe_next_page_only(client, alice):
    assert sign_in_next(client, "/console/settings/labels/")["Location"] == "/console/settings/labels/"
    assert sign_in_next(Client(), "https://evil.example/")["Location"] == "/console/"


def sign_in_next(client, next_url):
    return client.post(LOGIN, {"username": "alice", "password": "alice-password", "next": next_url})


def test_it_shows_the_sign_in_form(client):
    response = client.get(LOGIN + "?next=/console/settings/labels/")

    assert response.status_code == 200
    assert 'value="/console/settings/labels/"' in response.content.decode()


def test_django_admins_sign_in_is_throttled_too(client, charlie):
    charlie.is_staff = True
    charlie.save()
    for _ in range(5):
        client.post("/admin/login/", {"username": "charlie", "password": "wrong"})

    response = client.post("/admin/login/", {"username": "charlie", "password": "charlie-password"})

    assert response.status_code == 200
    assert THROTTLED in response.content.decode()
    assert not signed_in(client)
