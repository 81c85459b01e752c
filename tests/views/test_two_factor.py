"""Two-factor authentication (TOTP and recovery codes): set-up in Settings → Security, the two-step sign-in,
turning it off, new recovery codes, the site-wide requirement and an admin's reset (docs/console.md,
"Two-factor authentication")."""

from __future__ import annotations

import re

import pyotp
import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from contact_center.actions import agent_security
from contact_center.models import AgentSession, RecoveryCode, SecurityPolicy, TwoFactor

pytestmark = pytest.mark.django_db

LOGIN, LOGIN_CODE = "/console/login/", "/console/login/code/"
SECURITY = "/console/settings/security/"
SETUP = "/console/settings/security/two-factor/"
CODES = "/console/settings/security/two-factor/recovery-codes/"
DISABLE = "/console/settings/security/two-factor/disable/"
REGENERATE = "/console/settings/security/two-factor/regenerate/"
POLICY = "/console/settings/security/policy/"


def code(secret: str, steps_ahead: int = 0) -> str:
    """The code of the current 30-second step, or of a step either side (each step's code works once)."""
    return pyotp.TOTP(secret).at(timezone.now().timestamp() + 30 * steps_ahead)


def set_up(client: Client) -> tuple[str, list[str]]:
    """Set up two-factor through the pages; returns the secret and the recovery codes shown."""
    page = client.get(SETUP).content.decode()
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    response = client.post(SETUP, {"code": code(secret)})
    assert response.status_code == 302 and response["Location"] == CODES
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", client.get(CODES).content.decode())
    return secret, codes


@pytest.fixture
def alice_with_two_factor(alice):
    client = Client()
    client.force_login(alice)
    secret, codes = set_up(client)
    return alice, secret, codes


def password_step(client: Client):
    return client.post(LOGIN, {"username": "alice", "password": "alice-password"})


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


# --- set-up ---------------------------------------------------------------------------------------


def test_it_shows_a_qr_code_and_the_key_without_inline_script_or_style(client, alice):
    client.force_login(alice)

    page = client.get(SETUP).content.decode()

    assert "<svg" in page and 'class="segno"' in page
    assert re.search(r'<code id="totp-secret">[A-Z2-7]{32}</code>', page)
    assert "<script" not in page and " style=" not in page and " onclick=" not in page


def test_it_keeps_the_same_key_while_setting_up(client, alice):
    client.force_login(alice)
    first = re.search(r"[A-Z2-7]{32}", client.get(SETUP).content.decode()).group(0)

    assert first in client.get(SETUP).content.decode()


def test_it_refuses_a_wrong_confirmation_code_and_turns_nothing_on(client, alice):
    client.force_login(alice)
    client.get(SETUP)

    response = client.post(SETUP, {"code": "000000"})

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not TwoFactor.objects.exists()


@pytest.mark.parametrize("value", ["", "12345", "abcdef", "1" * 70, "１２３４５６"])
def test_it_answers_a_malformed_confirmation_code_with_the_form(client, alice, value):
    client.force_login(alice)
    client.get(SETUP)

    assert client.post(SETUP, {"code": value}).status_code == 400
    assert not TwoFactor.objects.exists()


def test_it_turns_on_and_shows_ten_recovery_codes_once_stored_hashed(client, alice):
    client.force_login(alice)

    _, codes = set_up(client)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert TwoFactor.objects.filter(agent=alice).exists()
    stored = set(RecoveryCode.objects.filter(agent=alice).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not stored & set(codes)
    assert client.get(CODES)["Location"] == SECURITY  # shown once
    assert client.get(SETUP)["Location"] == SECURITY  # on already


# --- signing in in two steps ----------------------------------------------------------------------


def test_an_agent_with_two_factor_is_not_signed_in_by_the_password_alone(alice_with_two_factor):
    client = Client()

    response = password_step(client)

    assert response["Location"] == LOGIN_CODE
    assert not signed_in(client)
    assert client.get("/console/")["Location"].startswith(LOGIN)


def test_it_signs_in_with_the_password_then_a_current_code(alice_with_two_factor):
    _, secret, _ = alice_with_two_factor
    client = Client()
    password_step(client)

    response = client.post(LOGIN_CODE, {"code": code(secret, 1)})

    assert response["Location"] == "/console/"
    assert signed_in(client)
    assert client.get("/console/").status_code == 200


def test_it_refuses_a_code_used_already(alice_with_two_factor):
    _, secret, _ = alice_with_two_factor
    first = Client()
    password_step(first)
    assert first.post(LOGIN_CODE, {"code": code(secret, 1)}).status_code == 302

    second = Client()
    password_step(second)
    response = second.post(LOGIN_CODE, {"code": code(secret, 1)})

    assert response.status_code == 200
    assert "used already" in response.content.decode()
    assert not signed_in(second)


def test_it_refuses_the_code_that_confirmed_the_set_up(alice_with_two_factor):
    _, secret, _ = alice_with_two_factor
    client = Client()
    password_step(client)

    assert client.post(LOGIN_CODE, {"code": code(secret)}).status_code == 200
    assert not signed_in(client)


def test_it_signs_in_with_a_recovery_code_once(alice_with_two_factor):
    _, _, codes = alice_with_two_factor
    first = Client()
    password_step(first)
    assert first.post(LOGIN_CODE, {"code": codes[3].upper()}).status_code == 302
    assert signed_in(first)

    second = Client()
    password_step(second)
    assert second.post(LOGIN_CODE, {"code": codes[3]}).status_code == 200
    assert not signed_in(second)


def test_it_throttles_wrong_codes_like_wrong_passwords(alice_with_two_factor, settings):
    _, secret, _ = alice_with_two_factor
    settings.PARLEY_RATE_LIMITS = {**settings.PARLEY_RATE_LIMITS, "login_failures_per_account": (5, 900)}
    client = Client()
    password_step(client)
    for wrong in ["000000", "111111", "222222", "333333", "444444"]:
        assert client.post(LOGIN_CODE, {"code": wrong}).status_code == 200

    response = client.post(LOGIN_CODE, {"code": code(secret, 1)})

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not signed_in(client)


def test_the_code_step_without_a_password_step_goes_back_to_the_sign_in(client, alice_with_two_factor):
    _, secret, _ = alice_with_two_factor

    response = client.post(LOGIN_CODE, {"code": code(secret, 1)})

    assert response["Location"] == LOGIN
    assert not signed_in(client)


def test_the_code_step_expires(alice_with_two_factor, monkeypatch):
    _, secret, _ = alice_with_two_factor
    client = Client()
    password_step(client)
    session = client.session
    pending = session[agent_security.PENDING_SIGN_IN]
    session[agent_security.PENDING_SIGN_IN] = {**pending, "at": pending["at"] - agent_security.PENDING_SECONDS - 1}
    session.save()

    assert client.post(LOGIN_CODE, {"code": code(secret, 1)})["Location"] == LOGIN
    assert not signed_in(client)


# --- turning it off, new recovery codes -----------------------------------------------------------


def test_it_turns_off_only_with_the_password_or_a_code(alice_with_two_factor):
    alice, _, _ = alice_with_two_factor
    client = Client()
    client.force_login(alice)

    client.post(DISABLE, {"password": "wrong"})
    assert TwoFactor.objects.filter(agent=alice).exists()

    client.post(DISABLE, {"password": "alice-password"})
    assert not TwoFactor.objects.filter(agent=alice).exists()
    assert not RecoveryCode.objects.filter(agent=alice).exists()
    assert password_step(Client())["Location"] == "/console/"


def test_new_recovery_codes_replace_the_old_ones(alice_with_two_factor):
    alice, secret, old = alice_with_two_factor
    client = Client()
    client.force_login(alice)

    response = client.post(REGENERATE, {"code": code(secret, 1)})

    assert response["Location"] == CODES
    new = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", client.get(CODES).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    signing_in = Client()
    password_step(signing_in)
    assert signing_in.post(LOGIN_CODE, {"code": old[0]}).status_code == 200
    assert signing_in.post(LOGIN_CODE, {"code": new[0]}).status_code == 302


def test_the_security_page_shows_two_factor_and_no_inline_script(client, alice_with_two_factor):
    alice, _, codes = alice_with_two_factor
    client.force_login(alice)

    page = client.get(SECURITY).content.decode()

    assert "<strong>On</strong>" in page and "10 of 10 recovery codes left" in page
    assert "<script" not in page and " style=" not in page
    assert not any(c in page for c in codes)


# --- what admins can do ---------------------------------------------------------------------------


def test_an_admin_requires_two_factor_and_agents_without_it_are_held_at_the_set_up(client, charlie, alice):
    admin = Client()
    admin.force_login(charlie)
    assert admin.post(POLICY, {"require_two_factor": "on"})["Location"] == SECURITY
    assert SecurityPolicy.objects.get(pk=1).require_two_factor

    response = password_step(client)
    assert response["Location"] == "/console/"
    assert client.get("/console/")["Location"] == SETUP
    assert client.get("/console/api/labels/").status_code == 403
    assert client.get(SETUP).status_code == 200

    set_up(client)

    assert client.get("/console/").status_code == 200


def test_a_required_two_factor_reaches_agents_signed_in_already_on_their_next_seen(client, charlie, alice):
    client.force_login(alice)
    assert client.get("/console/").status_code == 200
    agent_security.do_set_require_two_factor(charlie, True)
    session = client.session
    info = session[agent_security.SESSION_INFO]
    session[agent_security.SESSION_INFO] = {**info, "seen": info["seen"] - agent_security.SEEN_EVERY_SECONDS}
    session.save()

    client.get("/console/api/labels/")  # the request that notes last seen re-reads the policy

    assert client.get("/console/")["Location"] == SETUP


def test_turning_the_requirement_off_lets_held_agents_in_at_once(client, charlie, alice):
    agent_security.do_set_require_two_factor(charlie, True)
    password_step(client)
    assert client.get("/console/")["Location"] == SETUP

    agent_security.do_set_require_two_factor(charlie, False)

    assert client.get("/console/").status_code == 200


def test_a_required_two_factor_cannot_be_turned_off(alice_with_two_factor, charlie):
    alice, _, _ = alice_with_two_factor
    agent_security.do_set_require_two_factor(charlie, True)
    client = Client()
    client.force_login(alice)

    client.post(DISABLE, {"password": "alice-password"})

    assert TwoFactor.objects.filter(agent=alice).exists()


def test_only_admins_change_the_policy(client, alice):
    client.force_login(alice)

    assert client.post(POLICY, {"require_two_factor": "on"}).status_code == 403
    assert not SecurityPolicy.objects.filter(require_two_factor=True).exists()
    assert "Require two-factor authentication" not in client.get(SECURITY).content.decode()


def test_an_admin_resets_an_agents_two_factor_and_signs_them_out(alice_with_two_factor, charlie):
    alice, _, _ = alice_with_two_factor
    alices = Client()
    alices.force_login(alice)
    assert AgentSession.objects.filter(agent=alice).exists()
    admin = Client()
    admin.force_login(charlie)
    assert "Reset two-factor authentication" in admin.get(f"/console/settings/agents/{alice.pk}/").content.decode()

    response = admin.post(f"/console/settings/agents/{alice.pk}/two-factor/reset/")

    assert response["Location"] == f"/console/settings/agents/{alice.pk}/"
    assert not TwoFactor.objects.filter(agent=alice).exists()
    assert not RecoveryCode.objects.filter(agent=alice).exists()
    assert not AgentSession.objects.filter(agent=alice).exists()
    assert alices.get("/console/")["Location"].startswith(LOGIN)
    assert password_step(Client())["Location"] == "/console/"


def test_only_admins_reset_two_factor(alice_with_two_factor, bob):
    alice, _, _ = alice_with_two_factor
    client = Client()
    client.force_login(bob)

    assert client.post(f"/console/settings/agents/{alice.pk}/two-factor/reset/").status_code == 403
    assert TwoFactor.objects.filter(agent=alice).exists()


def test_django_admins_sign_in_sends_an_agent_with_two_factor_to_the_console_sign_in(alice_with_two_factor):
    alice, _, _ = alice_with_two_factor
    alice.is_staff = True
    alice.save()
    client = Client()

    response = client.post("/admin/login/", {"username": "alice", "password": "alice-password"})

    assert response.status_code == 200
    assert "sign in at /console/login/" in response.content.decode()
    assert not signed_in(client)


def test_wrong_passwords_to_turn_it_off_count_as_failed_sign_ins(alice_with_two_factor, settings):
    alice, _, _ = alice_with_two_factor
    settings.PARLEY_RATE_LIMITS = {**settings.PARLEY_RATE_LIMITS, "login_failures_per_account": (3, 900)}
    client = Client()
    client.force_login(alice)
    for _ in range(3):
        client.post(DISABLE, {"password": "wrong"})

    response = client.post(DISABLE, {"password": "alice-password"}, follow=True)

    assert "Too many failed sign-in attempts" in response.content.decode()
    assert TwoFactor.objects.filter(agent=alice).exists()


def test_the_agents_list_says_who_has_two_factor_on(alice_with_two_factor, bob, charlie):
    client = Client()
    client.force_login(charlie)

    page = client.get("/console/settings/agents/").content.decode()

    rows = {name: row for name, row in re.findall(r"<code>(\w+)</code>(.*?)</tr>", page, re.S)}
    assert "<td>On</td>" in rows["alice"]
    assert "<td>Off</td>" in rows["bob"] and "<td>Off</td>" in rows["charlie"]
