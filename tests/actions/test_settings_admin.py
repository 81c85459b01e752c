"""The actions behind Settings → Inboxes, Agents and Teams (contact_center/actions/settings_admin.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contact_center.actions.settings_admin import (
    check_allowed_origins,
    check_inbox_address,
    check_inbox_config,
    check_origin,
    do_create_inbox,
    do_create_widget_inbox,
    do_save_agent,
    do_save_inbox,
    do_save_team,
)
from contact_center.models import Agent, Inbox
from tests.actions import concurrently


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("https://Shop.Example/", "https://shop.example"),
        ("  http://localhost:3000 ", "http://localhost:3000"),
        ("https://[::1]:8443", "https://[::1]:8443"),
        ("*", "*"),
    ],
)
def test_it_stores_an_origin_the_way_the_widget_compares_it(typed, stored):
    assert check_origin(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["shop.example", "https://shop.example/a", "https://shop.example#x", "https://shop.example:99999", "javascript:x"],
)
def test_it_refuses_what_is_not_an_origin(typed):
    with pytest.raises(ValidationError, match="is not an origin"):
        check_origin(typed)


def test_duplicate_origins_collapse_in_order():
    assert check_allowed_origins(["https://b.example", "https://a.example", "https://B.example/"]) == [
        "https://b.example",
        "https://a.example",
    ]


def test_an_email_inbox_takes_no_widget_settings():
    assert check_inbox_config(Inbox.Kind.EMAIL, {"auto_assign": True}) == {"auto_assign": True}
    with pytest.raises(ValidationError, match="brand_color is not a setting of this inbox"):
        check_inbox_config(Inbox.Kind.EMAIL, {"brand_color": "#000000"})


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"business_hours": {"timezone": "Mars/Olympus", "days": {}}}, "business_hours: unknown timezone"),
        ({"attachments": {"max_bytes": 0, "types": []}}, "attachments: max_bytes"),
        ({"prechat": {"enabled": True, "fields": []}}, "prechat: a pre-chat form needs at least one field"),
        ({"csat": "yes"}, "csat: true or false"),
    ],
)
def test_it_refuses_widget_settings_the_widget_would_ignore(changes, problem):
    with pytest.raises(ValidationError, match=problem):
        check_inbox_config(Inbox.Kind.WIDGET, changes)


@pytest.mark.django_db
def test_only_admins_write(website, alice):
    supervisor = Agent.objects.create_user("sue", password="x", role=Agent.Role.SUPERVISOR)
    for agent in (alice, supervisor):
        with pytest.raises(PermissionDenied):
            do_create_widget_inbox(agent, "Shop", [])
        with pytest.raises(PermissionDenied):
            do_create_inbox(agent, Inbox.Kind.SMS, "Texts", address="+4721999999")
        with pytest.raises(PermissionDenied):
            do_save_inbox(agent, website.pk, name="Mine", team_id=None, member_ids=[])
        with pytest.raises(PermissionDenied):
            do_save_team(agent, "Mine", [])


@pytest.mark.django_db
def test_a_new_inbox_reconnects_those_who_see_every_inbox(
    charlie, alice, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        do_create_widget_inbox(charlie, "Shop", ["https://shop.example"])

    assert published == [({"type": "membership.changed"}, [f"agent.{charlie.pk}"])]


@pytest.mark.parametrize(
    "kind, typed, stored",
    [
        (Inbox.Kind.EMAIL, " Help@Shop.Example ", "help@shop.example"),
        (Inbox.Kind.SMS, "+47 219 99 999", "+4721999999"),
        (Inbox.Kind.SMS, "+1 (415) 555-0100", "+14155550100"),
    ],
)
def test_it_stores_an_address_the_way_its_channel_matches_it(kind, typed, stored):
    assert check_inbox_address(kind, typed) == stored


@pytest.mark.parametrize("kind", [Inbox.Kind.WHATSAPP, Inbox.Kind.VOICE, "fax", None])
@pytest.mark.django_db
def test_it_creates_no_inbox_that_cannot_receive_or_send_yet(charlie, kind):
    with pytest.raises(ValidationError, match="an inbox here is one of: Website widget, Email, SMS"):
        do_create_inbox(charlie, kind, "Chat", address="+4721999999")
    assert not Inbox.objects.exists()


@pytest.mark.django_db
def test_an_email_or_sms_inbox_needs_an_address_and_a_widget_has_none(charlie):
    with pytest.raises(ValidationError, match="give a phone number"):
        do_create_inbox(charlie, Inbox.Kind.SMS, "Texts")
    with pytest.raises(ValidationError, match="only a website widget has allowed origins"):
        do_create_inbox(charlie, Inbox.Kind.EMAIL, "Mail", address="a@shop.example", allowed_origins=["*"])
    with pytest.raises(ValidationError, match="a website widget has no address"):
        do_create_inbox(charlie, Inbox.Kind.WIDGET, "Shop", address="a@shop.example")
    assert not Inbox.objects.exists()


def _add_texts(admin):
    try:
        return do_create_inbox(admin, Inbox.Kind.SMS, f"Texts of {admin.username}", address="+4721999999").name
    except ValidationError as exc:
        return exc.messages[0]


@pytest.mark.django_db(transaction=True)
def test_two_admins_adding_one_number_at_once_make_one_inbox():
    ada = Agent.objects.create_user("ada", password="x", role=Agent.Role.ADMIN)
    bea = Agent.objects.create_user("bea", password="x", role=Agent.Role.ADMIN)

    results = concurrently(_add_texts, [ada, bea])

    refused = [result for result in results if not result.startswith("Texts of")]
    assert len(refused) == 1 and "has +4721999999 already" in refused[0]
    assert Inbox.objects.filter(address="+4721999999").count() == 1


def _demote(pair):
    actor, target = pair
    try:
        do_save_agent(
            actor,
            target.pk,
            display_name="",
            email="",
            role=Agent.Role.AGENT,
            is_active=True,
            inbox_ids=[],
            team_ids=[],
            max_open_conversations=None,
            avatar_url="",
        )
    except ValidationError as exc:
        return exc.messages[0]
    return "demoted"


@pytest.mark.django_db(transaction=True)
def test_two_admins_demoting_each_other_at_once_leave_one_admin():
    ada = Agent.objects.create_user("ada", password="x", role=Agent.Role.ADMIN)
    bea = Agent.objects.create_user("bea", password="x", role=Agent.Role.ADMIN)

    results = concurrently(_demote, [(ada, bea), (bea, ada)])

    refused = [result for result in results if result != "demoted"]
    assert len(refused) == 1 and "is the last active admin" in refused[0]
    assert Agent.objects.filter(role=Agent.Role.ADMIN, is_active=True).count() == 1
