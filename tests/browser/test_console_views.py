"""Two agents on one conversation see each other (the collision warning); lists by team, by the
longest wait, and saved under a name."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_actions import SAM, sign_in_as
from tests.browser.test_round_trip import conversation_list, customer_name_of, start_conversation

pytestmark = [pytest.mark.browser, pytest.mark.both_backends]


def test_an_agent_sees_a_colleague_viewing_and_then_writing_in_the_same_conversation(stack, people, screenshot):
    question = "Can I return the boots I bought last month?"
    _, _, dana = start_conversation(stack, people, question)
    customer = customer_name_of(stack, question)
    sam = people.new_page()
    sign_in_as(sam, *SAM)
    conversation_list(sam).filter(has_text=customer).click()

    # Dana opened it first; Sam's arrival reaches her, and hers reaches Sam within one beat.
    expect(dana.locator("#collision")).to_have_text("Sam is also viewing it")
    expect(sam.locator("#collision")).to_have_text("Dana (demo) is also viewing it")

    sam.get_by_role("textbox", name=re.compile("Reply")).fill("Yes, within 30 days")
    expect(dana.locator("#collision")).to_have_text("Sam is writing in this conversation")
    expect(dana.locator("#collision")).to_have_class(re.compile("typing"))
    screenshot(dana, "console-collision")

    # Sam moves on to another conversation: the warning goes.
    conversation_list(sam).filter(has_not_text=customer).first.click()
    expect(dana.locator("#collision")).to_be_hidden()


def test_an_agent_narrows_the_list_to_a_team_sorts_it_by_waiting_and_saves_it_as_a_view(stack, people, screenshot):
    question = "My order has not arrived yet."
    _, _, dana = start_conversation(stack, people, question)
    customer = customer_name_of(stack, question)
    row = conversation_list(dana).filter(has_text=customer)
    # The demo inbox belongs to the Support team and answers within 15 minutes.
    expect(dana.locator("#team")).to_have_value(re.compile(r"^\d+$"))
    expect(row.locator(".due")).to_contain_text("SLA in")

    dana.locator("#view-team").select_option(label="Support")
    dana.get_by_label("Sort").select_option(label="Longest waiting")
    expect(row).to_be_visible()
    dana.once("dialog", lambda dialog: dialog.accept("Support, waiting"))
    dana.get_by_role("button", name="Save view…").click()
    saved = dana.get_by_role("group", name="Saved views").get_by_role("button", name="Support, waiting", exact=True)
    expect(saved).to_be_visible()

    # Elsewhere, then back through the saved view: its filters and sort come back with it.
    dana.locator("#view-team").select_option(label="Any")
    dana.get_by_label("Sort").select_option(label="Latest activity")
    saved.click()
    expect(dana.locator("#view-team")).to_have_value(re.compile(r"^\d+$"))
    expect(dana.get_by_label("Sort")).to_have_value("waiting")
    expect(row).to_be_visible()
    screenshot(dana, "console-saved-views")

    # It stays after a reload: views live on the server.
    dana.reload()
    expect(
        dana.get_by_role("group", name="Saved views").get_by_role("button", name="Support, waiting", exact=True)
    ).to_be_visible()


def test_an_agent_outside_the_inbox_sees_nothing_of_it_in_the_list_live_or_by_address(stack, people):
    stack.shell(
        "from contact_center.models import Agent, Inbox; "
        "olga = Agent.objects.create_user('olga', password='olga-password', display_name='Olga'); "
        "Inbox.objects.create(name='Partner desk', kind='email', address='desk@partner.example').members.add(olga)"
    )
    olga = people.new_page()
    sign_in_as(olga, "olga", "olga-password")
    expect(conversation_list(olga)).to_have_count(0)

    # A visitor writes while Olga's console is live: Dana's list gets it, Olga's socket hears nothing.
    question = "Is the shop open on holidays?"
    _, _, dana = start_conversation(stack, people, question)
    customer = customer_name_of(stack, question)
    expect(conversation_list(dana).filter(has_text=customer)).to_be_visible()
    olga.wait_for_timeout(1000)
    expect(conversation_list(olga)).to_have_count(0)
    expect(olga).to_have_title("Console · Parley")

    # Nor by typing the addresses: every read answers 404, the export holds no row.
    ids = stack.shell(
        "from contact_center.models import TimelineEntry; "
        f"e = TimelineEntry.objects.get(body={question!r}); print(e.conversation_id, e.customer_id)"
    ).split()
    conversation_id, customer_id = ids[-2], ids[-1]
    for path in (
        f"/console/api/conversations/{conversation_id}/entries/",
        f"/console/api/customers/{customer_id}/",
        f"/console/api/customers/{customer_id}/timeline/",
    ):
        assert olga.request.get(path).status == 404, path
    exported = olga.request.get("/console/export/conversations.csv?status=").text()
    assert exported.strip().splitlines()[1:] == []
