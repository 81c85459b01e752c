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
        expect(widget.get_by_text("We’ll email the transcript to vera@home.example.")).to_be_visible()

        (mail,) = sink.wait_for(1, timeout=20)
        text = mail.get_body(preferencelist=("plain",)).get_content()
        assert mail["To"] == "vera@home.example"
        assert "Can I return worn boots?" in text
        assert "Yes, within 30 days." in text
        assert "check the order date" not in text


def without_mail(stack) -> None:
    for name in ("SMTP_URL", "SMTP_URL_FILE", "PARLEY_MAIL_FROM"):
        stack.env.pop(name, None)


def test_it_does_not_offer_the_transcript_when_no_mail_can_go_out(stack, people):
    without_mail(stack)
    stack.restart()
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, "Do you ship to Norway?")).not_to_have_class(PENDING)

    # offline.js looks every 1.5 s whether there is a conversation to offer the transcript of.
    visitor.wait_for_timeout(3000)
    expect(widget.get_by_role("button", name="Email me the transcript")).to_have_count(0)


def test_it_says_so_when_the_transcript_cannot_go_out_after_all(stack, people):
    with SmtpSink() as sink:
        stack.env.update(SMTP_URL=sink.url, PARLEY_MAIL_FROM="support@shop.example")
        stack.restart()
        visitor = people.new_page()
        visitor.goto("/")
        widget = open_widget(visitor)
        expect(visitor_says(widget, "Do you ship to Norway?")).not_to_have_class(PENDING)
        ask = widget.get_by_role("button", name="Email me the transcript")
        expect(ask).to_be_visible()

    # The frame was loaded while mail could go out; the operator has since taken SMTP_URL away.
    without_mail(stack)
    stack.restart()
    ask.click()
    widget.get_by_role("textbox", name="Your email").fill("vera@home.example")
    widget.get_by_role("button", name="Send transcript").click()

    expect(widget.get_by_role("alert")).to_have_text("Sorry, we cannot email transcripts right now.")
    expect(widget.get_by_text("vera@home.example.")).to_have_count(0)
    assert (
        stack.shell(
            "from contact_center.models import TimelineEntry; "
            "print(TimelineEntry.objects.filter(payload__event='transcript').count())"
        ).strip()
        == "0"
    )
