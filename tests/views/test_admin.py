"""Django admin for inboxes and agents: where an admin changes allowed origins, business hours and
widget config, and where changing who sees an inbox has the same consequences as in Console → Settings."""

from __future__ import annotations

import json

import pytest

from contact_center.actions.inbound import do_receive_inbound
from contact_center.models import Agent, Conversation, Inbox, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

MEMBERSHIP_CHANGED = {"type": "membership.changed"}


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


def agent_form(admin_client, agent: Agent, **changes) -> dict:
    """The agent's change form as Django admin would post it back, with ``changes``."""
    form = admin_client.get(f"/admin/contact_center/agent/{agent.pk}/change/").context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    for name in ("date_joined", "last_login", "password"):
        data.pop(name, None)
    data.update(date_joined_0="2026-01-01", date_joined_1="00:00:00", groups=[], user_permissions=[], **changes)
    return data


def assigned_to(agent: Agent, inbox: Inbox, visitor: str) -> Conversation:
    entry = do_receive_inbound(visitor_envelope(inbox, visitor=visitor, external_id=f"{visitor}-1")).entry
    Conversation.objects.filter(pk=entry.conversation_id).update(assignee=agent)
    return Conversation.objects.get(pk=entry.conversation_id)


def test_members_changed_here_reconnect_their_consoles_and_leavers_lose_their_conversations(
    admin_client, website, alice, bob, published, django_capture_on_commit_callbacks
):
    kept = assigned_to(alice, website, "vera")
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = edit(admin_client, website, members=[bob.pk])

    assert response.status_code == 302, response.content.decode()[:2000]
    changed = [groups for event, groups in published if event == MEMBERSHIP_CHANGED]
    assert changed == [[f"agent.{alice.pk}", f"agent.{bob.pk}"]]
    kept.refresh_from_db()
    assert kept.assignee is None
    line = TimelineEntry.objects.filter(conversation=kept, kind="activity").latest("seq")
    assert line.body == "Unassigned from Alice (can no longer see this inbox)"


def test_a_new_inbox_made_here_reaches_those_who_see_every_inbox(
    admin_client, alice, charlie, published, django_capture_on_commit_callbacks
):
    root = Agent.objects.get(username="root")  # a superuser, but an agent by role: sees no inbox
    form = {"name": "Shop", "kind": "widget", "address": "", "allowed_origins": "[]", "config": "{}", "team": ""}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/contact_center/inbox/add/", {**form, "members": [alice.pk]})

    assert response.status_code == 302, response.content.decode()[:2000]
    (groups,) = [groups for event, groups in published if event == MEMBERSHIP_CHANGED]
    assert set(groups) == {f"agent.{alice.pk}", f"agent.{charlie.pk}"}
    assert f"agent.{root.pk}" not in groups


@pytest.mark.parametrize("change", [{"role": "admin"}, {"is_active": False}])
def test_an_agents_role_or_activity_changed_here_reconnects_them(
    admin_client, website, alice, published, django_capture_on_commit_callbacks, change
):
    kept = assigned_to(alice, website, "vera")
    data = agent_form(admin_client, alice, **change)
    if change.get("is_active") is False:
        data.pop("is_active")  # an unticked box is absent from the post
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/contact_center/agent/{alice.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert [groups for event, groups in published if event == MEMBERSHIP_CHANGED] == [[f"agent.{alice.pk}"]]
    kept.refresh_from_db()
    # Promoted, she still sees the inbox and keeps it; deactivated, it goes back to Unassigned.
    assert kept.assignee_id == (alice.pk if change.get("role") else None)


def test_saving_an_agent_without_changing_what_they_see_reconnects_nobody(
    admin_client, alice, published, django_capture_on_commit_callbacks
):
    data = agent_form(admin_client, alice, max_open_conversations=3)
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/admin/contact_center/agent/{alice.pk}/change/", data)

    assert [event for event, _ in published if event == MEMBERSHIP_CHANGED] == []
