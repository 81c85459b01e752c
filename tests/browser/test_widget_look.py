"""How the widget looks and reads: brand colour and side, language, keyboard, phones, reduced motion.

Entry point: the demo page with the embedded widget (``/``), the inbox's appearance set in ``Inbox.config``.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, expect

from tests.browser.test_round_trip import (
    PENDING,
    agent_writes,
    launcher,
    open_widget,
    start_conversation,
    timeline_entry,
    visitor_says,
    widget_message,
)
from tests.browser.test_widget_embedding import SocketGate

pytestmark = pytest.mark.browser

# A time as an en-US browser writes it (the tests' locale): "9:05 AM".
CLOCK = re.compile(r"^\d{1,2}:\d\d [AP]M$")
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True}
TEAL = "#0f766e"


def configure_widget(stack, **config) -> None:
    """Merge ``config`` into the demo widget inbox's config (a value of None removes the key)."""
    code = (
        "import json; from contact_center.models import Inbox; "
        "inbox = Inbox.objects.get(kind='widget'); "
        f"inbox.config.update(json.loads({json.dumps(json.dumps(config))})); "
        "inbox.config = {k: v for k, v in inbox.config.items() if v is not None}; "
        "inbox.save(update_fields=['config'])"
    )
    stack.shell(code)


def frame_of(page: Page) -> FrameLocator:
    return page.frame_locator('iframe[name="parley-frame"]')


def iframe(page: Page) -> Locator:
    return page.locator('iframe[name="parley-frame"]')


def style(locator: Locator, prop: str) -> str:
    return locator.evaluate("(node, prop) => getComputedStyle(node).getPropertyValue(prop)", prop)


def rgb(hex_color: str) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_it_paints_the_bubble_and_the_header_in_the_brand_colour_on_the_chosen_side(stack, people, screenshot):
    configure_widget(stack, brand_color=TEAL, position="left", title="Acme Outdoor help")
    visitor = people.new_page()
    visitor.goto("/")

    bubble = launcher(visitor)
    expect(bubble).to_be_visible()
    assert style(bubble, "background-color") == rgb(TEAL)
    assert style(bubble, "color") == "rgb(255, 255, 255)"
    assert bubble.bounding_box()["x"] < 100

    widget = open_widget(visitor)
    header = widget.locator("header")
    assert style(header, "background-color") == rgb(TEAL)
    expect(header.get_by_role("heading")).to_have_text("Acme Outdoor help")
    expect(header.locator(".mark")).to_have_text("AO")
    frame_box = iframe(visitor).bounding_box()
    assert frame_box["x"] < 100
    assert frame_box["x"] + frame_box["width"] < visitor.viewport_size["width"] / 2

    mine = visitor_says(widget, "Do you ship to Norway?")
    expect(mine).not_to_have_class(PENDING)
    expect(mine).to_have_css("background-color", rgb(TEAL))
    screenshot(visitor, "widget-brand")


def test_it_greets_the_visitor_before_the_first_message(stack, people):
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)

    # seed_demo's inbox has its own greeting; it shows in the conversation area, outside the message list.
    greeting = widget.get_by_role("log").get_by_text("Hi there! Ask us anything, we usually reply in minutes.")
    expect(greeting).to_be_visible()
    expect(widget.get_by_role("list", name="Conversation").get_by_role("listitem")).to_have_count(0)


def test_it_speaks_german_to_a_german_browser(stack, people, screenshot):
    configure_widget(stack, greeting=None)
    visitor = people.new_page(locale="de-DE")
    visitor.goto("/")
    visitor.get_by_role("button", name="Chatten Sie mit uns").click()
    widget = frame_of(visitor)

    textbox = widget.get_by_role("textbox", name="Nachricht")
    expect(textbox).to_be_visible()
    expect(textbox).to_have_attribute("placeholder", "Nachricht schreiben…")
    expect(widget.locator("html")).to_have_attribute("lang", "de")
    expect(widget.locator("#greeting")).to_have_text("Hallo! Fragen Sie uns einfach…")
    expect(widget.get_by_text("Wir antworten meist innerhalb weniger Minuten")).to_be_visible()
    expect(widget.get_by_role("button", name="Chat schließen")).to_be_visible()

    textbox.fill("Haben Sie die Wanderschuhe in Größe 46?")
    widget.get_by_role("button", name="Senden").click()
    sent = widget.get_by_role("list", name="Unterhaltung").get_by_role("listitem").filter(has_text="Größe 46")
    expect(sent).not_to_have_class(PENDING)
    # The day and the time in the visitor's own words and clock.
    expect(widget.locator("#log .day")).to_have_text("Heute")
    expect(sent.locator("time")).to_have_text(re.compile(r"^\d{1,2}:\d\d$"))  # 24 hours, no AM or PM
    screenshot(visitor, "widget-german")


def test_it_speaks_the_language_the_inbox_pins_whatever_the_browser_says(stack, people):
    configure_widget(stack, locale="fr", greeting=None)
    visitor = people.new_page(locale="de-DE")
    visitor.goto("/")
    visitor.get_by_role("button", name="Discutez avec nous").click()
    widget = frame_of(visitor)

    expect(widget.get_by_role("textbox", name="Message")).to_have_attribute("placeholder", "Écrivez votre message…")
    expect(widget.get_by_role("button", name="Envoyer")).to_be_visible()
    expect(widget.locator("html")).to_have_attribute("lang", "fr")
    expect(widget.locator("#greeting")).to_have_text("Bonjour ! Posez-nous vos questions…")


def test_it_can_be_used_with_the_keyboard_alone(stack, people):
    visitor = people.new_page()
    visitor.goto("/")
    bubble = launcher(visitor)
    expect(bubble).to_be_visible()
    for _ in range(10):
        visitor.keyboard.press("Tab")
        if bubble.evaluate("b => b.getRootNode().activeElement === b"):
            break
    expect(bubble).to_be_focused()
    assert style(bubble, "outline-style") == "solid"

    visitor.keyboard.press("Enter")
    expect(bubble).to_have_attribute("aria-expanded", "true")
    expect(bubble).to_have_attribute("aria-controls", "parley-frame")
    widget = frame_of(visitor)
    textbox = widget.get_by_role("textbox", name="Message")
    expect(textbox).to_be_focused()
    assert style(textbox, "outline-style") == "solid"

    visitor.keyboard.type("My order has not arrived.")
    visitor.keyboard.press("Shift+Enter")
    visitor.keyboard.type("Number 1042.")
    visitor.keyboard.press("Enter")
    sent = widget_message(widget, "Number 1042.")
    expect(sent).not_to_have_class(PENDING)
    expect(sent.locator("p")).to_have_text("My order has not arrived.\nNumber 1042.")
    expect(textbox).to_have_value("")
    expect(textbox).to_be_focused()

    # Backwards from the composer: the conversation (scrollable, so reachable), then the header's close button.
    visitor.keyboard.press("Shift+Tab")
    expect(widget.get_by_role("log")).to_be_focused()
    visitor.keyboard.press("Shift+Tab")
    close = widget.get_by_role("button", name="Close chat")
    expect(close).to_be_focused()
    assert style(close, "outline-style") == "solid"

    visitor.keyboard.press("Escape")
    expect(bubble).to_have_attribute("aria-expanded", "false")
    expect(iframe(visitor)).to_be_hidden()
    expect(bubble).to_be_focused()

    visitor.keyboard.press("Space")
    expect(bubble).to_have_attribute("aria-expanded", "true")
    expect(textbox).to_be_focused()
    visitor.keyboard.press("Shift+Tab")
    visitor.keyboard.press("Shift+Tab")
    visitor.keyboard.press("Enter")
    expect(bubble).to_have_attribute("aria-expanded", "false")
    expect(bubble).to_be_focused()


def test_it_announces_the_conversation_and_the_status_to_screen_readers(stack, people):
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)

    log = widget.get_by_role("log")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_have_accessible_name("Acme Outdoor")  # the demo inbox's title
    expect(widget.get_by_role("status")).to_be_attached()
    # A real label, out of sight but not out of the accessibility tree.
    label = widget.locator("label[for=body]")
    expect(label).to_have_text("Message")
    assert label.evaluate("l => !l.hidden && getComputedStyle(l).display !== 'none'")


def test_it_fills_a_phone_screen_and_keeps_the_composer_in_reach(stack, people, screenshot):
    visitor = people.new_page(**PHONE)
    visitor.goto("/")
    bubble = launcher(visitor)
    bubble.tap()
    widget = frame_of(visitor)
    textbox = widget.get_by_role("textbox", name="Message")
    expect(textbox).to_be_visible()

    assert iframe(visitor).bounding_box() == {"x": 0, "y": 0, "width": 360, "height": 740}
    # The bubble would sit on the send button: on a phone the frame's own header closes it.
    expect(bubble).to_be_hidden()
    send = widget.get_by_role("button", name="Send")
    close = widget.get_by_role("button", name="Close chat")
    for target in (textbox, send, close):
        box = target.bounding_box()
        assert box["y"] + box["height"] <= 740
        assert box["x"] + box["width"] <= 360
        assert box["height"] >= 44
    for target in (send, close):
        assert target.bounding_box()["width"] >= 44
    # Whatever else the composer holds (attach, ...) is a full-size target too.
    for target in widget.locator("#composer button:visible").all():
        box = target.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, target.evaluate("b => b.outerHTML")

    textbox.fill("Can I return boots I wore once?")
    send.tap()
    expect(widget_message(widget, "Can I return boots I wore once?")).not_to_have_class(PENDING)
    screenshot(visitor, "widget-mobile")

    close.tap()
    expect(iframe(visitor)).to_be_hidden()
    expect(bubble).to_be_visible()
    expect(bubble).to_have_attribute("aria-expanded", "false")


def test_it_stops_moving_when_the_visitor_asks_for_reduced_motion(stack, people):
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    bubble = launcher(visitor)
    send = widget.get_by_role("button", name="Send")
    assert style(bubble, "transition-duration") != "0s"
    assert style(send, "transition-duration") != "0s"

    visitor.emulate_media(reduced_motion="reduce")

    assert style(bubble, "transition-duration") == "0s"
    assert style(send, "transition-duration") == "0s"
    sent = visitor_says(widget, "No animations, please.")
    assert style(sent, "animation-name") == "none"


def test_it_tells_the_visitor_when_the_connection_is_lost_and_when_it_is_back(stack, people, screenshot):
    visitor = people.new_page()
    gate = SocketGate(visitor)
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, "Hello?")).not_to_have_class(PENDING)
    status = widget.get_by_role("status")
    expect(status).to_have_text("")
    assert status.bounding_box() is None or status.bounding_box()["height"] == 0

    gate.cut()
    visitor.context.set_offline(True)
    waiting = visitor_says(widget, "Are you still there?")
    expect(status).to_have_text("Reconnecting…")
    expect(waiting).to_have_class(PENDING)
    # Not stored yet: the time it was sent.
    expect(waiting.locator("time")).to_have_text(CLOCK)
    # Waiting is drawn as an outline around full-contrast text, not as faded text.
    assert style(waiting, "color") == rgb("#111827")
    assert style(waiting, "opacity") == "1"
    screenshot(visitor, "widget-reconnecting")

    visitor.context.set_offline(False)
    gate.restore()
    expect(waiting).not_to_have_class(PENDING)
    expect(status).to_have_text("")


def test_it_draws_the_rating_survey_in_the_brand_colour(stack, people, screenshot):
    configure_widget(stack, brand_color=TEAL)
    visitor, widget, agent = start_conversation(stack, people, "That fixed it, thank you!")
    agent.get_by_role("button", name="Resolve").click()
    expect(timeline_entry(agent, "Resolved")).to_be_visible()

    survey = widget.get_by_role("group", name="How did we do?")
    expect(survey).to_be_visible()
    excellent = survey.get_by_role("radio", name="5 – Excellent")
    excellent.check()
    assert style(excellent.locator("xpath=following-sibling::span"), "background-color") == rgb(TEAL)
    survey.get_by_label("Anything to add? (optional)").fill("Quick and friendly")
    assert style(survey.get_by_role("button", name="Send rating"), "background-color") == rgb(TEAL)
    screenshot(visitor, "widget-csat")


# A 2x2 PNG, served for the agent's picture: the test machine reaches no real image host.
AVATAR_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg=="
)
AVATAR_URL = "https://avatars.shop.example/dana.png"


def test_it_shows_the_agents_picture_beside_their_replies_and_initials_without_one(stack, people):
    visitor, widget, agent = start_conversation(stack, people, "Who am I talking to?")
    visitor.context.route(AVATAR_URL, lambda route: route.fulfill(body=AVATAR_PNG, content_type="image/png"))

    agent_writes(agent, "Dana here, without a picture.")
    plain = widget_message(widget, "Dana here, without a picture.")
    expect(plain.locator("span.agent-avatar")).to_have_text("D")  # "Dana (demo)": words that start with a letter

    stack.shell(
        "from contact_center.models import Agent; "
        f"Agent.objects.filter(username='demo').update(avatar_url={AVATAR_URL!r})"
    )
    agent_writes(agent, "Dana here, with a picture.")
    pictured = widget_message(widget, "Dana here, with a picture.").locator("img.agent-avatar")
    expect(pictured).to_have_attribute("src", AVATAR_URL)
    expect(pictured).to_have_js_property("naturalWidth", 2)
    # Cropped to the circle, not squashed: a picture that is not square keeps its proportions.
    assert style(pictured, "object-fit") == "cover"


def move_back_a_day(stack, body: str) -> str:
    """Make the stored message ``body`` a day older; returns its new created_at (ISO 8601)."""
    code = (
        "from datetime import timedelta; "
        "from contact_center.models import TimelineEntry; "
        f"entry = TimelineEntry.objects.get(body={json.dumps(body)}); "
        "entry.created_at -= timedelta(days=1); "
        "entry.save(update_fields=['created_at']); "
        "print(entry.created_at.isoformat())"
    )
    return stack.shell(code).strip().splitlines()[-1]


def test_it_dates_the_conversation_by_day_and_times_each_run_of_messages(stack, people):
    visitor, widget, agent = start_conversation(stack, people, "I ordered the tent yesterday.")
    stored_at = move_back_a_day(stack, "I ordered the tent yesterday.")

    # Back the next day: the history comes again on resume, under its day.
    visitor.reload()
    widget = open_widget(visitor)
    days = widget.locator("#log .day")
    earlier = widget_message(widget, "I ordered the tent yesterday.")
    expect(days).to_have_text(["Yesterday"])
    expect(earlier.locator("time")).to_have_text(CLOCK)
    shown_at = earlier.locator("time").get_attribute("datetime")
    # The moment the server stored, to the browser's millisecond.
    shown = datetime.fromisoformat(shown_at.replace("Z", "+00:00"))
    assert abs(shown - datetime.fromisoformat(stored_at)) < timedelta(milliseconds=1)

    # A new day begins with the first message written on it, and only there.
    first = visitor_says(widget, "Has it shipped?")
    expect(first).not_to_have_class(PENDING)
    expect(days).to_have_text(["Yesterday", "Today"])
    second = visitor_says(widget, "It is order 1042.")
    expect(second).not_to_have_class(PENDING)
    expect(days).to_have_text(["Yesterday", "Today"])
    # One sender, minutes apart: one time, under the run's last message.
    expect(first.locator("time")).to_be_hidden()
    expect(second.locator("time")).to_have_text(CLOCK)

    agent_writes(agent, "It left the warehouse this morning.")
    reply = widget_message(widget, "It left the warehouse this morning.")
    expect(reply.locator("time")).to_have_text(CLOCK)
    expect(second.locator("time")).to_be_visible()
    # The day lines are not messages: the list still counts four.
    expect(widget.get_by_role("list", name="Conversation").get_by_role("listitem")).to_have_count(4)
    expect(days).to_have_count(2)


def test_it_names_the_inbox_in_the_header_unless_the_inbox_sets_a_title(stack, people):
    # The demo's inbox sets a title: without one, the inbox's name is what visitors see.
    stack.shell(
        "from contact_center.models import Inbox; inbox = Inbox.objects.get(kind='widget'); "
        "inbox.name = 'Bergen Outfitters'; inbox.config.pop('title', None); inbox.save()"
    )
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)

    header = widget.locator("header")
    expect(header.get_by_role("heading")).to_have_text("Bergen Outfitters")
    expect(header.locator(".mark")).to_have_text("BO")
    # Screen readers name the frame after the inbox too, not "Chat".
    expect(iframe(visitor)).to_have_attribute("title", "Bergen Outfitters")
    expect(widget.get_by_role("log")).to_have_accessible_name("Bergen Outfitters")

    configure_widget(stack, title="Acme help desk")
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(widget.locator("header").get_by_role("heading")).to_have_text("Acme help desk")
    expect(iframe(visitor)).to_have_attribute("title", "Acme help desk")
