"""contact_center/actions/agent_security.py: the session list and revocation (what is deleted, what is
published to whom), second factors, the policy."""

from __future__ import annotations

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from contact_center.actions import agent_security as security
from contact_center.models import AgentSession, TwoFactor
from tests.conftest import save_agent

pytestmark = pytest.mark.django_db


def signed_in(agent, user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Gecko/20100101 Firefox/133.0"):
    """A browser signed in through the sign-in page (each persona's password is "<username>-password")."""
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR="198.51.100.7")
    response = client.post("/console/login/", {"username": agent.username, "password": f"{agent.username}-password"})
    assert response.status_code == 302
    return client


def public_id(client: Client) -> str:
    return client.session[security.SESSION_INFO]["id"]


def revoked_events(published):
    return [(event, groups) for event, groups in published if event["type"] == "session.revoked"]


def test_a_sign_in_lists_the_session_with_its_browser_and_address(alice):
    client = signed_in(alice)

    row = AgentSession.objects.get(agent=alice)
    assert row.public_id == public_id(client)
    assert row.session_key == client.session.session_key
    assert str(row.ip) == "198.51.100.7"
    rows = security.sessions_of(alice, row.public_id)
    assert [(r.device, r.current) for r in rows] == [("Firefox on macOS", True)]


def test_revoking_one_session_ends_it_and_tells_the_agents_sockets_after_commit(
    alice, published, django_capture_on_commit_callbacks
):
    laptop, phone = signed_in(alice), signed_in(alice, user_agent="Mozilla/5.0 (iPhone) Safari/604.1")
    laptop_id, phone_id = public_id(laptop), public_id(phone)

    with django_capture_on_commit_callbacks(execute=True):
        security.do_revoke_session(alice, phone_id)

    assert phone.get("/console/")["Location"].startswith("/console/login/")
    assert laptop.get("/console/").status_code == 200
    assert list(AgentSession.objects.values_list("public_id", flat=True)) == [laptop_id]
    event = {"type": "session.revoked", "sessions": [phone_id], "everywhere": False, "keep": None}
    assert revoked_events(published) == [(event, [f"agent.{alice.pk}"])]
    assert security.session_revoked(phone_id) and not security.session_revoked(laptop_id)


def test_nothing_is_published_before_commit(alice, published, django_capture_on_commit_callbacks):
    phone = signed_in(alice)

    with django_capture_on_commit_callbacks(execute=False):
        security.do_revoke_session(alice, public_id(phone))

    assert revoked_events(published) == []


def test_an_agent_cannot_revoke_someone_elses_session(alice, bob):
    bobs = signed_in(bob)

    with pytest.raises(ValidationError):
        security.do_revoke_session(alice, public_id(bobs))
    with pytest.raises(ValidationError):
        security.do_revoke_session(alice, "not an id")

    assert bobs.get("/console/").status_code == 200


def test_signing_out_everywhere_else_keeps_this_session(alice, bob, published, django_capture_on_commit_callbacks):
    here, there, elsewhere, bobs = signed_in(alice), signed_in(alice), signed_in(alice), signed_in(bob)
    ids = {client: public_id(client) for client in (here, there, elsewhere)}

    with django_capture_on_commit_callbacks(execute=True):
        security.do_revoke_sessions(alice.pk, keep=ids[here])

    assert here.get("/console/").status_code == 200
    assert bobs.get("/console/").status_code == 200
    assert there.get("/console/").status_code == 302 and elsewhere.get("/console/").status_code == 302
    [(event, groups)] = revoked_events(published)
    assert event["everywhere"] is True and event["keep"] == ids[here]
    assert sorted(event["sessions"]) == sorted([ids[there], ids[elsewhere]])
    assert groups == [f"agent.{alice.pk}"]


def test_deactivating_an_agent_revokes_every_session_of_theirs(
    website, alice, charlie, published, django_capture_on_commit_callbacks
):
    alices = signed_in(alice)

    with django_capture_on_commit_callbacks(execute=True):
        save_agent(charlie, alice, [website.pk], is_active=False)

    assert not AgentSession.objects.filter(agent=alice).exists()
    assert not Session.objects.filter(session_key=alices.session.session_key).exists()
    [(event, _)] = revoked_events(published)
    assert event["everywhere"] is True and event["keep"] is None


def test_an_admin_setting_an_agents_password_signs_them_out(website, alice, charlie, published):
    alices = signed_in(alice)

    save_agent(charlie, alice, [website.pk], password="a-brand-new-passphrase-42")

    assert alices.get("/console/").status_code == 302
    assert not AgentSession.objects.filter(agent=alice).exists()


def test_saving_an_agent_without_a_new_password_keeps_their_sessions(website, alice, charlie):
    alices = signed_in(alice)

    save_agent(charlie, alice, [website.pk], display_name="Alice A.")

    assert alices.get("/console/").status_code == 200


@pytest.mark.parametrize(
    ("event", "session", "closes"),
    [
        ({"sessions": ["a"], "everywhere": False, "keep": None}, "a", True),
        ({"sessions": ["a"], "everywhere": False, "keep": None}, "b", False),
        ({"sessions": ["a"], "everywhere": False, "keep": None}, None, False),
        ({"sessions": [], "everywhere": True, "keep": "b"}, "b", False),
        ({"sessions": [], "everywhere": True, "keep": "b"}, "c", True),
        ({"sessions": [], "everywhere": True, "keep": "b"}, None, True),
        ({"sessions": [], "everywhere": True, "keep": None}, "b", True),
    ],
)
def test_it_decides_which_sockets_a_revocation_closes(event, session, closes):
    assert security.revokes({"type": "session.revoked", **event}, session) is closes


def test_a_totp_code_works_once_and_only_near_now(alice):
    secret = pyotp.random_base32()
    now = pyotp.TOTP(secret).timecode(timezone.now())
    TwoFactor.objects.create(agent=alice, secret=secret, confirmed_at=timezone.now(), last_step=now - 5)
    totp = pyotp.TOTP(secret)

    assert not security.do_verify_second_factor(alice.pk, totp.generate_otp(now + 3))
    assert security.do_verify_second_factor(alice.pk, totp.generate_otp(now))
    assert not security.do_verify_second_factor(alice.pk, totp.generate_otp(now))  # replayed
    assert not security.do_verify_second_factor(alice.pk, totp.generate_otp(now - 1))  # older than the last
    assert security.do_verify_second_factor(alice.pk, totp.generate_otp(now + 1))


@pytest.mark.parametrize("value", [None, 123456, "", " ", "x" * 10_000, ["123456"], "12345-67890"])
def test_a_hostile_second_factor_is_just_wrong(alice, value):
    TwoFactor.objects.create(agent=alice, secret=pyotp.random_base32(), confirmed_at=timezone.now())

    assert security.do_verify_second_factor(alice.pk, value) is False


def test_the_policy_is_cached_and_read_back_when_the_cache_lost_it(charlie):
    assert security.two_factor_required() is False

    security.do_set_require_two_factor(charlie, True)
    assert security.two_factor_required() is True
    cache.clear()
    assert security.two_factor_required() is True


def test_only_an_admin_sets_the_policy(alice):
    with pytest.raises(PermissionDenied):
        security.do_set_require_two_factor(alice, True)
    with pytest.raises(PermissionDenied):
        security.do_reset_two_factor(alice, alice.pk)


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
            "Chrome on Windows",
        ),
        ("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0", "Edge on Windows"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Version/18.1 Mobile Safari/604.1", "Safari on iOS"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"),
        ("curl/8.5.0", "Unknown browser"),
        ("", "Unknown browser"),
    ],
)
def test_it_names_a_browser_from_its_user_agent(user_agent, device):
    assert security.describe_user_agent(user_agent) == device
