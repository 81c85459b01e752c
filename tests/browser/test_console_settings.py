"""An admin finds the widget's embed snippet in the console and copies it.

Entry point: the console header's Settings link, /console/settings/inboxes/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_round_trip import sign_in

pytestmark = pytest.mark.browser


def test_it_copies_the_embed_snippet_of_a_widget_inbox_to_the_clipboard(stack, people, screenshot):
    # The demo agent is an admin (seed_demo); the key is read from the server, not from the page.
    key = (
        stack.shell(
            "from contact_center.models import Inbox; "
            "print(Inbox.objects.filter(kind='widget').order_by('name', 'pk').first().public_key)"
        )
        .strip()
        .splitlines()[-1]
    )
    admin = people.new_page(permissions=["clipboard-read", "clipboard-write"])
    sign_in(admin)

    admin.get_by_role("link", name="Settings").click()
    expect(admin).to_have_url(re.compile(r"/console/settings/inboxes/$"))
    snippet = f'<script src="{stack.url}/widget/loader.js" data-inbox="{key}" async></script>'
    box = admin.get_by_role("textbox", name="Embed snippet").first
    expect(box).to_have_value(snippet)
    expect(box).to_have_attribute("readonly", "")

    section = admin.locator("section").filter(has=box)
    section.get_by_role("button", name="Copy").click()

    expect(section.get_by_role("status")).to_have_text("Copied")
    assert admin.evaluate("navigator.clipboard.readText()") == snippet
    screenshot(admin, "console-inbox-snippet")
