"""Live signals between the widget and the console, and the satisfaction survey, in real browsers.

Entry points: the demo page with the embedded widget (``/``) and the agent console (``/console/``).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_round_trip import (
    PENDING,
    agent_writes,
    open_widget,
    start_conversation,
    timeline_entry,
    widget_message,
)

pytestmark = pytest.mark.browser

AGENT = "Dana (demo)"


def reply_box(page):
    return page.locator("#reply-body")


def test_it_shows_the_visitor_that_the_agent_is_typing_a_reply_but_not_a_note(stack, people):
    visitor, widget, agent = start_conversation(stack, people, "Are the rain jackets waterproof?")
    typing = widget.get_by_text(f"{AGENT} is typing…")

    reply_box(agent).fill("Yes, they are rated")
    expect(typing).to_be_visible()
    # Switching to a note withdraws the indicator at once, and nothing is sent while writing one.
    agent.get_by_label("Internal note").check()
    expect(typing).to_be_hidden()
    reply_box(agent).fill("Yes, they are rated 20,000 mm; check stock first")
    agent.wait_for_timeout(2500)
    expect(typing).to_be_hidden()

    agent.get_by_label("Internal note").uncheck()
    expect(typing).to_be_visible()
    agent_writes(agent, "Yes, they are rated 20,000 mm.")
    expect(widget_message(widget, "Yes, they are rated 20,000 mm.")).to_be_visible()
    expect(typing).to_be_hidden()


def test_it_shows_the_agent_what_the_visitor_is_typing_until_it_is_sent(stack, people):
    visitor, widget, agent = start_conversation(stack, people, "Hi, a question about sizes")
    preview = agent.locator("#visitor-typing")

    widget.get_by_role("textbox", name="Message").fill("Do the boots run <b>small</b>?")
    expect(preview).to_be_visible()
    expect(preview).to_contain_text("is typing: Do the boots run <b>small</b>?")
    widget.get_by_role("button", name="Send").click()
    expect(timeline_entry(agent, "Do the boots run <b>small</b>?")).to_be_visible()
    expect(preview).to_be_hidden()


def test_it_marks_the_visitors_message_seen_once_the_agent_opened_it_and_shows_who_replied(stack, people):
    question = "Can I change my delivery address?"
    visitor, widget, agent = start_conversation(stack, people, question)

    mine = widget_message(widget, question)
    expect(mine.locator(".seen")).to_have_text("Seen")
    agent_writes(agent, "Of course, what is the new one?")
    reply = widget_message(widget, "Of course, what is the new one?")
    expect(reply.locator(".author")).to_contain_text(AGENT)
    expect(reply.locator(".agent-avatar")).to_have_text("D")

    # A widget that comes back learns the read position from its hello.
    visitor.reload()
    widget = open_widget(visitor)
    expect(widget_message(widget, question).locator(".seen")).to_have_text("Seen")
    expect(widget.locator(".seen")).to_have_count(1)


def test_it_asks_for_a_rating_when_the_agent_resolves_and_shows_the_rating_in_the_console(stack, people):
    visitor, widget, agent = start_conversation(stack, people, "Thanks, that solved it!")

    agent.get_by_role("button", name="Resolve").click()
    expect(agent.get_by_role("button", name="Reopen")).to_be_visible()
    expect(timeline_entry(agent, "Resolved")).to_be_visible()

    survey = widget.get_by_role("group", name="How did we do?")
    expect(survey).to_be_visible()
    survey.get_by_role("radio", name="5 – Excellent").check()
    survey.get_by_label("Anything to add? (optional)").fill("Fast and friendly")
    survey.get_by_role("button", name="Send rating").click()
    expect(widget.get_by_text("Thanks for your feedback!")).to_be_visible()

    expect(timeline_entry(agent, "Rated 5/5: Fast and friendly")).to_be_visible()
    code = "from contact_center.models import SatisfactionRating; print(list(SatisfactionRating.objects.values_list("
    code += "'rating', 'comment')))"
    assert stack.shell(code).strip().splitlines()[-1] == "[(5, 'Fast and friendly')]"

    # Writing again reopens the conversation: the console follows.
    expect(visitor_says_again(widget, "One more thing…")).not_to_have_class(PENDING)
    expect(agent.get_by_role("button", name="Resolve")).to_be_visible()


def visitor_says_again(widget, text):
    widget.get_by_role("textbox", name="Message").fill(text)
    widget.get_by_role("button", name="Send").click()
    return widget_message(widget, text)
