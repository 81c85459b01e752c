"""A visitor on the demo site and an agent in the console, each in their own browser, on one live stack.

Entry points: the demo page with the embedded widget (``/``) and the agent console (``/console/``).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.both_backends]

DEMO_LOGIN = ("demo", "parley-demo")
SEEDED_CONVERSATIONS = 3
PENDING = re.compile(r"\bpending\b")


# --- the visitor's side -------------------------------------------------------------------------


def launcher(page: Page) -> Locator:
    return page.get_by_role("button", name="Chat with us")


def open_widget(page: Page) -> FrameLocator:
    """Click the bubble on the current page; returns the conversation frame."""
    launcher(page).click()
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    widget = page.frame_locator('iframe[name="parley-frame"]')
    expect(widget.get_by_role("textbox", name="Message")).to_be_visible()
    return widget


def visitor_says(widget: FrameLocator, text: str) -> Locator:
    widget.get_by_role("textbox", name="Message").fill(text)
    widget.get_by_role("button", name="Send").click()
    return widget_message(widget, text)


def widget_message(widget: FrameLocator, text: str) -> Locator:
    return widget.get_by_role("list", name="Conversation").get_by_role("listitem").filter(has_text=text)


# --- the agent's side ---------------------------------------------------------------------------


def sign_in(page: Page, screenshot=None) -> None:
    page.goto("/console/login/")
    if screenshot:
        screenshot(page, "console-login")
    username, password = DEMO_LOGIN
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator("#connection")).to_have_text("Live")


def conversation_list(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Conversations").get_by_role("button")


def timeline_entry(page: Page, text: str) -> Locator:
    return page.locator("#timeline .entry").filter(has_text=text)


def agent_writes(page: Page, text: str, *, note: bool = False) -> None:
    page.get_by_label("Internal note").set_checked(note)
    page.locator("#reply-body").fill(text)
    # Note mode has its own button (and placeholder): nobody mistakes a note for a reply.
    page.get_by_role("button", name="Add note" if note else "Send", exact=True).click()


def customer_name_of(stack, body: str) -> str:
    """The name the console shows for the customer who wrote ``body``, read from the server's database."""
    code = (
        "from contact_center.models import TimelineEntry; "
        f"print(TimelineEntry.objects.get(body={json.dumps(body)}).conversation.customer)"
    )
    # The last line: `manage.py shell` may print its own notices (auto-imports) first.
    return stack.shell(code).strip().splitlines()[-1]


def start_conversation(stack, people, text: str) -> tuple[Page, FrameLocator, Page]:
    """A signed-in agent and a visitor whose first message ``text`` is stored; the agent has it open."""
    agent = people.new_page()
    sign_in(agent)
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, text)).not_to_have_class(PENDING)
    conversation_list(agent).filter(has_text=customer_name_of(stack, text)).click()
    expect(timeline_entry(agent, text)).to_be_visible()
    return visitor, widget, agent


# --- the specification --------------------------------------------------------------------------


def test_it_carries_a_visitor_message_to_the_agent_and_the_reply_back_and_resumes_after_reload(
    stack, people, screenshot
):
    question = "Do the alpine boots come in size 46?"
    answer = "They do! Size 46 ships tomorrow."

    agent = people.new_page()
    sign_in(agent, screenshot)
    expect(conversation_list(agent)).to_have_count(SEEDED_CONVERSATIONS)
    # Survives only as long as the console page does: proves the list updates without a reload.
    agent.evaluate("window.__sameConsolePage = true")

    visitor = people.new_page()
    visitor.goto("/")
    expect(launcher(visitor)).to_be_visible()
    screenshot(visitor, "widget-closed")
    widget = open_widget(visitor)
    mine = visitor_says(widget, question)
    # Acknowledged means stored: the pending mark goes only when the server's ack comes back.
    expect(mine).not_to_have_class(PENDING)
    expect(mine).not_to_have_attribute("aria-busy", "true")

    customer = customer_name_of(stack, question)
    new_row = conversation_list(agent).filter(has_text=customer)
    expect(new_row).to_be_visible()
    expect(conversation_list(agent)).to_have_count(SEEDED_CONVERSATIONS + 1)
    new_row.click()
    expect(timeline_entry(agent, question)).to_have_class(re.compile(r"\bin\b"))
    agent_writes(agent, answer)
    expect(timeline_entry(agent, answer)).to_have_count(1)

    reply = widget_message(widget, answer)
    expect(reply).to_be_visible()
    expect(reply).to_contain_text("Dana (demo)")
    expect(mine).not_to_have_class(PENDING)
    screenshot(visitor, "widget-open")
    assert agent.evaluate("window.__sameConsolePage") is True

    visitor.reload()
    widget = open_widget(visitor)
    expect(widget_message(widget, question)).to_have_count(1)
    expect(widget_message(widget, answer)).to_have_count(1)
    expect(widget_message(widget, question)).not_to_have_class(PENDING)
    expect(widget.get_by_role("list", name="Conversation").get_by_role("listitem")).to_have_count(2)


def test_it_shows_an_internal_note_in_the_console_and_never_in_the_widget(stack, people, screenshot):
    note = "Customer sounds upset: offer free shipping."
    answer = "Sorry for the wait! Your order ships today."
    visitor, widget, agent = start_conversation(stack, people, "Where is my order?")

    agent_writes(agent, note, note=True)
    in_console = timeline_entry(agent, note)
    expect(in_console).to_have_class(re.compile(r"\bnote\b"))
    # Only the stored entry carries its author: the optimistic copy has none.
    expect(in_console.locator(".who")).to_have_text("Dana (demo) · note")

    # The reply is written after the note, so once it has arrived the note would have too.
    agent_writes(agent, answer)
    expect(widget_message(widget, answer)).to_be_visible()
    expect(widget_message(widget, note)).to_have_count(0)
    screenshot(agent, "console")

    visitor.reload()
    widget = open_widget(visitor)
    expect(widget_message(widget, answer)).to_be_visible()
    expect(widget_message(widget, note)).to_have_count(0)
    expect(timeline_entry(agent, note)).to_have_count(1)


def test_it_counts_each_new_customer_message_once_in_the_unread_badge(stack, people):
    agent = people.new_page()
    sign_in(agent)
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)

    questions = ["Hello?", "Is anyone there?", "I need help with an order."]
    for question in questions:
        expect(visitor_says(widget, question)).not_to_have_class(PENDING)

    row = conversation_list(agent).filter(has_text=customer_name_of(stack, questions[0]))
    expect(row.locator(".unread")).to_have_text(str(len(questions)))
    expect(agent).to_have_title(f"({len(questions)}) Console · Parley")
    row.click()
    expect(row.locator(".unread")).to_have_count(0)
    for question in questions:
        expect(timeline_entry(agent, question)).to_have_count(1)
