"""The Content-Security-Policy in a real browser (docs/decisions.md D17): every page of Parley and the
widget frame on a customer's site work under it, with no violation, and a violation is caught.

Every browser test fails on a violation (``people`` in conftest.py); these walk the pages the other
tests do not reach and prove the catching itself works.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_round_trip import PENDING, open_widget, sign_in, start_conversation, visitor_says
from tests.browser.test_widget_resilience import foreign_site

pytestmark = pytest.mark.browser

INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.inlineRan = true";
  document.body.append(script);
  return window.inlineRan === true;
}"""


def test_it_catches_an_inline_script_in_the_console_and_in_the_widget_frame(stack, people):
    page = people.new_page()
    page.goto("/console/login/")
    with page.expect_console_message(lambda message: message.text.startswith("csp-violation: script-src")):
        assert page.evaluate(INLINE_SCRIPT) is False
    page.goto("/")
    open_widget(page)
    frame = page.frame(name="parley-frame")
    with page.expect_console_message(lambda message: message.text.startswith("csp-violation: script-src")):
        assert frame.evaluate(INLINE_SCRIPT) is False

    assert len(people.csp_violations) == 2
    people.csp_violations.clear()  # caught, as it should be: not a failure of this test


def test_it_runs_the_console_and_every_settings_page_without_a_violation(stack, people):
    visitor, widget, agent = start_conversation(stack, people, "Policy check from the widget")
    for path in [
        "/console/settings/inboxes/",
        "/console/settings/agents/",
        "/console/settings/teams/",
        "/console/settings/labels/",
        "/console/settings/canned/",
        "/console/settings/security/",
        "/console/password/",
    ]:
        agent.goto(path)
        expect(agent.locator("h1").first).to_be_visible()
    agent.goto("/console/settings/inboxes/")
    agent.get_by_role("link", name=re.compile("^Edit")).first.click()
    expect(agent.locator("h1").first).to_be_visible()

    # Label chips take their colour from a data attribute, through script: a style="" would be blocked.
    agent.goto("/console/settings/labels/")
    chip = agent.locator(".settings-page .label-chip").first
    expect(chip).to_have_attribute("data-label-color", re.compile("^#[0-9a-f]{6}$"))
    color = chip.get_attribute("data-label-color")
    assert chip.evaluate("node => node.style.getPropertyValue('--label')") == color

    # Django admin, with its own scripts (the change form's widgets and related-object popups).
    stack.shell(
        "from contact_center.models import Agent; Agent.objects.filter(username='demo').update(is_superuser=True)"
    )
    for path in ["/admin/", "/admin/contact_center/inbox/", "/admin/contact_center/inbox/1/change/"]:
        agent.goto(path)
        expect(agent.locator("#content")).to_be_visible()
    assert not people.csp_violations


def test_it_runs_the_widget_framed_by_an_allowed_customer_site_without_a_violation(stack, people):
    key = stack.shell(
        "from contact_center.models import Inbox; "
        "print(Inbox.objects.get(kind='widget', name='Website chat').public_key)"
    ).splitlines()[-1]
    loader = f'<script src="{stack.url}/widget/loader.js" data-inbox="{key}" async></script>'
    with foreign_site(f"<!doctype html><title>Shop</title>{loader}") as url:
        origin = re.match(r"https?://[^/]+", url).group(0)
        stack.shell(
            "from contact_center.models import Inbox; "
            f"Inbox.objects.filter(public_key={key!r}).update(allowed_origins=[{origin!r}])"
        )
        visitor = people.new_page()
        visitor.goto(url)
        widget = open_widget(visitor)
        expect(visitor_says(widget, "Framed by the shop")).not_to_have_class(PENDING)

    assert not people.csp_violations


def test_it_runs_the_round_trip_between_the_console_and_the_widget_on_the_demo_site(stack, people):
    agent = people.new_page()
    sign_in(agent)
    visitor = people.new_page()
    visitor.goto("/demo/hostile/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, "From the hostile page")).not_to_have_class(PENDING)

    assert not people.csp_violations
