"""The console on a phone and on a tablet: agents on the go answer customers too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_round_trip import (
    PENDING,
    agent_writes,
    conversation_list,
    customer_name_of,
    open_widget,
    sign_in,
    timeline_entry,
    visitor_says,
    widget_message,
)

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TABLET = {"viewport": {"width": 820, "height": 1180}, "has_touch": True}


def a_visitor_asks(stack, people, question: str):
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, question)).not_to_have_class(PENDING)
    return widget, customer_name_of(stack, question)


def test_on_a_phone_an_agent_goes_from_the_list_to_the_conversation_replies_and_comes_back(stack, people, screenshot):
    widget, customer = a_visitor_asks(stack, people, "Are you open on Sundays?")
    phone = people.new_page(**PHONE)
    sign_in(phone)

    # One pane at a time: the list fills the screen, the thread waits.
    row = conversation_list(phone).filter(has_text=customer)
    expect(row).to_be_visible()
    expect(phone.locator("#conversation")).to_be_hidden()
    screenshot(phone, "console-phone-list")
    row.click()
    expect(timeline_entry(phone, "Are you open on Sundays?")).to_be_visible()
    expect(phone.locator(".sidebar")).to_be_hidden()
    # The action bar folds away on a phone, one tap off.
    expect(phone.get_by_label("Assignee")).to_be_hidden()
    phone.get_by_role("button", name="Actions").click()
    phone.get_by_role("button", name="Assign to me").click()
    expect(timeline_entry(phone, "Dana (demo) took the conversation")).to_be_visible()
    phone.get_by_role("button", name="Actions").click()
    expect(phone.get_by_label("Assignee")).to_be_hidden()
    agent_writes(phone, "We are, from 10 to 4.")
    expect(widget_message(widget, "We are, from 10 to 4.")).to_be_visible()
    screenshot(phone, "console-phone-thread")

    # The customer panel is a drawer, opened on demand; the list is one tap back.
    phone.get_by_role("button", name="Customer", exact=True).click()
    drawer = phone.get_by_role("complementary", name="Customer")
    expect(drawer).to_be_in_viewport()
    drawer.get_by_role("button", name="Close").click()
    expect(drawer).not_to_be_in_viewport()
    phone.get_by_role("button", name="← Conversations").click()
    expect(row).to_be_visible()

    # Nothing is wider than the screen: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_on_a_tablet_the_list_and_the_conversation_sit_side_by_side(stack, people, screenshot):
    _, customer = a_visitor_asks(stack, people, "Do you deliver to the islands?")
    tablet = people.new_page(**TABLET)
    sign_in(tablet)

    conversation_list(tablet).filter(has_text=customer).click()

    expect(timeline_entry(tablet, "Do you deliver to the islands?")).to_be_visible()
    expect(conversation_list(tablet).filter(has_text=customer)).to_be_in_viewport()
    panel = tablet.get_by_role("complementary", name="Customer")
    expect(panel).not_to_be_in_viewport()
    tablet.get_by_role("button", name="Customer", exact=True).click()
    expect(panel).to_be_in_viewport()
    screenshot(tablet, "console-tablet")
    assert tablet.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
