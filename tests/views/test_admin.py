"""Django admin for inboxes: where an admin changes allowed origins, business hours and widget config."""

from __future__ import annotations

import json

import pytest

from contact_center.models import Agent, Inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    root = Agent.objects.create_user("root", password="root-password", is_staff=True, is_superuser=True)
    client.force_login(root)
    return client


def edit(admin_client, inbox: Inbox, **changes):
    form = {
        "name": inbox.name,
        "kind": inbox.kind,
        "address": inbox.address,
        "allowed_origins": json.dumps(inbox.allowed_origins),
        "config": json.dumps(inbox.config),
        "members": [member.pk for member in inbox.members.all()],
        "team": "",
        **changes,
    }
    return admin_client.post(f"/admin/contact_center/inbox/{inbox.pk}/change/", form)


def test_it_lists_the_inboxes(admin_client, website):
    page = admin_client.get("/admin/contact_center/inbox/")
    assert page.status_code == 200
    assert website.public_key.encode() in page.content


def test_it_saves_allowed_origins_and_business_hours(admin_client, website, alice):
    hours = {"timezone": "Europe/Berlin", "days": {"mon": [["09:00", "17:00"]]}}

    response = edit(
        admin_client,
        website,
        allowed_origins=json.dumps(["https://shop.example", "https://www.shop.example"]),
        config=json.dumps({"business_hours": hours, "brand_color": "#1f6feb"}),
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    website.refresh_from_db()
    assert website.allowed_origins == ["https://shop.example", "https://www.shop.example"]
    assert website.config == {"business_hours": hours, "brand_color": "#1f6feb"}
    assert list(website.members.all()) == [alice]


@pytest.mark.parametrize(
    "origins, problem",
    [
        ('"https://shop.example"', "a list of origins"),
        ('["shop.example"]', "is not an origin"),
        ('["https://shop.example/checkout"]', "is not an origin"),
    ],
)
def test_it_refuses_what_is_not_a_list_of_origins(admin_client, website, origins, problem):
    response = edit(admin_client, website, allowed_origins=origins)

    assert response.status_code == 200
    assert problem in response.content.decode()
    website.refresh_from_db()
    assert website.allowed_origins == ["https://shop.example"]


def test_it_refuses_broken_business_hours_naming_the_problem(admin_client, website):
    broken = {"business_hours": {"timezone": "Mars/Olympus", "days": {}}}

    response = edit(admin_client, website, config=json.dumps(broken))

    assert response.status_code == 200
    assert "business_hours: unknown timezone" in response.content.decode()
    website.refresh_from_db()
    assert website.config == {}


def test_it_shows_the_key_and_secret_but_never_lets_them_be_edited(admin_client, website):
    key, secret = website.public_key, website.secret
    page = admin_client.get(f"/admin/contact_center/inbox/{website.pk}/change/").content.decode()
    assert key in page and secret in page

    edit(admin_client, website, public_key="chosen-by-me", secret="chosen-by-me-too")

    website.refresh_from_db()
    assert (website.public_key, website.secret) == (key, secret)


def test_it_sets_an_agents_capacity_for_automatic_assignment(admin_client, alice):
    page = admin_client.get(f"/admin/contact_center/agent/{alice.pk}/change/")
    assert page.status_code == 200 and b"max_open_conversations" in page.content

    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(max_open_conversations=3, date_joined_0="2026-01-01", date_joined_1="00:00:00")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("password", None)
    data["groups"] = []
    data["user_permissions"] = []
    response = admin_client.post(f"/admin/contact_center/agent/{alice.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    alice.refresh_from_db()
    assert alice.max_open_conversations == 3
