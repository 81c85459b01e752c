"""The customer panel in the console: one agent edits who the customer is, another agent's open panel follows live."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_actions import SAM, sign_in_as
from tests.browser.test_round_trip import conversation_list, customer_name_of, start_conversation

pytestmark = pytest.mark.browser


def test_an_agent_edits_the_customer_and_another_agents_open_panel_shows_it_live(stack, people, screenshot):
    question = "Can our team order on invoice?"
    _, _, dana = start_conversation(stack, people, question)
    customer = customer_name_of(stack, question)
    sam = people.new_page()
    sign_in_as(sam, *SAM)
    conversation_list(sam).filter(has_text=customer).click()
    sams = sam.get_by_role("complementary", name="Customer")
    expect(sams.locator("#customer-company")).to_have_text("None")
    expect(sams.locator("#customer-owner")).to_have_text("Nobody")

    panel = dana.get_by_role("complementary", name="Customer")
    panel.get_by_role("button", name="Edit").click()
    # A company the demo already has, typed in another case: that one is used, not a new one.
    panel.get_by_label("Company").fill("harbour outfitters")
    panel.get_by_role("button", name="Set company").click()
    expect(panel.locator("#customer-company")).to_have_text("Harbour Outfitters (harbour.example)")
    panel.get_by_label("Account owner").select_option(label="Sam")
    expect(panel.locator("#customer-owner")).to_have_text("Sam")
    panel.get_by_role("group", name="Labels of this customer").get_by_label("vip").check()
    expect(panel.locator("#customer-labels")).to_have_text("vip")
    panel.get_by_label("Attribute key").fill("plan")
    panel.get_by_label("Attribute value").fill("business")
    panel.get_by_role("button", name="Set attribute").click()
    expect(panel.locator("#customer-attributes")).to_contain_text("planbusiness")
    expect(panel.get_by_label("Attribute key")).to_have_value("")

    # A refused address is explained next to the field, and what was typed stays to be corrected.
    address = panel.get_by_label("New email or phone")
    address.fill("buyer at harbour")
    panel.get_by_role("button", name="Add address").click()
    expect(panel.locator('.field-error[data-field="identities"]')).to_contain_text("not a valid email address")
    expect(address).to_have_value("buyer at harbour")
    address.fill("Buyer@Harbour.example")
    panel.get_by_role("button", name="Add address").click()
    expect(panel.get_by_role("listitem").filter(has_text="Email: buyer@harbour.example")).to_be_visible()
    expect(panel.locator('.field-error[data-field="identities"]')).to_be_hidden()
    expect(address).to_have_value("")
    screenshot(dana, "console-customer-edit")

    # Sam never reloaded: his panel followed every change.
    expect(sams.locator("#customer-company")).to_have_text("Harbour Outfitters (harbour.example)")
    expect(sams.locator("#customer-owner")).to_have_text("Sam")
    expect(sams.locator("#customer-labels .label-chip")).to_have_text(["vip"])
    expect(sams.locator("#customer-attributes")).to_contain_text("planbusiness")
    expect(sams.get_by_role("listitem").filter(has_text="Email: buyer@harbour.example")).to_be_visible()
    # Not verified, so it can be taken off again; Sam is not editing, so he is offered nothing.
    expect(sams.get_by_role("button", name="Remove buyer@harbour.example")).to_be_hidden()
    panel.get_by_role("button", name="Remove buyer@harbour.example").click()
    expect(sams.get_by_role("listitem").filter(has_text="buyer@harbour.example")).to_have_count(0)


def test_the_panels_list_of_the_customers_conversations_follows_a_resolve_live(stack, people):
    question = "Is the blue jacket waterproof?"
    _, _, dana = start_conversation(stack, people, question)
    customer = customer_name_of(stack, question)
    sam = people.new_page()
    sign_in_as(sam, *SAM)
    conversation_list(sam).filter(has_text=customer).click()
    danas = dana.get_by_role("complementary", name="Customer").locator("#customer-conversations")
    sams = sam.get_by_role("complementary", name="Customer").locator("#customer-conversations")
    expect(danas.get_by_role("button")).to_have_count(1)
    expect(danas.get_by_role("button")).to_contain_text("open")
    expect(sams.get_by_role("button")).to_contain_text("open")

    dana.get_by_role("button", name="Resolve").click()

    # Neither the agent who resolved it nor a colleague with it open reloads to see it resolved.
    expect(danas.get_by_role("button")).to_contain_text("resolved")
    expect(sams.get_by_role("button")).to_contain_text("resolved")
    dana.get_by_role("button", name="Reopen").click()
    expect(sams.get_by_role("button")).to_contain_text("open")
    expect(sams.get_by_role("button")).not_to_contain_text("resolved")
