"""Self-service before the first message: suggested articles as a visitor types, read in the widget,
"This answered my question" (a deflection, no conversation) and "I still need help" (back to chat).

Entry point: the demo page with the embedded widget (``/``); the help articles are seeded by ``seed_demo``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import FrameLocator, Locator, expect

from tests.browser.test_round_trip import PENDING, SEEDED_CONVERSATIONS, launcher, open_widget, widget_message

pytestmark = pytest.mark.browser

QUESTION = "When will my shipping arrive in Norway?"
SHIPPING = "How long does shipping take?"


def composer(widget: FrameLocator) -> Locator:
    return widget.get_by_role("textbox", name="Message")


def suggestions(widget: FrameLocator) -> Locator:
    return widget.get_by_role("list", name="Suggested articles").get_by_role("button")


def count(stack, query: str) -> int:
    """``query`` evaluated in the server's database, with ``E`` the suggestion events and ``C`` the conversations."""
    imports = "from kb.models import SuggestionEvent as E; from contact_center.models import Conversation as C"
    # The last line: `manage.py shell` may print its own notices first.
    return int(stack.shell(f"{imports}; print({query})").strip().splitlines()[-1])


def ask(people) -> FrameLocator:
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    composer(widget).fill(QUESTION)
    return widget


def test_it_suggests_articles_while_the_visitor_types_and_a_deflection_ends_without_a_conversation(
    stack, people, screenshot
):
    widget = ask(people)

    expect(suggestions(widget).first).to_have_accessible_name(SHIPPING)
    expect(suggestions(widget)).to_have_count(1)
    expect(suggestions(widget).first).to_contain_text("Orders placed before 2 pm")
    screenshot(widget.owner.page, "widget-suggestions")

    suggestions(widget).first.click()
    article = widget.get_by_role("region", name=SHIPPING)
    expect(article).to_contain_text("Shipping to the rest of Europe takes 3 to 5 working days")
    expect(article.get_by_role("heading", name=SHIPPING)).to_be_focused()
    expect(composer(widget)).to_be_hidden()

    article.get_by_role("button", name="This answered my question").click()

    expect(widget.get_by_role("list", name="Conversation")).to_contain_text("Glad that helped!")
    expect(composer(widget)).to_have_value("")
    expect(composer(widget)).to_be_focused()
    expect(suggestions(widget)).to_have_count(0)
    assert count(stack, f"E.objects.filter(kind='answered', query={QUESTION!r}).count()") == 1
    assert count(stack, "C.objects.count()") == SEEDED_CONVERSATIONS


def test_it_goes_back_to_chat_with_the_question_kept_when_the_visitor_still_needs_help(stack, people):
    widget = ask(people)
    expect(suggestions(widget).first).to_have_accessible_name(SHIPPING)

    # By keyboard: the suggestions come just before the message box.
    composer(widget).press("Shift+Tab")
    expect(suggestions(widget).last).to_be_focused()
    suggestions(widget).last.press("Enter")
    article = widget.get_by_role("region", name=SHIPPING)
    expect(article.get_by_role("heading", name=SHIPPING)).to_be_focused()
    article.get_by_role("button", name="I still need help").click()

    expect(article).to_be_hidden()
    expect(composer(widget)).to_have_value(QUESTION)
    expect(composer(widget)).to_be_focused()
    expect(suggestions(widget)).to_have_count(0)
    assert count(stack, "C.objects.count()") == SEEDED_CONVERSATIONS  # nothing was sent by itself
    assert count(stack, "E.objects.filter(kind='need_help').count()") == 1

    widget.get_by_role("button", name="Send").click()

    expect(widget_message(widget, QUESTION)).not_to_have_class(PENDING)
    assert count(stack, "C.objects.count()") == SEEDED_CONVERSATIONS + 1


def test_it_offers_back_to_the_suggestions_without_deciding(stack, people):
    widget = ask(people)
    suggestions(widget).first.click()
    article = widget.get_by_role("region", name=SHIPPING)

    article.get_by_role("button", name="Back").click()

    expect(article).to_be_hidden()
    expect(suggestions(widget).first).to_be_focused()
    expect(composer(widget)).to_have_value(QUESTION)
    assert count(stack, "E.objects.exclude(kind__in=['shown', 'opened']).count()") == 0


def test_it_suggests_for_a_question_typed_before_a_new_visitor_had_their_session(stack, people):
    visitor = people.new_page()
    held = []  # the session request, answered only once the question is typed
    visitor.context.route("**/widget/api/session/", lambda route: held.append(route))
    visitor.goto("/")
    launcher(visitor).click()
    widget = visitor.frame_locator('iframe[name="parley-frame"]')
    composer(widget).fill(QUESTION)
    while not held:
        visitor.wait_for_timeout(50)

    held[0].continue_()

    expect(suggestions(widget).first).to_have_accessible_name(SHIPPING)
