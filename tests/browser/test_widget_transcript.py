"""The transcript by email, from the visitor's click to the mail a real SMTP server receives."""

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
from tests.support.smtp import SmtpSink

pytestmark = pytest.mark.browser


def test_it_emails_the_visitor_the_conversation_without_internal_notes(stack, people):
    with SmtpSink() as sink:
        stack.env.update(SMTP_URL=sink.url, PARLEY_MAIL_FROM="support@shop.example")
        stack.restart()
        agent = people.new_page()
        sign_in(agent)
        visitor = people.new_page()
        visitor.goto("/")
        widget = open_widget(visitor)
        expect(visitor_says(widget, "Can I return worn boots?")).not_to_have_class(PENDING)
        conversation_list(agent).filter(has_text=customer_name_of(stack, "Can I return worn boots?")).click()
        expect(timeline_entry(agent, "Can I return worn boots?")).to_be_visible()
        agent_writes(agent, "Internal: check the order date first", note=True)
        agent_writes(agent, "Yes, within 30 days.")
        expect(widget_message(widget, "Yes, within 30 days.")).to_be_visible()

        widget.get_by_role("button", name="Email me the transcript").click()
        widget.get_by_role("textbox", name="Your email").fill("vera@home.example")
        widget.get_by_role("button", name="Send transcript").click()
        expect(widget.get_by_text("Transcript sent to vera@home.example.")).to_be_visible()

        (mail,) = sink.wait_for(1, timeout=20)
        text = mail.get_body(preferencelist=("plain",)).get_content()
        assert mail["To"] == "vera@home.example"
        assert "Can I return worn boots?" in text
        assert "Yes, within 30 days." in text
        assert "check the order date" not in text
