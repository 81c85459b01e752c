"""Canned responses: Settings → Canned responses (admins and supervisors) and the composer's list."""

from __future__ import annotations

import pytest

from contact_center.models import Agent, CannedResponse

pytestmark = pytest.mark.django_db

SETTINGS = "/console/settings/canned/"


@pytest.fixture
def supervisor(db):
    return Agent.objects.create_user("sue", password="sue-password", role=Agent.Role.SUPERVISOR)


def test_a_supervisor_adds_a_canned_response(client, supervisor):
    client.force_login(supervisor)

    response = client.post(SETTINGS, {"shortcut": "shipping", "body": "Orders ship within two days."})

    assert response.status_code == 302
    saved = CannedResponse.objects.get()
    assert (saved.shortcut, saved.body, saved.created_by) == ("shipping", "Orders ship within two days.", supervisor)
    assert b"/shipping" in client.get(SETTINGS).content


@pytest.mark.parametrize("shortcut", ["Shipping", "two words", "/shipping", "", "x" * 41])
def test_it_refuses_a_shortcut_agents_could_not_type(client, charlie, shortcut):
    client.force_login(charlie)

    response = client.post(SETTINGS, {"shortcut": shortcut, "body": "Hi"})

    assert response.status_code == 200
    assert CannedResponse.objects.count() == 0


def test_it_refuses_a_shortcut_that_is_taken_and_says_so(client, charlie):
    CannedResponse.objects.create(shortcut="hello", body="Hi there!")
    client.force_login(charlie)

    response = client.post(SETTINGS, {"shortcut": "hello", "body": "Another"})

    assert response.status_code == 200
    assert "/hello is taken" in response.content.decode()
    assert CannedResponse.objects.get().body == "Hi there!"


def test_it_edits_and_deletes_a_canned_response(client, charlie):
    canned = CannedResponse.objects.create(shortcut="hello", body="Hi there!")
    client.force_login(charlie)

    client.post(f"{SETTINGS}{canned.pk}/", {"shortcut": "hi", "body": "Hello!"})
    canned.refresh_from_db()
    assert (canned.shortcut, canned.body) == ("hi", "Hello!")

    client.post(f"{SETTINGS}{canned.pk}/", {"delete": "1"})
    assert not CannedResponse.objects.exists()


def test_agents_use_canned_responses_but_do_not_manage_them(client, alice):
    CannedResponse.objects.create(shortcut="hello", body="Hi there!")
    client.force_login(alice)

    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, {"shortcut": "mine", "body": "x"}).status_code == 403
    assert client.get("/console/api/canned/").json() == {"responses": [{"shortcut": "hello", "body": "Hi there!"}]}
