"""An admin staffs an inbox from Console → Settings, and sets its business hours.

Entry points: Settings → Agents (/console/settings/agents/) and Settings → Inboxes → Edit
(/console/settings/inboxes/<id>/). The new agent's console, open while the admin adds them to the inbox,
must show the inbox's conversations without a reload.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_actions import sign_in_as
from tests.browser.test_round_trip import SEEDED_CONVERSATIONS, conversation_list, sign_in

pytestmark = pytest.mark.browser

MAYA = ("maya", "a long passphrase for maya")


def inbox_config(stack) -> dict:
    code = (
        "import json; from contact_center.models import Inbox; "
        "print(json.dumps(Inbox.objects.get(name='Website chat').config))"
    )
    return json.loads(stack.shell(code).strip().splitlines()[-1])


def test_an_admin_adds_an_agent_to_the_website_inbox_who_then_sees_its_conversations(stack, people, screenshot):
    admin = people.new_page()
    sign_in(admin)  # the demo agent is an admin (seed_demo)
    admin.get_by_role("link", name="Settings").click()
    admin.get_by_role("link", name="Agents").click()
    expect(admin).to_have_url(re.compile(r"/console/settings/agents/$"))
    admin.get_by_role("link", name="Add an agent").click()

    admin.get_by_label("Username").fill(MAYA[0])
    admin.get_by_label("Display name").fill("Maya")
    admin.get_by_label("Email", exact=True).fill("maya@example.com")
    admin.get_by_label("Role").select_option(label="Agent")
    admin.get_by_label("Initial password", exact=True).fill(MAYA[1])
    admin.get_by_label("Initial password again").fill(MAYA[1])
    admin.get_by_label("Capacity").fill("4")
    admin.get_by_role("button", name="Add agent").click()

    expect(admin.get_by_role("status")).to_contain_text("Added maya")
    row = admin.get_by_role("row").filter(has_text="maya@example.com")
    expect(row).to_contain_text("Agent")
    expect(row).to_contain_text("none")  # no inbox yet
    expect(row).to_contain_text("4")
    screenshot(admin, "settings-agents")

    # Maya signs in before she is in any inbox: nothing to see yet.
    maya = people.new_page()
    sign_in_as(maya, *MAYA)
    expect(conversation_list(maya)).to_have_count(0)
    maya.evaluate("window.__sameConsolePage = true")

    admin.get_by_role("link", name="Inboxes").click()
    admin.get_by_role("link", name="Edit Website chat").click()
    admin.get_by_label("Maya · maya").check()
    screenshot(admin, "settings-inbox-edit")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("status").filter(has_text="Saved")).to_have_text("Saved Website chat.")

    # Her open console reconnects by itself (membership.changed) and lists the inbox's conversations.
    expect(conversation_list(maya)).to_have_count(SEEDED_CONVERSATIONS)
    expect(maya.locator("#connection")).to_have_text("Live")
    assert maya.evaluate("window.__sameConsolePage") is True
    conversation_list(maya).first.click()
    expect(maya.locator("#timeline .entry").first).to_be_visible()

    # Taken out again: the list empties and the open conversation says why, still without a reload.
    admin.get_by_label("Maya · maya").uncheck()
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("status").filter(has_text="Saved")).to_have_text("Saved Website chat.")
    expect(conversation_list(maya)).to_have_count(0)
    expect(maya.locator("#empty")).to_contain_text("That conversation is in an inbox you can no longer see.")
    assert maya.evaluate("window.__sameConsolePage") is True


def test_an_admin_sets_the_website_inboxs_business_hours(stack, people):
    admin = people.new_page()
    sign_in(admin)
    admin.goto("/console/settings/inboxes/")
    admin.get_by_role("link", name="Edit Website chat").click()

    admin.get_by_label("Live chat only during business hours").check()
    admin.get_by_label("Time zone").select_option("Europe/Oslo")
    for day in ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]:
        admin.get_by_label(f"{day} opens", exact=True).fill("09:00")
        admin.get_by_label(f"{day} closes", exact=True).fill("17:00")
    admin.get_by_label("Saturday opens", exact=True).fill("10:00")
    admin.get_by_label("Saturday closes", exact=True).fill("14:00")
    # A half-typed range is refused with the reason, and nothing is saved.
    admin.get_by_label("Sunday opens", exact=True).fill("12:00")
    admin.get_by_role("button", name="Save").click()

    expect(admin.get_by_role("alert")).to_contain_text("Nothing was saved")
    expect(admin.get_by_role("table", name="Opening hours by day")).to_contain_text("give both times, or neither")
    assert "business_hours" not in inbox_config(stack)

    admin.get_by_label("Sunday opens", exact=True).fill("")
    admin.get_by_label("Also go offline when no member of this inbox is online").check()
    admin.get_by_role("button", name="Save").click()

    expect(admin.get_by_role("status").filter(has_text="Saved")).to_have_text("Saved Website chat.")
    weekday = [["09:00", "17:00"]]
    config = inbox_config(stack)
    assert config["business_hours"] == {
        "timezone": "Europe/Oslo",
        "days": {**dict.fromkeys(["mon", "tue", "wed", "thu", "fri"], weekday), "sat": [["10:00", "14:00"]]},
    }
    assert config["offline_without_agents"] is True
    assert config["greeting"]  # the demo's greeting, which the form did not touch, is kept
    expect(admin.get_by_label("Monday opens", exact=True)).to_have_value("09:00")


def test_an_admin_adds_an_email_inbox_in_settings(stack, people):
    admin = people.new_page()
    sign_in(admin)  # the demo's admin
    admin.get_by_role("link", name="Settings").click()
    admin.get_by_role("link", name="Inboxes").click()
    admin.get_by_role("navigation", name="Kind of inbox").get_by_role("link", name="Email").click()

    admin.get_by_label("Name").fill("Support mail")
    admin.get_by_label("Support address").fill("help at shop.example")
    admin.get_by_role("button", name="Add email inbox").click()
    # The browser's own check of type=email stops a bad address first; the server's names the problem too.
    admin.get_by_label("Support address").evaluate("input => input.form.noValidate = true")
    admin.get_by_role("button", name="Add email inbox").click()
    expect(admin.locator("#add-inbox .errorlist")).to_contain_text("is not an email address")

    admin.get_by_label("Support address").fill("Help@Shop.Example")
    admin.get_by_role("button", name="Add email inbox").click()

    expect(admin.get_by_role("status").filter(has_text="Added")).to_contain_text("Added Support mail")
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Support mail")
    expect(admin.get_by_label("Support address")).to_have_value("help@shop.example")
    # The live stack sets no SMTP_URL: the page says replies cannot go out yet, and why.
    expect(admin.locator(".notice")).to_contain_text("SMTP_URL")
    code = (
        "from contact_center.models import Inbox; "
        "print(list(Inbox.objects.filter(kind='email', name='Support mail').values_list('name', 'address')))"
    )
    assert stack.shell(code).strip().splitlines()[-1] == "[('Support mail', 'help@shop.example')]"
