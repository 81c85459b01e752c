"""Identity verification and the pre-chat form, in a real browser on the demo page (``/``).

Pat, user 42 of the demo shop, wrote from another device earlier. The site vouches for Pat with a
``user_hash``; Mallory only types Pat's email address into the pre-chat form.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.test_round_trip import launcher, widget_message

pytestmark = pytest.mark.browser

PATS_EARLIER_MESSAGE = "Where is my tent order #1042?"
PREPARE = """
import json
from contact_center.actions.customers import check_identity_claims, do_identify_visitor
from contact_center.actions.inbound import do_receive_inbound
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.lib.identity import user_hash
from contact_center.models import Inbox

inbox = Inbox.objects.get(kind="widget", name="Website chat")
inbox.config = {**inbox.config, **json.loads(%(config)r)}
inbox.save(update_fields=["config"])
claims = check_identity_claims(inbox, {"user_id": "42", "user_hash": user_hash(inbox.secret, "42"),
                                      "email": "pat@shop.example"})
do_identify_visitor(inbox.pk, "pats-laptop", claims)
do_receive_inbound(InboundEnvelope(inbox_id=inbox.pk, external_id="pat-1",
                                   sender=Sender(kind="visitor", value="pats-laptop"), body=%(body)r))
print(user_hash(inbox.secret, "42"))
"""


def seed_pat(stack, **config) -> str:
    """Pat's earlier conversation on the demo inbox; returns the user_hash the shop would render for Pat."""
    return stack.shell(PREPARE % {"config": json.dumps(config), "body": PATS_EARLIER_MESSAGE}).strip()


def test_it_shows_a_verified_user_their_earlier_history(stack, people):
    pat_hash = seed_pat(stack)
    page = people.new_page()
    page.goto("/")
    expect(launcher(page)).to_be_visible()

    page.evaluate("hash => Parley.identify({user_id: '42', user_hash: hash, name: 'Pat'})", pat_hash)
    launcher(page).click()

    widget = page.frame_locator('iframe[name="parley-frame"]')
    expect(widget_message(widget, PATS_EARLIER_MESSAGE)).to_be_visible()
    widget.get_by_role("textbox", name="Message").fill("Any news?")
    widget.get_by_role("button", name="Send").click()
    expect(widget_message(widget, "Any news?")).not_to_have_class("pending")
    conversations = stack.shell(
        "from contact_center.models import Conversation; "
        f"print(sorted(Conversation.objects.filter(entries__body__in=['Any news?', {PATS_EARLIER_MESSAGE!r}])"
        ".values_list('pk', flat=True).distinct()))"
    )
    assert len(json.loads(conversations)) == 1, "the new message continues Pat's conversation"


def test_a_visitor_who_types_another_customers_email_in_the_prechat_form_sees_none_of_their_history(stack, people):
    seed_pat(
        stack,
        prechat={
            "enabled": True,
            "fields": [
                {"name": "name", "label": "Your name", "required": True},
                {"name": "email", "label": "Email", "type": "email", "required": True},
            ],
        },
    )
    page = people.new_page()
    page.goto("/")
    launcher(page).click()
    widget = page.frame_locator('iframe[name="parley-frame"]')
    email = widget.get_by_role("textbox", name="Email")
    expect(email).to_be_visible()
    expect(widget.get_by_role("button", name="Send")).to_be_hidden()

    # Checked in the form first, with the error tied to its field.
    widget.get_by_role("textbox", name="Your name").fill("Pat")
    email.fill("not an address")
    widget.get_by_role("textbox", name="Message").fill("Show me my orders")
    widget.get_by_role("button", name="Start chat").click()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description("Please enter a valid email address.")
    expect(email).to_be_focused()

    email.fill("PAT@shop.example")
    widget.get_by_role("button", name="Start chat").click()

    expect(widget_message(widget, "Show me my orders")).not_to_have_class("pending")
    expect(email).to_be_hidden()
    expect(widget.get_by_role("button", name="Send")).to_be_visible()
    page.reload()
    launcher(page).click()
    expect(widget_message(widget, "Show me my orders")).to_be_visible()
    expect(widget.get_by_role("textbox", name="Email")).to_be_hidden()
    expect(widget_message(widget, PATS_EARLIER_MESSAGE)).to_have_count(0)
    stored = stack.shell(
        "from contact_center.models import TimelineEntry; "
        "c = TimelineEntry.objects.get(body='Show me my orders').customer; "
        "print(c.name, c.attributes['email'], list(c.identities.values_list('kind', flat=True)))"
    )
    assert stored.strip() == "Pat pat@shop.example ['visitor']"
