"""Settings → Inboxes, Agents and Teams, and /console/password/ (docs/console.md, "Settings for admins").

Admins change everything; supervisors read the agents and teams lists; agents get a 403.
"""

from __future__ import annotations

from datetime import time
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.forms import CheckboxInput
from django.test import Client
from django.test.utils import CaptureQueriesContext

from contact_center.actions.customers import prechat_config
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_send_reply
from contact_center.lib.availability import check_business_hours
from contact_center.models import Agent, Conversation, Inbox, Team, TimelineEntry
from tests.channels_adapters.conftest import SHOP_NUMBER, VERA_PHONE, post_as_twilio, twilio_settings
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

INBOXES = "/console/settings/inboxes/"
AGENTS = "/console/settings/agents/"
NEW_AGENT = "/console/settings/agents/new/"
TEAMS = "/console/settings/teams/"
MEMBERSHIP_CHANGED = {"type": "membership.changed"}


@pytest.fixture
def supervisor(db):
    return Agent.objects.create_user("sue", password="sue-password", role=Agent.Role.SUPERVISOR)


@pytest.fixture
def support(db):
    return Team.objects.create(name="Support")


def inbox_url(inbox) -> str:
    return f"{INBOXES}{inbox.pk}/"


def agent_url(agent) -> str:
    return f"{AGENTS}{agent.pk}/"


def team_url(team) -> str:
    return f"{TEAMS}{team.pk}/"


def as_posted(form) -> dict:
    """What a browser posts for ``form`` as the page shows it, unchanged."""
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, CheckboxInput):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif isinstance(value, time):
            data[name] = value.strftime("%H:%M")
        elif isinstance(value, list | tuple):
            data[name] = [str(item) for item in value]
        else:
            data[name] = str(value)
    return data


def edit(client, url: str, **changes):
    """Post the form at ``url`` as shown, with ``changes``; a change of None unticks or empties the field."""
    data = as_posted(client.get(url).context["form"])
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(url, data)


def errors_of(response) -> dict:
    assert response.status_code == 200, response.status_code
    return response.context["form"].errors


# --- who may ------------------------------------------------------------------------------------


def every_page(website, alice, support) -> list[str]:
    return [INBOXES, inbox_url(website), AGENTS, NEW_AGENT, agent_url(alice), TEAMS, team_url(support)]


def test_an_agent_gets_a_403_on_every_admin_page(client, website, alice, support):
    client.force_login(alice)

    for url in every_page(website, alice, support):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Mine"}).status_code == 403, url
    assert Team.objects.get().name == "Support"


def test_a_supervisor_reads_agents_and_teams_and_changes_nothing(client, website, alice, supervisor, support):
    client.force_login(supervisor)

    agents = client.get(AGENTS)
    teams = client.get(TEAMS)

    assert agents.status_code == teams.status_code == 200
    assert "alice" in agents.content.decode() and agent_url(alice) not in agents.content.decode()
    assert "Support" in teams.content.decode() and team_url(support) not in teams.content.decode()
    assert NEW_AGENT not in agents.content.decode()
    for url in [INBOXES, inbox_url(website), NEW_AGENT, agent_url(alice), team_url(support)]:
        assert client.get(url).status_code == 403, url
    assert client.post(TEAMS, {"name": "Billing"}).status_code == 403
    assert list(Team.objects.values_list("name", flat=True)) == ["Support"]


def test_an_admin_opens_every_page(client, charlie, website, alice, support):
    client.force_login(charlie)

    for url in every_page(website, alice, support):
        assert client.get(url).status_code == 200, url


def test_it_sends_a_logged_out_visitor_to_the_login_page(client, website):
    for url in [INBOXES, inbox_url(website), AGENTS, TEAMS, "/console/password/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/"), url


def test_the_settings_header_links_agents_and_teams_for_admins_and_supervisors(client, charlie, supervisor):
    client.force_login(charlie)
    page = client.get("/console/settings/canned/").content.decode()
    assert all(url in page for url in [INBOXES, AGENTS, TEAMS, "/console/settings/labels/", "/console/password/"])

    client.force_login(supervisor)
    page = client.get("/console/settings/canned/").content.decode()
    assert AGENTS in page and TEAMS in page and INBOXES not in page


def test_the_lists_read_in_a_fixed_number_of_queries(client, charlie, website, support):
    client.force_login(charlie)

    def queries() -> list[int]:
        counts = []
        for url in [INBOXES, AGENTS, TEAMS]:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.append(len(captured))
        return counts

    few = queries()
    for n in range(4):
        agent = Agent.objects.create_user(f"agent{n}", password="x")
        inbox = Inbox.objects.create(name=f"Inbox {n}", kind=Inbox.Kind.WIDGET, team=support)
        inbox.members.add(agent)
        Team.objects.create(name=f"Team {n}").members.add(agent)

    assert queries() == few


# --- inboxes ------------------------------------------------------------------------------------


def test_an_admin_adds_a_widget_inbox_with_its_origins(client, charlie):
    client.force_login(charlie)

    response = client.post(
        INBOXES,
        {"kind": "widget", "name": "  Shop  ", "allowed_origins": "https://Shop.example/\nhttp://localhost:3000"},
    )

    inbox = Inbox.objects.get()
    assert response.status_code == 302 and response["Location"] == inbox_url(inbox)
    assert (inbox.name, inbox.kind) == ("Shop", Inbox.Kind.WIDGET)
    assert inbox.allowed_origins == ["https://shop.example", "http://localhost:3000"]
    page = client.get(inbox_url(inbox)).content.decode()
    assert f'data-inbox="{inbox.public_key}"' in page.replace("&quot;", '"')
    assert "Copy" in page


@pytest.mark.parametrize(
    "origin",
    [
        "shop.example",
        "https://shop.example/checkout",
        "ftp://shop.example",
        "https://shop.example?x=1",
        "https://a:b@shop.example",
    ],
)
def test_it_refuses_what_is_not_an_origin_and_names_it(client, charlie, website, origin):
    client.force_login(charlie)

    created = client.post(INBOXES, {"kind": "widget", "name": "Shop", "allowed_origins": origin})
    edited = edit(client, inbox_url(website), allowed_origins_text=f"https://ok.example\n{origin}")

    assert "is not an origin" in str(errors_of(created)["allowed_origins"])
    assert "is not an origin" in str(errors_of(edited)["allowed_origins_text"])
    assert Inbox.objects.count() == 1
    website.refresh_from_db()
    assert website.allowed_origins == ["https://shop.example"]


def test_an_admin_changes_an_inboxs_name_team_members_and_settings(client, charlie, website, alice, bob, support):
    website.config = {"prechat": {"enabled": True, "fields": [{"name": "email"}]}}
    website.save(update_fields=["config"])
    client.force_login(charlie)

    response = edit(
        client,
        inbox_url(website),
        name="Shop chat",
        team=str(support.pk),
        members=[str(bob.pk)],
        auto_assign="on",
        allowed_origins_text="https://shop.example\nhttps://www.shop.example",
        title="Acme help",
        greeting="Ask away",
        brand_color="#0F766E",
        position="left",
        avatar_url="https://cdn.example/team.png",
        locale="de",
        csat=None,
        require_identity_verification="on",
        offline_without_agents="on",
    )

    assert response.status_code == 302, response.context["form"].errors
    website.refresh_from_db()
    assert (website.name, website.team) == ("Shop chat", support)
    assert list(website.members.all()) == [bob]
    assert website.allowed_origins == ["https://shop.example", "https://www.shop.example"]
    assert website.config == {
        "prechat": {"enabled": True, "fields": [{"name": "email"}]},  # not changed on the page: kept as it was
        "auto_assign": True,
        "title": "Acme help",
        "greeting": "Ask away",
        "brand_color": "#0f766e",
        "position": "left",
        "avatar_url": "https://cdn.example/team.png",
        "locale": "de",
        "csat": False,
        "require_identity_verification": True,
        "offline_without_agents": True,
    }
    assert "Saved Shop chat." in client.get(inbox_url(website)).content.decode()


def test_saving_the_page_unchanged_changes_no_setting(client, charlie, website):
    # Three ranges on Monday and a brand colour in upper case: written by hand, kept as written.
    hours = {"timezone": "Europe/Oslo", "days": {"mon": [["08:00", "10:00"], ["11:00", "12:00"], ["13:00", "24:00"]]}}
    website.config = {
        "business_hours": hours,
        "brand_color": "#AABBCC",
        "attachments": {"max_bytes": 1000, "types": []},
    }
    website.save(update_fields=["config"])
    client.force_login(charlie)

    response = edit(client, inbox_url(website))

    assert response.status_code == 302, response.context["form"].errors
    website.refresh_from_db()
    assert website.config == {
        "business_hours": hours,
        "brand_color": "#AABBCC",
        "attachments": {"max_bytes": 1000, "types": []},
    }


def test_an_admin_sets_business_hours_per_weekday_in_a_time_zone(client, charlie, website):
    client.force_login(charlie)

    response = edit(
        client,
        inbox_url(website),
        hours_enabled="on",
        hours_timezone="Europe/Berlin",
        hours_mon_0_opens="09:00",
        hours_mon_0_closes="12:00",
        hours_mon_1_opens="13:00",
        hours_mon_1_closes="17:00",
        hours_fri_0_opens="22:00",
        hours_fri_0_closes="02:00",
        hours_sat_0_opens="10:00",
        hours_sat_0_closes="00:00",
    )

    assert response.status_code == 302, response.context["form"].errors
    website.refresh_from_db()
    hours = website.config["business_hours"]
    assert hours == {
        "timezone": "Europe/Berlin",
        "days": {
            "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
            "fri": [["22:00", "02:00"]],
            "sat": [["10:00", "24:00"]],
        },
    }
    assert check_business_hours(hours) is not None

    edit(client, inbox_url(website), hours_enabled=None)

    website.refresh_from_db()
    assert "business_hours" not in website.config


@pytest.mark.parametrize(
    "changes, field, problem",
    [
        ({"hours_tue_0_opens": "09:00"}, "hours_tue_0_closes", "give both times"),
        ({"hours_tue_0_opens": "09:00", "hours_tue_0_closes": "09:00"}, "hours_tue_0_closes", "closes when it opens"),
        ({"hours_tue_0_opens": "9 am", "hours_tue_0_closes": "17:00"}, "hours_tue_0_opens", "Enter a valid time"),
        ({"hours_timezone": "Mars/Olympus"}, "hours_timezone", "Select a valid choice"),
    ],
)
def test_it_refuses_business_hours_that_do_not_parse(client, charlie, website, changes, field, problem):
    client.force_login(charlie)

    response = edit(client, inbox_url(website), hours_enabled="on", **changes)

    assert problem in str(errors_of(response)[field])
    website.refresh_from_db()
    assert website.config == {}


@pytest.mark.parametrize(
    "changes, field, problem",
    [
        ({"name": "  "}, "name", "required"),
        ({"avatar_url": "http://cdn.example/team.png"}, "avatar_url", "https://"),
        ({"brand_color": "blue"}, "brand_color", "#rrggbb"),
        ({"attachments_max_mb": "500"}, "attachments_max_mb", "less than or equal to 100"),
        ({"attachments_other": "not a type"}, "attachments_other", "not a content type"),
        ({"members": ["9999"]}, "members", "Select a valid choice"),
    ],
)
def test_it_refuses_bad_inbox_settings_naming_the_field(client, charlie, website, changes, field, problem):
    client.force_login(charlie)

    response = edit(client, inbox_url(website), **changes)

    assert problem in str(errors_of(response)[field])
    assert "Nothing was saved" in response.content.decode()
    website.refresh_from_db()
    assert (website.name, website.config) == ("Website", {})


def test_an_admin_sets_and_clears_response_time_targets(client, charlie, website):
    client.force_login(charlie)

    edit(client, inbox_url(website), sla_first_response_minutes="60", sla_next_response_minutes="240")
    website.refresh_from_db()
    assert website.config["sla"] == {"first_response_minutes": 60, "next_response_minutes": 240}

    edit(client, inbox_url(website), sla_next_response_minutes="")
    website.refresh_from_db()
    assert website.config["sla"] == {"first_response_minutes": 60}

    edit(client, inbox_url(website), sla_first_response_minutes="")
    website.refresh_from_db()
    assert "sla" not in website.config

    refused = edit(client, inbox_url(website), sla_first_response_minutes="0")
    assert "greater than or equal to 1" in str(errors_of(refused)["sla_first_response_minutes"])


def test_it_limits_the_files_visitors_may_send(client, charlie, website):
    client.force_login(charlie)

    edit(
        client,
        inbox_url(website),
        attachments_max_mb="2.5",
        attachments_types=["image/png", "application/pdf"],
        attachments_other="application/zip",
    )

    website.refresh_from_db()
    assert website.config["attachments"] == {
        "max_bytes": int(2.5 * 2**20),
        "types": ["image/png", "application/pdf", "application/zip"],
    }


def test_an_admin_sets_up_a_pre_chat_form(client, charlie, website):
    client.force_login(charlie)

    response = edit(
        client,
        inbox_url(website),
        prechat_enabled="on",
        prechat_phone_region="no",
        prechat_0_name="name",
        prechat_0_label="Your name",
        prechat_0_required="on",
        prechat_1_name="order_number",
        prechat_1_label="Order number",
    )

    assert response.status_code == 302, response.context["form"].errors
    website.refresh_from_db()
    assert website.config["prechat"] == {
        "enabled": True,
        "phone_region": "NO",
        "fields": [
            {"name": "name", "required": True, "label": "Your name"},
            {"name": "order_number", "required": False, "label": "Order number"},
        ],
    }
    assert prechat_config(website) == {
        "fields": [
            {"name": "name", "label": "Your name", "required": True, "type": "text"},
            {"name": "order_number", "label": "Order number", "required": False, "type": "text"},
        ]
    }
    # Room for two more fields next time.
    assert "prechat_3_name" in client.get(inbox_url(website)).context["form"].fields


@pytest.mark.parametrize(
    "changes, field, problem",
    [
        ({"prechat_0_name": "two words"}, "prechat_0_name", "attribute name"),
        ({"prechat_0_name": "_internal"}, "prechat_0_name", "attribute name"),
        ({"prechat_0_name": "email", "prechat_1_name": "email"}, "prechat_1_name", "asked for twice"),
        ({}, "prechat_0_name", "at least one field"),
        ({"prechat_0_name": "phone", "prechat_phone_region": "XX"}, "prechat_phone_region", "not a country code"),
    ],
)
def test_it_refuses_a_pre_chat_form_the_widget_could_not_show(client, charlie, website, changes, field, problem):
    client.force_login(charlie)

    response = edit(client, inbox_url(website), prechat_enabled="on", **changes)

    assert problem in str(errors_of(response)[field])
    website.refresh_from_db()
    assert "prechat" not in website.config


def test_an_email_inbox_has_its_address_and_the_settings_every_channel_shares(client, charlie, alice):
    mailbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@example.com")
    client.force_login(charlie)

    page = client.get(inbox_url(mailbox))
    response = edit(client, inbox_url(mailbox), members=[str(alice.pk)], auto_assign="on", brand_color="#000000")

    assert "Embed snippet" not in page.content.decode() and "help@example.com" in page.content.decode()
    assert set(page.context["form"].fields) == {
        "name",
        "address",
        "team",
        "members",
        "auto_assign",
        "sla_first_response_minutes",
        "sla_next_response_minutes",
    }
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.config == {"auto_assign": True}
    assert list(mailbox.members.all()) == [alice]


# --- email and SMS inboxes ---------------------------------------------------------------------


def add_inbox(client, kind: str, name: str, **fields):
    return client.post(f"{INBOXES}?add={kind}", {"kind": kind, "name": name, **fields})


def test_the_add_form_offers_a_widget_email_and_sms_and_nothing_that_cannot_work_yet(client, charlie):
    client.force_login(charlie)

    page = client.get(INBOXES).content.decode()
    email = client.get(f"{INBOXES}?add=email")
    sms = client.get(f"{INBOXES}?add=sms")
    whatsapp = client.get(f"{INBOXES}?add=whatsapp")

    for kind in ["widget", "email", "sms"]:
        assert f"?add={kind}" in page
    assert "?add=whatsapp" not in page and "?add=voice" not in page
    assert set(client.get(INBOXES).context["form"].fields) == {"kind", "name", "allowed_origins"}
    assert set(email.context["form"].fields) == {"kind", "name", "address"}
    assert "Support address" in email.content.decode() and "Add email inbox" in email.content.decode()
    assert "Twilio phone number" in sms.content.decode() and "Add SMS inbox" in sms.content.decode()
    assert whatsapp.context["form"].inbox_kind == Inbox.Kind.WIDGET  # an unknown choice shows the widget's form
    assert "added in Django admin" not in page


def test_an_admin_adds_an_email_inbox_at_its_support_address(
    client, charlie, supervisor, published, django_capture_on_commit_callbacks
):
    client.force_login(charlie)

    with django_capture_on_commit_callbacks(execute=True):
        response = add_inbox(client, "email", "  Support   mail ", address="  Help@Shop.Example ")

    inbox = Inbox.objects.get()
    assert response.status_code == 302 and response["Location"] == inbox_url(inbox)
    assert (inbox.name, inbox.kind, inbox.address) == ("Support mail", Inbox.Kind.EMAIL, "help@shop.example")
    assert inbox.allowed_origins == [] and inbox.config == {}
    # Admins and supervisors see every inbox: their consoles reconnect to hear the new one.
    assert published == [(MEMBERSHIP_CHANGED, [f"agent.{charlie.pk}", f"agent.{supervisor.pk}"])]
    page = client.get(inbox_url(inbox)).content.decode()
    assert "Added Support mail" in page and 'value="help@shop.example"' in page


def test_an_admin_adds_an_sms_inbox_at_its_number_in_e164(client, charlie):
    client.force_login(charlie)

    response = add_inbox(client, "sms", "Texts", address="+47 21 99 99 99")

    inbox = Inbox.objects.get()
    assert response.status_code == 302 and response["Location"] == inbox_url(inbox)
    assert (inbox.name, inbox.kind, inbox.address) == ("Texts", Inbox.Kind.SMS, SHOP_NUMBER)


@pytest.mark.parametrize(
    "kind, address, problem",
    [
        ("email", "", "This field is required"),
        ("email", "help at shop.example", "is not an email address"),
        ("email", "help@", "is not an email address"),
        ("email", "a" * 250 + "@shop.example", "at most 254 characters"),
        ("email", "help@shop.example\r\nBcc: x@evil.example", "is not an email address"),
        ("sms", "21999999", "international form"),
        ("sms", "+47 abc", "international form"),
        ("sms", "+1", "international form"),
        ("sms", "+" + "9" * 250, "international form"),
        ("sms", "+47 21 99 99 99 99 99 99", "international form"),
    ],
)
def test_it_refuses_an_address_that_is_not_one_and_names_it(client, charlie, kind, address, problem):
    client.force_login(charlie)

    response = add_inbox(client, kind, "Support", address=address)

    assert problem in str(errors_of(response)["address"])
    assert not Inbox.objects.exists()


@pytest.mark.parametrize(
    "kind, taken, typed",
    [("email", "help@shop.example", "HELP@shop.example"), ("sms", SHOP_NUMBER, "+47 219 99 999")],
)
def test_it_refuses_an_address_another_inbox_of_the_kind_has(client, charlie, kind, taken, typed):
    first = Inbox.objects.create(name="First", kind=kind, address=taken)
    second = Inbox.objects.create(
        name="Second", kind=kind, address="help2@shop.example" if kind == "email" else "+4721000001"
    )
    client.force_login(charlie)

    created = add_inbox(client, kind, "Copy", address=typed)
    edited = edit(client, inbox_url(second), address=typed)

    for response in [created, edited]:
        assert f"the {first.get_kind_display()} inbox First has {taken} already" in str(errors_of(response)["address"])
    assert Inbox.objects.count() == 2
    second.refresh_from_db()
    assert second.address != taken


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "whatsapp", "name": "WhatsApp", "address": "+4721999999"},
        {"kind": "voice", "name": "Phone", "address": "+4721999999"},
        {"kind": "<script>", "name": "X"},
        {"name": "No kind"},
        {"kind": "email", "name": "x" * 500, "address": "help@shop.example"},
        {"kind": "widget", "name": "Shop", "address": "help@shop.example", "allowed_origins": "https://shop.example"},
    ],
)
def test_it_adds_no_inbox_of_a_kind_it_cannot_make_and_never_fails(client, charlie, fields):
    client.force_login(charlie)

    response = client.post(INBOXES, fields)

    assert response.status_code in (200, 302)
    if fields.get("kind") == "widget":  # the widget's form has no address: the stray field is ignored
        assert Inbox.objects.get().address == ""
    else:
        assert errors_of(response) and not Inbox.objects.exists()


def test_agents_and_supervisors_cannot_add_or_readdress_an_inbox(client, alice, supervisor):
    texts = Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address=SHOP_NUMBER)
    for who in [alice, supervisor]:
        client.force_login(who)

        assert add_inbox(client, "sms", "Mine", address="+4721000001").status_code == 403
        assert client.post(inbox_url(texts), {"name": "Mine", "address": "+4721000001"}).status_code == 403

    assert list(Inbox.objects.values_list("name", "address")) == [("Texts", SHOP_NUMBER), ("Website", "")]


def test_an_admin_changes_an_sms_inboxs_number_and_an_email_inboxs_address(client, charlie):
    texts = Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address=SHOP_NUMBER)
    mailbox = Inbox.objects.create(name="Mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    client.force_login(charlie)

    assert edit(client, inbox_url(texts), address="+47 21 00 00 09").status_code == 302
    assert edit(client, inbox_url(mailbox), address="Care@Shop.Example").status_code == 302
    refused = edit(client, inbox_url(texts), address="0047 not a number")

    assert "international form" in str(errors_of(refused)["address"])
    texts.refresh_from_db()
    mailbox.refresh_from_db()
    assert (texts.address, mailbox.address) == ("+4721000009", "care@shop.example")


def test_it_tells_the_admin_what_whoever_runs_parley_must_still_set(client, charlie, settings):
    settings.PARLEY_SMTP = {"url": None, "mail_from": None}
    settings.PARLEY_TWILIO = twilio_settings(None, account_sid=None, auth_token=None)
    mailbox = Inbox.objects.create(name="Mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    texts = Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address=SHOP_NUMBER)
    client.force_login(charlie)

    listing = client.get(INBOXES).content.decode()
    for url, channel in [(inbox_url(mailbox), "email"), (inbox_url(texts), "sms")]:
        for page in [
            listing,
            client.get(url).content.decode(),
            client.get(f"{INBOXES}?add={channel}").content.decode(),
        ]:
            if channel == "email":
                assert (
                    "Replies cannot go out by email until whoever runs Parley sets SMTP_URL and PARLEY_MAIL_FROM"
                    in page
                )
            else:
                assert "Texts cannot go out or come in until whoever runs Parley sets TWILIO_ACCOUNT_SID" in page

    settings.PARLEY_SMTP = {"url": "smtp://mail.shop.example:587?starttls=1", "mail_from": "parley@shop.example"}
    settings.PARLEY_TWILIO = twilio_settings(None)
    settings.PUBLIC_BASE_URL = "https://chat.shop.example"
    listing = client.get(INBOXES).content.decode()
    for page in [
        listing,
        client.get(inbox_url(mailbox)).content.decode(),
        client.get(inbox_url(texts)).content.decode(),
    ]:
        assert 'class="notice"' not in page
    assert "parley@shop.example" in listing  # the sender replies really leave from


def test_it_warns_that_twilio_cannot_reach_a_loopback_address(client, charlie, settings):
    settings.PARLEY_TWILIO = twilio_settings(None)
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    texts = Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address=SHOP_NUMBER)
    client.force_login(charlie)

    assert (
        "Twilio cannot reach http://127.0.0.1:8000, a loopback address" in client.get(inbox_url(texts)).content.decode()
    )


def test_an_sms_inbox_shows_the_webhook_url_to_paste_into_twilio_with_copy(client, charlie, settings):
    settings.PUBLIC_BASE_URL = "https://chat.shop.example"
    texts = Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address=SHOP_NUMBER)
    client.force_login(charlie)

    for page in [client.get(INBOXES).content.decode(), client.get(inbox_url(texts)).content.decode()]:
        assert (
            f'id="webhook-{texts.pk}" class="snippet-code" type="text" value="https://chat.shop.example/channels/twilio/sms/"'
            in page
        )
        assert f'data-copy="webhook-{texts.pk}"' in page


def test_an_sms_inbox_added_in_settings_receives_twilios_webhook_into_a_conversation(
    client, charlie, settings, django_capture_on_commit_callbacks
):
    settings.PARLEY_TWILIO = twilio_settings(None)
    client.force_login(charlie)
    add_inbox(client, "sms", "Texts", address="+47 21 99 99 99")
    texts = Inbox.objects.get()
    webhook = client.get(inbox_url(texts)).context["webhook_url"]
    client.logout()

    fields = {"MessageSid": "SM" + "3c" * 16, "From": VERA_PHONE, "To": SHOP_NUMBER, "Body": "Where is my parcel?"}
    with django_capture_on_commit_callbacks(execute=True):
        response = post_as_twilio(client, urlsplit(webhook).path, fields)

    assert response.status_code == 200
    entry = TimelineEntry.objects.get(inbox=texts)
    assert (entry.body, entry.direction) == ("Where is my parcel?", "in")
    assert Conversation.objects.get(inbox=texts).pk == entry.conversation_id


def test_the_demo_admin_adds_every_kind_of_inbox_in_settings(client):
    call_command("seed_demo", stdout=StringIO())
    client.force_login(Agent.objects.get(username="demo"))

    assert add_inbox(client, "widget", "Shop", allowed_origins="https://shop.example").status_code == 302
    assert add_inbox(client, "email", "Mail", address="help@shop.example").status_code == 302
    assert add_inbox(client, "sms", "Texts", address=SHOP_NUMBER).status_code == 302
    texts = Inbox.objects.get(kind=Inbox.Kind.SMS)
    assert edit(client, inbox_url(texts), address="+4721000009").status_code == 302
    # Django admin stays a fallback for superusers, which the demo's admin is.
    assert client.get(f"/admin/contact_center/inbox/{texts.pk}/change/").status_code == 200


def test_membership_changes_what_the_agent_sees_and_reconnects_their_consoles(
    client, charlie, website, other_inbox, alice, published, django_capture_on_commit_callbacks
):
    do_receive_inbound(visitor_envelope(website, body="On the website"))
    do_receive_inbound(visitor_envelope(other_inbox, visitor="victor", body="On the partner site", external_id="p1"))
    agent = Client()
    agent.force_login(alice)

    def alice_sees() -> set[str]:
        rows = agent.get("/console/api/conversations/").json()["conversations"]
        return {row["inbox"]["name"] for row in rows}

    assert alice_sees() == {"Website"}
    client.force_login(charlie)
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        edit(client, inbox_url(website), members=[])
        edit(client, inbox_url(other_inbox), members=[str(alice.pk)])

    assert alice_sees() == {"Partner site"}
    assert published == [(MEMBERSHIP_CHANGED, [f"agent.{alice.pk}"])] * 2


def test_an_agent_removed_from_an_inbox_is_unassigned_from_its_open_conversations(
    client, charlie, website, alice, published, django_capture_on_commit_callbacks
):
    conversation = do_receive_inbound(visitor_envelope(website)).entry.conversation
    Conversation.objects.filter(pk=conversation.pk).update(assignee=alice)
    client.force_login(charlie)

    with django_capture_on_commit_callbacks(execute=True):
        edit(client, inbox_url(website), members=[])

    conversation.refresh_from_db()
    assert conversation.assignee is None
    line = TimelineEntry.objects.filter(conversation=conversation).latest("seq")
    assert line.body == "Unassigned from Alice (can no longer see this inbox)"
    assert line.payload == {"event": "assignment", "from": alice.pk, "to": None}
    assert any(event["type"] == "entry.created" for event, _ in published)


# --- agents -------------------------------------------------------------------------------------


def new_agent(**changes) -> dict:
    return {
        "username": "dana",
        "display_name": "Dana",
        "email": "dana@example.com",
        "role": "agent",
        "password1": "a long passphrase",
        "password2": "a long passphrase",
        "max_open_conversations": "5",
        **changes,
    }


def test_an_admin_adds_an_agent_who_then_signs_in(client, charlie, website, support):
    client.force_login(charlie)

    response = client.post(NEW_AGENT, new_agent(inboxes=[str(website.pk)], teams=[str(support.pk)]))

    assert response.status_code == 302 and response["Location"] == AGENTS
    dana = Agent.objects.get(username="dana")
    assert (dana.display_name, dana.email, dana.role, dana.max_open_conversations) == (
        "Dana",
        "dana@example.com",
        "agent",
        5,
    )
    assert list(dana.inboxes.all()) == [website] and list(dana.teams.all()) == [support]
    assert Client().login(username="dana", password="a long passphrase")
    page = client.get(AGENTS).content.decode()
    assert "Added dana" in page and "Website" in page and "Support" in page


@pytest.mark.parametrize(
    "changes, field, problem",
    [
        ({"username": "ALICE"}, "username", "taken"),
        ({"username": "two words"}, "username", "Enter a valid username"),
        ({"password2": "another passphrase"}, "password2", "differ"),
        ({"password1": "short", "password2": "short"}, "password1", "too short"),
        ({"password1": "password123", "password2": "password123"}, "password1", "too common"),
        ({"email": "not an email"}, "email", "valid email"),
        ({"max_open_conversations": "0"}, "max_open_conversations", "greater than or equal to 1"),
        ({"role": "owner"}, "role", "Select a valid choice"),
    ],
)
def test_it_refuses_a_new_agent_naming_the_problem(client, charlie, alice, changes, field, problem):
    client.force_login(charlie)

    response = client.post(NEW_AGENT, new_agent(**changes))

    assert problem in str(errors_of(response)[field])
    assert not Agent.objects.filter(username="dana").exists()


def test_an_admin_edits_an_agent(client, charlie, alice, website, other_inbox, support):
    client.force_login(charlie)

    response = edit(
        client,
        agent_url(alice),
        display_name="Alice L.",
        email="alice@example.com",
        role="supervisor",
        inboxes=[str(other_inbox.pk)],
        teams=[str(support.pk)],
        max_open_conversations="",
        avatar_url="https://cdn.example/alice.png",
    )

    assert response.status_code == 302, response.context["form"].errors
    alice.refresh_from_db()
    assert (alice.display_name, alice.email, alice.role, alice.avatar_url) == (
        "Alice L.",
        "alice@example.com",
        "supervisor",
        "https://cdn.example/alice.png",
    )
    assert alice.max_open_conversations is None
    assert list(alice.inboxes.all()) == [other_inbox] and list(alice.teams.all()) == [support]


def test_it_refuses_a_picture_that_is_not_https(client, charlie, alice):
    client.force_login(charlie)

    response = edit(client, agent_url(alice), avatar_url="javascript:alert(1)")

    assert "https://" in str(errors_of(response)["avatar_url"])
    alice.refresh_from_db()
    assert alice.avatar_url == ""


def test_an_admin_deactivates_an_agent_who_is_signed_out_and_keeps_their_replies(client, charlie, alice, website):
    conversation = do_receive_inbound(visitor_envelope(website)).entry.conversation
    reply = do_send_reply(alice, conversation.pk, "On its way")
    Conversation.objects.filter(pk=conversation.pk).update(assignee=alice)
    signed_in = Client()
    signed_in.force_login(alice)
    client.force_login(charlie)

    response = edit(client, agent_url(alice), is_active=None)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert not alice.is_active
    assert TimelineEntry.objects.get(pk=reply.pk).author == alice
    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert conversation.entries.latest("seq").body == "Unassigned from Alice (deactivated)"
    assert signed_in.get("/console/").status_code == 302
    assert not Client().login(username="alice", password="alice-password")
    assert "Deactivated" in client.get(AGENTS).content.decode()


def test_an_admin_gives_an_agent_a_new_password(client, charlie, alice):
    client.force_login(charlie)

    edit(client, agent_url(alice), password1="a brand new phrase", password2="a brand new phrase")

    assert Client().login(username="alice", password="a brand new phrase")
    assert not Client().login(username="alice", password="alice-password")


@pytest.mark.parametrize("changes", [{"role": "agent"}, {"role": "supervisor"}, {"is_active": None}])
def test_the_last_active_admin_cannot_demote_or_deactivate_themselves(client, charlie, changes):
    client.force_login(charlie)

    response = edit(client, agent_url(charlie), **changes)

    assert "you are the last active admin" in str(errors_of(response)["role"])
    charlie.refresh_from_db()
    assert (charlie.role, charlie.is_active) == ("admin", True)


def test_an_admin_steps_down_once_there_is_another_admin(client, charlie, alice):
    Agent.objects.filter(pk=alice.pk).update(role=Agent.Role.ADMIN)
    client.force_login(charlie)

    response = edit(client, agent_url(charlie), role="agent")

    assert response.status_code == 302 and response["Location"] == "/console/"
    charlie.refresh_from_db()
    assert charlie.role == "agent"
    assert client.get(AGENTS).status_code == 403


def test_a_deactivated_admin_does_not_count_as_the_other_admin(client, charlie, alice):
    Agent.objects.filter(pk=alice.pk).update(role=Agent.Role.ADMIN, is_active=False)
    client.force_login(charlie)

    response = edit(client, agent_url(charlie), role="agent")

    assert "last active admin" in str(errors_of(response)["role"])


def test_a_role_change_reconnects_the_agents_consoles(
    client, charlie, alice, published, django_capture_on_commit_callbacks
):
    client.force_login(charlie)

    with django_capture_on_commit_callbacks(execute=True):
        edit(client, agent_url(alice), role="supervisor")
        edit(client, agent_url(alice), display_name="Still Alice")

    assert published == [(MEMBERSHIP_CHANGED, [f"agent.{alice.pk}"])]


# --- teams --------------------------------------------------------------------------------------


def test_an_admin_adds_renames_and_staffs_a_team(client, charlie, alice, bob):
    client.force_login(charlie)

    assert client.post(TEAMS, {"name": "Billing", "members": [str(alice.pk)]}).status_code == 302
    team = Team.objects.get()
    assert list(team.members.all()) == [alice]

    assert client.post(team_url(team), {"name": "Billing & refunds", "members": [str(bob.pk)]}).status_code == 302
    team.refresh_from_db()
    assert team.name == "Billing & refunds" and list(team.members.all()) == [bob]
    assert "Billing &amp; refunds" in client.get(TEAMS).content.decode()


@pytest.mark.parametrize("name, problem", [("support", "already"), ("   ", "required"), ("x" * 121, "at most 120")])
def test_it_refuses_a_team_name_that_is_empty_too_long_or_taken(client, charlie, support, name, problem):
    client.force_login(charlie)

    response = client.post(TEAMS, {"name": name})

    assert problem in str(errors_of(response)["name"])
    assert Team.objects.count() == 1


def test_deleting_a_team_keeps_its_inboxes_and_conversations_without_a_team(client, charlie, website, support):
    website.team = support
    website.save(update_fields=["team"])
    conversation = do_receive_inbound(visitor_envelope(website)).entry.conversation
    Conversation.objects.filter(pk=conversation.pk).update(team=support)
    client.force_login(charlie)

    response = client.post(team_url(support), {"delete": "1"})

    assert response.status_code == 302
    assert not Team.objects.exists()
    website.refresh_from_db()
    conversation.refresh_from_db()
    assert website.team is None and conversation.team is None


# --- one's own password -------------------------------------------------------------------------


def test_an_agent_changes_their_own_password_and_stays_signed_in(client, alice):
    client.force_login(alice)
    assert "/console/password/" in client.get("/console/").content.decode()

    wrong = client.post(
        "/console/password/",
        {"old_password": "nope", "new_password1": "a fresh passphrase", "new_password2": "a fresh passphrase"},
    )
    right = client.post(
        "/console/password/",
        {
            "old_password": "alice-password",
            "new_password1": "a fresh passphrase",
            "new_password2": "a fresh passphrase",
        },
    )

    assert "old password was entered incorrectly" in wrong.content.decode()
    assert right.status_code == 302 and right["Location"] == "/console/password/done/"
    assert client.get("/console/").status_code == 200
    assert Client().login(username="alice", password="a fresh passphrase")
