"""What the console shows at a glance (issue 12): rows with the newest message, its time and channel,
an unmistakable internal-note mode, activity as compact grouped lines, empty states that say what to do,
a dark theme that follows the system, and nothing wrapping on a laptop screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_actions import view_tab
from tests.browser.test_round_trip import (
    agent_writes,
    conversation_list,
    customer_name_of,
    sign_in,
    start_conversation,
    timeline_entry,
)

pytestmark = [pytest.mark.browser]

NOTE_PLACEHOLDER = re.compile(r"^Internal note \(only agents see this\)")


def test_a_row_shows_the_newest_message_who_wrote_it_when_and_on_which_channel(stack, people):
    question = "Do you ship to Iceland?"
    _, _, dana = start_conversation(stack, people, question)
    row = conversation_list(dana).filter(has_text=customer_name_of(stack, question))

    # The tabs' numbers say what they count.
    expect(view_tab(dana, "All")).to_have_attribute("title", re.compile(r"^\d+ open conversations? in your inboxes"))
    expect(view_tab(dana, "Unassigned")).to_have_attribute("title", re.compile(r"assigned to nobody, \d+ with unread"))
    expect(row.locator(".row-preview")).to_have_text(question)
    expect(row.locator(".row-time")).to_have_text("now")
    expect(row.locator("svg.icon-widget")).to_have_count(1)
    expect(row.locator(".row-avatar")).to_have_attribute("data-initials", re.compile(r"^[A-Z0-9]{1,2}$"))

    agent_writes(dana, "We do, in 3-5 days.")
    expect(row.locator(".row-preview")).to_have_text("We do, in 3-5 days.")
    expect(row.locator(".row-who-agent svg")).to_have_attribute("aria-label", "Reply")

    # An agent taking it puts their initials on the row, beside their name.
    dana.get_by_role("button", name="Assign to me").click()
    expect(row.locator(".row-assignee")).to_have_text("Dana (demo)")
    expect(row.locator(".assignee-avatar")).to_have_attribute("data-initials", "D")


def test_note_mode_is_unmistakable_and_the_box_returns_to_replies_after_a_note(stack, people, screenshot):
    _, _, dana = start_conversation(stack, people, "Can I pay by invoice?")
    form, box = dana.locator("#reply"), dana.locator("#reply-body")

    dana.get_by_label("Internal note").check()
    expect(form).to_have_class(re.compile(r"\bnote-mode\b"))
    expect(box).to_have_attribute("placeholder", NOTE_PLACEHOLDER)
    note_tint = form.evaluate("f => getComputedStyle(f).backgroundColor")
    box.fill("Check the customer's credit first")
    screenshot(dana, "console-note-mode")
    dana.get_by_role("button", name="Add note", exact=True).click()

    expect(timeline_entry(dana, "Check the customer's credit first")).to_have_class(re.compile(r"\bnote\b"))
    expect(dana.get_by_label("Internal note")).not_to_be_checked()
    expect(form).not_to_have_class(re.compile(r"\bnote-mode\b"))
    expect(box).to_have_attribute("placeholder", re.compile(r"^Reply"))
    expect(dana.get_by_role("button", name="Send", exact=True)).to_be_visible()
    assert form.evaluate("f => getComputedStyle(f).backgroundColor") != note_tint


def test_activity_is_one_line_each_and_consecutive_lines_are_grouped(stack, people):
    _, _, dana = start_conversation(stack, people, "Is the store open on Sunday?")

    dana.get_by_role("button", name="Assign to me").click()
    dana.get_by_label("Priority").select_option(label="High")

    took = timeline_entry(dana, "Dana (demo) took the conversation")
    priority = timeline_entry(dana, "Priority set to high by Dana (demo)")
    expect(priority).to_be_visible()
    # Who did it is in the sentence, not on a line of its own, and the time closes the line.
    expect(took.locator(".who")).to_have_count(0)
    expect(priority.locator("time")).to_have_text(re.compile(r"^\d{1,2}:\d{2}"))
    expect(took).not_to_have_class(re.compile(r"\bgrouped\b"))
    expect(priority).to_have_class(re.compile(r"\bgrouped\b"))


def test_empty_lists_and_an_empty_canned_menu_say_what_to_do(stack, people):
    dana = people.new_page()
    sign_in(dana)

    view_tab(dana, "@").click()
    empty = dana.get_by_role("navigation", name="Conversations").locator(".empty-state")
    expect(empty).to_contain_text("No mentions")
    expect(empty).to_contain_text("@")

    view_tab(dana, "All").click()
    dana.locator("#view-status").select_option("snoozed")
    expect(empty).to_contain_text("Nothing snoozed")

    # No canned responses saved: "/" explains where they come from.
    stack.shell("from contact_center.models import CannedResponse; CannedResponse.objects.all().delete()")
    dana.reload()
    conversation_list(dana).first.click()
    dana.locator("#reply-body").fill("/")
    expect(dana.locator("#canned-menu")).to_contain_text("No canned responses yet")
    expect(dana.locator("#canned-menu")).to_contain_text("Settings → Canned responses")
    dana.locator("#reply-body").press("Escape")
    expect(dana.locator("#canned-menu")).to_be_hidden()


def luminance(rgb: str) -> float:
    red, green, blue = (int(n) for n in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def test_the_console_follows_the_systems_dark_setting(stack, people, screenshot):
    light, dark = people.new_page(color_scheme="light"), people.new_page(color_scheme="dark")
    for page in (light, dark):
        sign_in(page)
        conversation_list(page).first.click()
    expect(dark.locator("#timeline .entry").first).to_be_visible()
    screenshot(dark, "console-dark")

    def looks(page):
        return {
            part: luminance(page.locator(selector).evaluate("n => getComputedStyle(n).backgroundColor"))
            for part, selector in {"page": "body", "list": ".sidebar", "composer": "#reply"}.items()
        }

    assert all(value > 0.85 for value in looks(light).values()), looks(light)
    assert all(value < 0.25 for value in looks(dark).values()), looks(dark)
    # Text stays readable on it.
    text = luminance(dark.locator("#timeline .entry .body").first.evaluate("n => getComputedStyle(n).color"))
    assert text > 0.6


@pytest.mark.parametrize("width", [1280, 1440])
def test_nothing_wraps_on_a_laptop_screen(stack, people, width):
    dana = people.new_page(viewport={"width": width, "height": 800})
    sign_in(dana)
    conversation_list(dana).first.click()
    expect(dana.locator("#timeline .entry").first).to_be_visible()

    # One line each: the header, the view tabs, every row's name and meta line, the actions bar.
    one_line = {
        "header": ".topbar",
        "view tabs": ".view-tabs",
        "thread actions": "#thread-actions",
        "thread heading": ".thread-head",
    }
    for part, selector in one_line.items():
        height = dana.locator(selector).evaluate("n => n.getBoundingClientRect().height")
        assert height <= 56, f"{part} is {height}px high at {width}px: it wraps"
    for line in dana.locator("#conversations .row-top, #conversations .row-meta").all():
        assert line.evaluate("n => n.scrollHeight <= 24"), line.inner_text()
