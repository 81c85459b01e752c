"""A customer's whole history in the thread, and merging two of their conversations.

Two agents and a visitor: one agent reads back into the customer's earlier conversation, merges the
live chat into it, and the other agent's list follows without a reload; the visitor goes on writing
and lands in the merged conversation.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_actions import SAM, sign_in_as
from tests.browser.test_round_trip import (
    PENDING,
    conversation_list,
    customer_name_of,
    start_conversation,
    timeline_entry,
    visitor_says,
)

pytestmark = [pytest.mark.browser, pytest.mark.both_backends]

EARLIER = "Last week: the parcel for order #1010 never arrived."


def give_an_earlier_conversation(stack, question: str) -> None:
    """The chat's customer wrote once before, a week ago, in the same website inbox (resolved since)."""
    stack.shell(
        "from datetime import timedelta; "
        "from django.db import transaction; "
        "from django.utils import timezone; "
        "from contact_center.actions.timeline import append_entry, lock_conversation; "
        "from contact_center.models import Conversation, TimelineEntry; "
        f"now = TimelineEntry.objects.get(body={question!r}); "
        "week_ago = timezone.now() - timedelta(days=7); "
        "old = Conversation.objects.create(customer=now.customer, inbox=now.inbox, status='resolved', "
        "subject='Missing parcel', last_activity_at=week_ago); "
        "atomic = transaction.atomic(); atomic.__enter__(); "
        "c = lock_conversation(old.pk); "
        f"append_entry(c, kind='message', direction='in', body={EARLIER!r}); "
        "append_entry(c, kind='message', direction='out', body='Sorry! A new one is on its way.'); "
        "append_entry(c, kind='call', direction='in', payload={'duration_seconds': 125, 'outcome': 'answered'}); "
        "atomic.__exit__(None, None, None); "
        "TimelineEntry.objects.filter(conversation=old).update(created_at=week_ago); "
        "Conversation.objects.filter(pk=old.pk).update(created_at=week_ago, last_activity_at=week_ago)"
    )


def test_an_agent_reads_back_into_the_customers_earlier_conversation_and_merges_the_chat_into_it(
    stack, people, screenshot
):
    question = "Is my replacement parcel on its way?"
    visitor, widget, dana = start_conversation(stack, people, question)
    # A first-time customer: nothing earlier to offer.
    expect(dana.get_by_role("button", name="Earlier conversations")).to_be_hidden()
    customer = customer_name_of(stack, question)
    give_an_earlier_conversation(stack, question)
    sam = people.new_page()
    sign_in_as(sam, *SAM)
    sams_rows = conversation_list(sam).filter(has_text=customer)
    expect(sams_rows).to_have_count(1)  # the list shows open conversations: the earlier one is resolved
    dana.reload()
    conversation_list(dana).filter(has_text=customer).click()
    expect(timeline_entry(dana, question)).to_be_visible()

    # The chat is one message long: its start is on screen, so what comes next is the customer's past.
    dana.get_by_role("button", name="Earlier conversations").click()
    expect(dana.locator(".entry-heading").filter(has_text="Missing parcel")).to_contain_text("resolved")
    expect(timeline_entry(dana, EARLIER)).to_be_visible()
    expect(timeline_entry(dana, "Incoming call · 2:05 · answered")).to_be_visible()
    expect(dana.locator(".history-start")).to_be_visible()
    expect(dana.get_by_role("button", name="Earlier conversations")).to_be_hidden()
    screenshot(dana, "console-earlier-history")

    dana.once("dialog", lambda dialog: dialog.accept())
    merge = dana.get_by_label("Merge into")
    expect(merge.locator("option").nth(1)).to_have_text(re.compile(r"^#\d+ Missing parcel · resolved$"))
    merge.select_option(index=1)

    expect(timeline_entry(dana, "Merged conversation #")).to_contain_text("(1 entry below)")
    expect(timeline_entry(dana, "Reopened: merged with an open conversation")).to_be_visible()
    # Dana now looks at the earlier conversation, reopened, with the chat's message at the bottom.
    expect(timeline_entry(dana, EARLIER)).not_to_have_class("earlier")
    expect(dana.locator("#timeline .entry").last).to_contain_text(question)
    expect(dana.get_by_label("Merge into")).to_be_hidden()
    # Sam's list: still one row for the customer, now the merged conversation.
    expect(sams_rows).to_have_count(1)
    sams_rows.click()
    expect(timeline_entry(sam, EARLIER)).to_be_visible()
    expect(timeline_entry(sam, question)).to_be_visible()

    # The visitor goes on in the widget and arrives in the merged conversation.
    expect(visitor_says(widget, "Thanks, any tracking number?")).not_to_have_class(PENDING)
    expect(timeline_entry(dana, "Thanks, any tracking number?")).to_be_visible()
    expect(timeline_entry(sam, "Thanks, any tracking number?")).to_be_visible()
