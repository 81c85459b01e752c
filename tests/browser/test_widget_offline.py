"""Offline mode in a real browser: nobody is online, so the widget takes an email and a message instead of
chatting, and the agent finds the conversation in the console."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_round_trip import conversation_list, customer_name_of, launcher, sign_in, timeline_entry

pytestmark = pytest.mark.browser


def take_demo_inbox_offline(stack, **config) -> None:
    settings = {"offline_without_agents": True, **config}
    stack.shell(
        "from contact_center.models import Inbox; "
        "inbox = Inbox.objects.get(kind='widget'); "
        f"inbox.config = {{**inbox.config, **{settings!r}}}; inbox.save()"
    )


def test_it_takes_an_email_and_a_message_when_no_agent_is_online(stack, people, screenshot):
    take_demo_inbox_offline(stack)
    visitor = people.new_page()
    visitor.goto("/")
    launcher(visitor).click()
    widget = visitor.frame_locator('iframe[name="parley-frame"]')

    expect(widget.get_by_text("We’re away right now.")).to_be_visible()
    expect(widget.locator("#composer")).to_be_hidden()
    # The header no longer promises a reply in minutes.
    expect(widget.locator("header")).to_contain_text("We reply by email")
    expect(widget.locator("header")).not_to_contain_text("few minutes")
    widget.get_by_role("textbox", name="Your email").fill("not an address")
    widget.get_by_role("textbox", name="Message").fill("Do you ship to Norway?")
    widget.get_by_role("button", name="Send message").click()
    expect(widget.get_by_role("alert")).to_have_text("Please enter a valid email address.")
    widget.get_by_role("textbox", name="Your email").fill("vera@home.example")
    screenshot(visitor, "widget-offline")
    widget.get_by_role("button", name="Send message").click()
    expect(widget.get_by_text("Thanks! We’ll reply to vera@home.example.")).to_be_visible()

    agent = people.new_page()
    sign_in(agent)
    conversation_list(agent).filter(has_text=customer_name_of(stack, "Do you ship to Norway?")).click()
    expect(timeline_entry(agent, "Do you ship to Norway?")).to_be_visible()


def test_it_says_when_business_hours_open_again(stack, people):
    # Open one minute a week, at a time this test never runs: Sunday 03:00-03:01 on Kiritimati.
    take_demo_inbox_offline(
        stack, business_hours={"timezone": "Pacific/Kiritimati", "days": {"sun": [["03:00", "03:01"]]}}
    )
    visitor = people.new_page()
    visitor.goto("/")
    launcher(visitor).click()
    widget = visitor.frame_locator('iframe[name="parley-frame"]')

    expect(widget.get_by_text("We’re away. We’ll reply by email on Sunday from 03:00.")).to_be_visible()
