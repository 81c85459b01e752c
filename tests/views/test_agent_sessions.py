"""Settings → Security, "Where you're signed in": the list, signing one session out, signing out everywhere
else; and the other ways sessions end: a password change, a deactivation in Django admin, signing out."""

from __future__ import annotations

import pytest
from django.test import Client

from contact_center.actions import agent_security as security
from contact_center.models import AgentSession

pytestmark = pytest.mark.django_db

SECURITY = "/console/settings/security/"
FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Version/18.1 Mobile Safari/604.1"


def browser(agent, user_agent=FIREFOX, ip="198.51.100.7") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = client.post("/console/login/", {"username": agent.username, "password": f"{agent.username}-password"})
    assert response.status_code == 302
    return client


def public_id(client: Client) -> str:
    return client.session[security.SESSION_INFO]["id"]


def test_it_lists_where_the_agent_is_signed_in_with_this_device_marked(alice, bob):
    laptop, phone = browser(alice), browser(alice, IPHONE, ip="203.0.113.4")
    browser(bob, IPHONE)

    page = laptop.get(SECURITY).content.decode()

    assert page.count("<tr") == 3  # the heading and Alice's two sessions, not Bob's
    assert "Firefox on macOS" in page and "Safari on iOS" in page
    assert "203.0.113.4" in page and "this device" in page
    assert f"/console/settings/security/sessions/{public_id(phone)}/revoke/" in page
    assert f"/console/settings/security/sessions/{public_id(laptop)}/revoke/" not in page
    assert "<script" not in page and " style=" not in page


def test_signing_out_one_session_from_the_list_ends_it(alice):
    laptop, phone = browser(alice), browser(alice, IPHONE)

    response = laptop.post(f"/console/settings/security/sessions/{public_id(phone)}/revoke/")

    assert response["Location"] == SECURITY
    assert phone.get("/console/").status_code == 302
    assert laptop.get("/console/").status_code == 200
    assert "Safari on iOS" not in laptop.get(SECURITY).content.decode()


@pytest.mark.parametrize("public_id_", ["0" * 32, "not-a-session", "x" * 500])
def test_signing_out_a_session_that_is_not_one_says_so(alice, public_id_):
    laptop = browser(alice)

    response = laptop.post(f"/console/settings/security/sessions/{public_id_}/revoke/", follow=True)

    assert response.status_code == 200
    assert "That session has ended already." in response.content.decode()


def test_signing_out_another_agents_session_is_refused(alice, bob):
    alices, bobs = browser(alice), browser(bob)

    alices.post(f"/console/settings/security/sessions/{public_id(bobs)}/revoke/")

    assert bobs.get("/console/").status_code == 200


def test_signing_out_everywhere_else_keeps_this_browser(alice):
    here, there, elsewhere = browser(alice), browser(alice), browser(alice, IPHONE)

    assert here.post("/console/settings/security/sessions/revoke-others/")["Location"] == SECURITY

    assert here.get("/console/").status_code == 200
    assert there.get("/console/").status_code == 302 and elsewhere.get("/console/").status_code == 302
    assert list(AgentSession.objects.values_list("public_id", flat=True)) == [public_id(here)]


def test_it_signs_nobody_out_on_a_get(alice):
    here, there = browser(alice), browser(alice)

    assert here.get("/console/settings/security/sessions/revoke-others/").status_code == 405
    assert there.get("/console/").status_code == 200


def test_changing_ones_password_signs_out_every_other_session_and_keeps_this_one(alice):
    here, there = browser(alice), browser(alice, IPHONE)
    form = {
        "old_password": "alice-password",
        "new_password1": "a-new-passphrase-42",
        "new_password2": "a-new-passphrase-42",
    }

    assert here.post("/console/password/", form)["Location"] == "/console/password/done/"

    assert here.get("/console/").status_code == 200
    assert there.get("/console/").status_code == 302
    # The kept session's new key (Django cycles it on a password change) is what the list follows.
    row = AgentSession.objects.get(agent=alice)
    assert row.public_id == public_id(here) and row.session_key == here.session.session_key
    here.post("/console/settings/security/sessions/revoke-others/")
    assert here.get("/console/").status_code == 200


def test_signing_out_takes_the_session_off_the_list(alice):
    laptop, phone = browser(alice), browser(alice, IPHONE)

    laptop.post("/console/logout/")

    assert list(AgentSession.objects.values_list("public_id", flat=True)) == [public_id(phone)]


def test_deactivating_an_agent_in_django_admin_signs_them_out(alice, charlie):
    charlie.is_staff = charlie.is_superuser = True
    charlie.save()
    browser(alice)
    admin = Client()
    admin.force_login(charlie)
    form = admin.get(f"/admin/contact_center/agent/{alice.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "is_active"}
    data.update(
        {
            "date_joined_0": alice.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": alice.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
            "inboxes": [i.pk for i in alice.inboxes.all()],
        }
    )
    data.pop("last_login", None)
    data.pop("date_joined", None)

    response = admin.post(f"/admin/contact_center/agent/{alice.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    alice.refresh_from_db()
    assert not alice.is_active
    assert not AgentSession.objects.filter(agent=alice).exists()


def test_a_session_signed_in_before_sessions_were_listed_is_listed_on_its_next_request(alice):
    client = browser(alice)
    AgentSession.objects.all().delete()
    session = client.session
    del session[security.SESSION_INFO]
    session.save()

    client.get("/console/")

    assert AgentSession.objects.get(agent=alice).public_id == public_id(client)


def test_last_seen_is_written_at_most_once_a_minute(alice, django_assert_num_queries):
    client = browser(alice)
    client.get("/console/api/labels/")

    with django_assert_num_queries(2):  # the agent and the labels: no session or list write
        client.get("/console/api/labels/")

    session = client.session
    info = session[security.SESSION_INFO]
    session[security.SESSION_INFO] = {**info, "seen": info["seen"] - security.SEEN_EVERY_SECONDS}
    session.save()
    before = AgentSession.objects.get().last_seen_at
    client.get("/console/api/labels/")
    assert AgentSession.objects.get().last_seen_at > before
