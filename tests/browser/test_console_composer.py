"""The console's reply box, in a real chromium on a live stack: a file the agent attaches reaches the
visitor's widget, a knowledge-base article's link goes in at the cursor, and a reply sent "via" the
customer's email address arrives at a real SMTP server on loopback (tests/support/smtp.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_round_trip import start_conversation, timeline_entry, widget_message
from tests.browser.test_widget_content import png
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser

# Made here so the live server's environment can name its port; started by the ``smtp`` fixture.
SINK = SmtpSink()
MAIL_FROM = "support@shop.example"
HELP = "https://help.shop.example/articles/{slug}"
VERA_HOME = "vera@home.example"


@pytest.fixture
def smtp():
    with SINK:
        yield SINK
    SINK.messages.clear()
    SINK.envelopes.clear()


@pytest.mark.server_env(SMTP_URL=SINK.url, PARLEY_MAIL_FROM=MAIL_FROM, PARLEY_KB_ARTICLE_URL=HELP)
def test_an_agent_sends_a_file_to_the_widget_then_an_article_link_by_email(stack, people, smtp, screenshot):
    question = "Which size should I take, and can I send them back?"
    stack.shell(
        # The only email inbox (the demo's own goes): replies by email are sent from, and signed by, this one.
        "from contact_center.models import Inbox; Inbox.objects.filter(kind='email').delete(); "
        "Inbox.objects.create(name='Support mail', kind='email', address='help@shop.example')"
    )
    visitor, widget, dana = start_conversation(stack, people, question)
    reply_box = dana.locator("#reply-body")
    # A chat whose customer has no address yet: nothing to choose.
    expect(dana.get_by_label("Reply via")).to_be_hidden()

    # A file, attached with the paperclip: a chip with its upload, then a reply made of it and a line.
    dana.locator("#attach-input").set_input_files(
        [{"name": "size-chart.png", "mimeType": "image/png", "buffer": png()}]
    )
    chip = dana.get_by_role("list", name="Files to send").get_by_role("listitem")
    expect(chip).to_have_count(1)
    expect(chip).to_have_class(re.compile(r"\bdone\b"))
    reply_box.fill("Here is our size chart.")
    reply_box.press("Enter")
    expect(chip).to_have_count(0)
    sent = timeline_entry(dana, "Here is our size chart.")
    expect(sent.get_by_role("img", name="size-chart.png")).to_be_visible()
    # The visitor's widget shows it inline; open as it is, the visitor has read it, and Dana sees so.
    expect(widget_message(widget, "Here is our size chart.").get_by_role("img", name="size-chart.png")).to_be_visible()
    expect(sent.locator(".status")).to_have_text(re.compile(r"· read$"))

    # The customer gives an email address; "Reply via" offers it, marked as the agent's word.
    panel = dana.get_by_role("complementary", name="Customer")
    panel.get_by_role("button", name="Edit").click()
    panel.get_by_label("New email or phone").fill(VERA_HOME)
    panel.get_by_role("button", name="Add address").click()
    via = dana.get_by_label("Reply via")
    expect(via).to_be_visible()
    via.select_option(label=f"Email · {VERA_HOME} (unverified)")

    # Ctrl+K in the reply box: search the knowledge base, Enter puts the article in at the cursor.
    reply_box.fill("About returns: ")
    reply_box.press("End")
    reply_box.press("Control+k")
    search = dana.get_by_role("combobox", name="Search the knowledge base")
    expect(search).to_be_focused()
    search.fill("send boots back for a refund")
    articles = dana.get_by_role("listbox", name="Articles").get_by_role("option")
    expect(articles.first).to_contain_text("Returns and refunds")
    expect(articles.first).to_have_attribute("aria-selected", "true")
    screenshot(dana, "console-composer")
    search.press("Enter")
    link = "https://help.shop.example/articles/returns-and-refunds"
    expect(reply_box).to_have_value(f"About returns: Returns and refunds: {link}")
    expect(reply_box).to_be_focused()
    reply_box.press("Enter")

    by_mail = timeline_entry(dana, "About returns")
    expect(by_mail.locator(".status")).to_contain_text(f"sent by email to {VERA_HOME}")
    expect(by_mail.locator(".status")).to_have_text(re.compile(r"· sent$"))
    [email] = smtp.wait_for(1)
    assert smtp.envelopes == [(MAIL_FROM, [VERA_HOME])]
    assert email["From"] == f"Support mail <{MAIL_FROM}>"
    assert f"About returns: Returns and refunds: {link}" in email.get_content()
