"""Searching in the console: an agent finds what a visitor wrote and opens the conversation from the
result; an agent of another inbox finds nothing of it, not even the customer.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_console_actions import SAM, sign_in_as
from tests.browser.test_round_trip import PENDING, conversation_list, open_widget, timeline_entry, visitor_says

# The index and its queries differ between SQLite and PostgreSQL: both are driven end to end.
pytestmark = [pytest.mark.browser, pytest.mark.both_backends]

QUESTION = "Do the Ridgeline boots come in size 47?"
OUTSIDER = ("olga", "olga-password")


def visitor_writes(people, text: str) -> None:
    visitor = people.new_page()
    visitor.goto("/")
    expect(visitor_says(open_widget(visitor), text)).not_to_have_class(PENDING)


def search_for(page: Page, text: str) -> None:
    """Press / outside any text box (the shortcut), then type as an agent does."""
    page.keyboard.press("/")
    expect(page.get_by_role("searchbox", name="Search")).to_be_focused()
    page.keyboard.type(text)


def results(page: Page, kind: str):
    return page.get_by_role("region", name="Search results").get_by_role("region", name=kind).get_by_role("button")


def test_an_agent_finds_what_a_visitor_wrote_and_opens_the_conversation(stack, people, screenshot):
    visitor_writes(people, QUESTION)
    sam = people.new_page()
    sign_in_as(sam, *SAM)
    sam.keyboard.press("?")
    expect(
        sam.get_by_role("dialog", name="Keyboard shortcuts").get_by_role("row", name=re.compile("Search"))
    ).to_be_visible()
    sam.keyboard.press("Escape")

    search_for(sam, "ridgeline boo")

    found = results(sam, "Messages").filter(has_text="Ridgeline")
    expect(found).to_have_count(1)
    expect(found.locator("mark")).to_have_text(["Ridgeline", "boots"])
    expect(conversation_list(sam).first).to_be_hidden()  # the results stand in for the list
    found.click()
    expect(timeline_entry(sam, QUESTION)).to_be_visible()
    expect(timeline_entry(sam, QUESTION)).to_have_class(re.compile(r"\bsearch-hit\b"))
    screenshot(sam, "console-search")

    # A customer of the demo, by name: their latest conversation opens.
    sam.get_by_role("searchbox", name="Search").fill("hopper")
    grace = results(sam, "Customers").filter(has_text="Grace Hopper")
    expect(grace).to_have_count(1)
    grace.click()
    expect(sam.locator("#thread-title")).to_contain_text("Grace Hopper")
    expect(timeline_entry(sam, "My order #1042 hasn't shipped yet.")).to_be_visible()

    # Esc in the box: back to the list.
    sam.get_by_role("searchbox", name="Search").press("Escape")
    expect(sam.get_by_role("region", name="Search results")).to_be_hidden()
    expect(conversation_list(sam).filter(has_text="Grace Hopper")).to_be_visible()


def test_an_agent_outside_the_inbox_finds_nothing_of_it(stack, people):
    visitor_writes(people, QUESTION)
    # An agent of another team's inbox only.
    stack.shell(
        "from contact_center.models import Agent, Inbox; "
        f"olga = Agent.objects.create_user({OUTSIDER[0]!r}, password={OUTSIDER[1]!r}, display_name='Olga'); "
        "Inbox.objects.create(name='Partner desk', kind='email', address='desk@partner.example').members.add(olga)"
    )
    olga = people.new_page()
    sign_in_as(olga, *OUTSIDER)

    search_for(olga, "Ridgeline")
    expect(olga.get_by_role("status").filter(has_text="Nothing found for “Ridgeline”")).to_be_visible()

    olga.get_by_role("searchbox", name="Search").fill("Grace Hopper")
    expect(olga.get_by_role("status").filter(has_text="Nothing found for “Grace Hopper”")).to_be_visible()
    expect(olga.locator(".search-result")).to_have_count(0)
