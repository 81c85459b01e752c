"""Two agents in the console change one conversation: assignment, priority, and a snooze that ends by itself.

Every change is made in one agent's browser and must show in the other's without a reload.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_round_trip import (
    PENDING,
    agent_writes,
    conversation_list,
    customer_name_of,
    open_widget,
    start_conversation,
    timeline_entry,
    visitor_says,
    widget_message,
)
from tests.integration import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.both_backends]

SAM = ("sam", DEMO_PASSWORD)  # the demo's second agent (seed_demo)


def sign_in_as(page: Page, username: str, password: str) -> None:
    page.goto("/console/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator("#connection")).to_have_text("Live")


def test_it_assigns_and_prioritises_and_the_other_agent_sees_it_live(stack, people, screenshot):
    question = "Can I change the delivery address of order #1077?"
    _, _, dana = start_conversation(stack, people, question)
    customer = customer_name_of(stack, question)
    sam = people.new_page()
    sign_in_as(sam, *SAM)
    sams_row = conversation_list(sam).filter(has_text=customer)
    expect(sams_row).to_be_visible()

    dana.get_by_role("button", name="Assign to me").click()
    expect(timeline_entry(dana, "Dana (demo) took the conversation")).to_be_visible()
    expect(dana.get_by_label("Assignee")).to_have_value(re.compile(r"^\d+$"))
    expect(dana.get_by_role("button", name="Assign to me")).to_be_hidden()
    dana.get_by_label("Priority").select_option(label="High")
    expect(timeline_entry(dana, "Priority set to high")).to_be_visible()

    expect(sams_row.locator(".meta")).to_contain_text("Dana (demo) · High")
    screenshot(dana, "console-conversation-actions")

    sams_row.click()
    expect(sam.get_by_label("Priority")).to_have_value("3")
    sam.get_by_label("Assignee").select_option(label="Sam")
    expect(timeline_entry(sam, "Sam took the conversation")).to_be_visible()
    expect(dana.get_by_label("Assignee")).to_have_value(sam.get_by_label("Assignee").input_value())
    expect(dana.get_by_role("button", name="Assign to me")).to_be_visible()


def test_it_snoozes_and_the_conversation_reopens_by_itself_when_the_time_comes(stack, people):
    _, _, dana = start_conversation(stack, people, "Please call me back next week.")

    # The browser's wall clock, a few seconds ahead: the worker polls every 2 s.
    until = datetime.fromisoformat(
        dana.evaluate("new Date(Date.now() + 6000 - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 19)")
    )
    dana.get_by_label("Snooze until").fill(until.isoformat(timespec="seconds"))
    dana.get_by_role("button", name="Snooze").click()

    expect(dana.locator("#snoozed")).to_contain_text("Snoozed until")
    expect(timeline_entry(dana, "Snoozed until")).to_be_visible()
    expect(dana.get_by_role("button", name="Reopen")).to_be_visible()

    expect(timeline_entry(dana, "Reopened: the snooze ended")).to_be_visible(timeout=30_000)
    expect(dana.locator("#snoozed")).to_be_hidden()
    expect(dana.get_by_role("button", name="Resolve")).to_be_visible()


def test_it_says_why_a_snooze_in_the_past_is_refused(stack, people):
    _, _, dana = start_conversation(stack, people, "Any update?")
    yesterday = datetime.now() - timedelta(days=1)

    dana.get_by_label("Snooze until").fill(yesterday.isoformat(timespec="seconds"))
    dana.get_by_role("button", name="Snooze").click()

    expect(dana.get_by_role("alert").filter(has_text="until must be in the future")).to_be_visible()
    expect(dana.get_by_role("button", name="Resolve")).to_be_visible()


def view_tab(page: Page, name: str):
    return page.get_by_role("group", name="Views").get_by_role("button", name=re.compile(f"^{name}"))


def test_a_conversation_moves_between_views_live_as_it_is_assigned(stack, people, screenshot):
    question = "Is the trail tent waterproof?"
    dana, sam = people.new_page(), people.new_page()
    sign_in_as(dana, "demo", DEMO_PASSWORD)
    sign_in_as(sam, *SAM)
    view_tab(dana, "Mine").click()
    expect(view_tab(dana, "Mine")).to_have_attribute("aria-pressed", "true")
    expect(conversation_list(dana)).to_have_count(0)
    view_tab(sam, "Unassigned").click()
    expect(view_tab(sam, "Unassigned")).to_contain_text("3")

    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, question)).not_to_have_class(PENDING)
    customer = customer_name_of(stack, question)

    # New conversations arrive unassigned: in Sam's view, not in Dana's.
    sams_row = conversation_list(sam).filter(has_text=customer)
    expect(sams_row).to_be_visible()
    expect(view_tab(sam, "Unassigned")).to_contain_text("4")
    expect(conversation_list(dana)).to_have_count(0)

    sams_row.click()
    sam.get_by_label("Assignee").select_option(label="Dana (demo)")

    # It leaves Sam's Unassigned view and joins Dana's Mine, live on both screens.
    expect(conversation_list(sam).filter(has_text=customer)).to_have_count(0)
    expect(view_tab(sam, "Unassigned")).to_contain_text("3")
    expect(conversation_list(dana).filter(has_text=customer)).to_be_visible()
    expect(view_tab(dana, "Mine")).to_contain_text("1")
    screenshot(dana, "console-views")

    # Narrowing by status: resolved conversations leave an "Open" list.
    dana.get_by_label("Status").select_option(label="Open")
    conversation_list(dana).filter(has_text=customer).click()
    dana.get_by_role("button", name="Resolve").click()
    expect(conversation_list(dana)).to_have_count(0)
    expect(view_tab(dana, "Mine")).to_contain_text("0")


def test_it_assigns_new_conversations_in_turn_within_capacity_and_the_rest_wait(stack, people):
    stack.shell(
        "from contact_center.models import Agent, Conversation, Inbox; "
        "Conversation.objects.update(status='resolved'); "  # the demo's seeded ones are not waiting
        "Agent.objects.update(max_open_conversations=1); "
        "inbox = Inbox.objects.get(kind='widget'); inbox.config = {**inbox.config, 'auto_assign': True}; inbox.save()"
    )
    dana, sam = people.new_page(), people.new_page()
    sign_in_as(dana, "demo", DEMO_PASSWORD)
    sign_in_as(sam, *SAM)

    def visitor_asks(text: str) -> str:
        visitor = people.new_page()
        visitor.goto("/")
        expect(visitor_says(open_widget(visitor), text)).not_to_have_class(PENDING)
        return customer_name_of(stack, text)

    first = visitor_asks("First question")
    expect(conversation_list(dana).filter(has_text=first).locator(".meta")).to_contain_text(
        re.compile(r"open · (Dana \(demo\)|Sam)$")
    )
    second = visitor_asks("Second question")
    third = visitor_asks("Third question")

    # One each (turns), and the third waits: both agents are at their capacity of one.
    rows = {name: conversation_list(dana).filter(has_text=name).locator(".meta") for name in (first, second, third)}
    expect(rows[second]).to_contain_text(re.compile(r"open · (Dana \(demo\)|Sam)$"))
    first_agent = rows[first].text_content().rsplit(" · ", 1)[-1]
    second_agent = rows[second].text_content().rsplit(" · ", 1)[-1]
    assert {first_agent, second_agent} == {"Dana (demo)", "Sam"}
    expect(rows[third]).to_have_text("Website chat · open")

    # Whoever resolves frees their capacity, and the waiting conversation goes to them; the other agent
    # watches it leave their Unassigned view live.
    resolver, observer = (dana, sam) if first_agent == "Dana (demo)" else (sam, dana)
    view_tab(observer, "Unassigned").click()
    expect(conversation_list(observer)).to_have_count(1)
    conversation_list(resolver).filter(has_text=first).click()
    resolver.get_by_role("button", name="Resolve").click()
    expect(conversation_list(observer)).to_have_count(0)
    view_tab(observer, "All").click()
    expect(conversation_list(observer).filter(has_text=third).locator(".meta")).to_have_text(
        f"Website chat · open · {first_agent}"
    )


def test_the_common_actions_have_keyboard_shortcuts_listed_in_a_help_overlay(stack, people):
    dana = people.new_page()
    sign_in_as(dana, "demo", DEMO_PASSWORD)
    expect(conversation_list(dana)).to_have_count(3)

    dana.keyboard.press("?")
    help_overlay = dana.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_overlay).to_be_visible()
    expect(help_overlay.get_by_role("row")).to_have_count(9)
    dana.keyboard.press("Escape")
    expect(help_overlay).to_be_hidden()

    dana.keyboard.press("j")
    first = conversation_list(dana).first
    expect(first).to_have_attribute("aria-current", "true")
    dana.keyboard.press("j")
    expect(conversation_list(dana).nth(1)).to_have_attribute("aria-current", "true")
    dana.keyboard.press("k")
    expect(first).to_have_attribute("aria-current", "true")

    dana.keyboard.press("a")
    expect(timeline_entry(dana, "Dana (demo) took the conversation")).to_be_visible()
    dana.keyboard.press("n")
    reply_box = dana.locator("#reply-body")
    expect(reply_box).to_be_focused()
    expect(dana.get_by_label("Internal note")).to_be_checked()
    expect(reply_box).to_have_value("")  # the shortcut's own key is not typed
    dana.keyboard.press("Escape")
    expect(reply_box).not_to_be_focused()
    dana.keyboard.press("e")
    expect(timeline_entry(dana, "Resolved")).to_be_visible()

    dana.keyboard.press("1")
    expect(view_tab(dana, "Mine")).to_have_attribute("aria-pressed", "true")
    dana.keyboard.press("3")
    expect(view_tab(dana, "All")).to_have_attribute("aria-pressed", "true")


# The page's Notification, recorded instead of shown: headless chromium has no desktop to show it on.
RECORD_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = function (title, options) {
  window.__notifications.push({ title: title, body: options && options.body });
  // For expect() to wait on: wait_for_function evaluates a string in the page, which its CSP forbids.
  document.documentElement.dataset.notifications = window.__notifications.length;
};
// A granted permission outlives a reload, as the browser's own would.
window.Notification.permission = sessionStorage.getItem("permission") || "default";
window.Notification.requestPermission = function () {
  sessionStorage.setItem("permission", "granted");
  window.Notification.permission = "granted";
  return Promise.resolve("granted");
};
"""


def test_an_agent_who_opted_in_is_notified_when_a_colleague_assigns_them_a_conversation(stack, people):
    question = "Can someone call me about a bulk order?"
    _, _, dana = start_conversation(stack, people, question)
    customer = customer_name_of(stack, question)
    sam = people.new_page()
    sam.add_init_script(RECORD_NOTIFICATIONS)
    sign_in_as(sam, *SAM)
    sam.get_by_label("Notify me").check()
    expect(sam.get_by_label("Notify me")).to_be_checked()

    # Taking a conversation yourself is no news; being given one is.
    sam_row = conversation_list(sam).filter(has_text=customer)
    sam_row.click()
    sam.get_by_role("button", name="Assign to me").click()
    expect(timeline_entry(sam, "Sam took the conversation")).to_be_visible()
    dana.get_by_label("Assignee").select_option(label="Unassigned")
    expect(timeline_entry(sam, "Unassigned")).to_be_visible()
    assert sam.evaluate("window.__notifications") == []

    dana.get_by_label("Assignee").select_option(label="Sam")
    expect(timeline_entry(sam, "Assigned to Sam")).to_be_visible()
    expect(sam.locator("html")).to_have_attribute("data-notifications", "1")
    assert sam.evaluate("window.__notifications") == [
        {"title": "Conversation assigned to you", "body": f"{customer} · Website chat"}
    ]

    # The choice is remembered for this agent in this browser.
    sam.reload()
    expect(sam.get_by_label("Notify me")).to_be_checked()


def test_the_sidebar_shows_the_customer_across_channels_and_a_rename_reaches_every_console(stack, people, screenshot):
    question = "I emailed you about this too."
    _, _, dana = start_conversation(stack, people, question)
    customer = customer_name_of(stack, question)
    # The same person writes from an address the widget already knows (verified): one customer.
    stack.shell(
        "from contact_center.actions.inbound import do_receive_inbound; "
        "from contact_center.lib.envelope import InboundEnvelope, Sender; "
        "from contact_center.models import Agent, Identity, Inbox, TimelineEntry; "
        f"c = TimelineEntry.objects.get(body={question!r}).customer; "
        "Identity.objects.create(customer=c, kind='email', value='vera@home.example', verified=True); "
        "mail = Inbox.objects.create(name='Support mail', kind='email', address='help@shop.example'); "
        "mail.members.add(*Agent.objects.all()); "
        "do_receive_inbound(InboundEnvelope(inbox_id=mail.pk, external_id='<m1@home.example>', "
        "sender=Sender(kind='email', value='vera@home.example'), body='Following up by email', subject='Order'))"
    )
    sam = people.new_page()
    sign_in_as(sam, *SAM)
    dana.reload()
    conversation_list(dana).filter(has_text="Website chat").filter(has_text=customer).click()

    sidebar = dana.get_by_role("complementary", name="Customer")
    expect(sidebar).to_contain_text("Email: vera@home.example")
    expect(sidebar).to_contain_text("verified")
    others = sidebar.get_by_role("button", name=re.compile("^(Support mail|Website chat)"))
    expect(others).to_have_count(2)
    sidebar.get_by_role("button", name=re.compile("^Support mail")).click()
    expect(dana.locator("#thread-title")).to_have_text(f"{customer} · Support mail")
    expect(timeline_entry(dana, "Following up by email")).to_be_visible()

    sidebar.get_by_label("Name").fill("Vera Nowak")
    sidebar.get_by_role("button", name="Save").click()
    expect(dana.locator("#thread-title")).to_have_text("Vera Nowak · Support mail")
    expect(conversation_list(sam).filter(has_text="Vera Nowak")).to_have_count(2)
    screenshot(dana, "console-customer")


def test_an_admin_saves_a_canned_response_and_an_agent_inserts_it_with_its_shortcut(stack, people, screenshot):
    visitor, widget, dana = start_conversation(stack, people, "How long does delivery take?")
    dana.get_by_role("link", name="Settings").click()
    dana.get_by_role("link", name="Canned responses").click()
    dana.get_by_label("Shortcut").fill("shipping")
    dana.get_by_label("Body").fill("Orders ship within two working days.")
    dana.get_by_role("button", name="Add").click()
    expect(dana.get_by_role("cell", name="/shipping", exact=True)).to_be_visible()
    screenshot(dana, "console-canned-responses")

    sam = people.new_page()
    sign_in_as(sam, *SAM)
    conversation_list(sam).filter(has_text=customer_name_of(stack, "How long does delivery take?")).click()
    reply_box = sam.locator("#reply-body")
    reply_box.press_sequentially("/sh")
    menu = sam.get_by_role("listbox", name="Canned responses")
    expect(menu.get_by_role("option")).to_have_count(1)
    expect(menu.get_by_role("option").first).to_contain_text("/shipping")
    screenshot(sam, "console-canned-menu")
    reply_box.press("Enter")  # picks the response; it does not send yet
    expect(reply_box).to_have_value("Orders ship within two working days.")
    expect(menu).to_be_hidden()
    reply_box.press("Enter")

    expect(widget_message(widget, "Orders ship within two working days.")).to_be_visible()


def test_a_half_written_reply_stays_with_its_conversation_across_switching_and_reloads(stack, people):
    dana = people.new_page()
    sign_in_as(dana, "demo", DEMO_PASSWORD)
    reply_box = dana.locator("#reply-body")
    ada, grace = (conversation_list(dana).filter(has_text=name) for name in ("Ada Lovelace", "Grace Hopper"))

    ada.click()
    reply_box.fill("Yes, the tent fits two")
    dana.get_by_label("Internal note").check()
    grace.click()
    expect(reply_box).to_have_value("")  # never sent to the wrong customer
    expect(dana.get_by_label("Internal note")).not_to_be_checked()
    ada.click()
    expect(reply_box).to_have_value("Yes, the tent fits two")
    expect(dana.get_by_label("Internal note")).to_be_checked()

    dana.reload()
    ada.click()
    expect(reply_box).to_have_value("Yes, the tent fits two")
    reply_box.press("Enter")
    expect(timeline_entry(dana, "Yes, the tent fits two")).to_be_visible()
    dana.reload()
    ada.click()
    expect(reply_box).to_have_value("")


def test_a_colleague_mentions_an_agent_in_a_note_and_they_are_notified_and_find_it_in_mentions(stack, people):
    question = "Do you sell gift cards?"
    _, _, sam = start_conversation(stack, people, question)  # start_conversation signs in the demo admin
    customer = customer_name_of(stack, question)
    dana = people.new_page()
    dana.add_init_script(RECORD_NOTIFICATIONS)
    sign_in_as(dana, "sam", DEMO_PASSWORD)  # here the mentioned agent is Sam
    dana.get_by_label("Notify me").check()
    expect(view_tab(dana, "@")).to_contain_text("0")

    agent_writes(sam, "@sam can you answer this one?", note=True)

    expect(dana.locator("html")).to_have_attribute("data-notifications", "1")
    assert dana.evaluate("window.__notifications") == [
        {"title": "Dana (demo) mentioned you", "body": f"{customer} · Website chat"}
    ]
    expect(view_tab(dana, "@")).to_contain_text("1")
    dana.keyboard.press("4")
    expect(conversation_list(dana)).to_have_count(1)
    expect(conversation_list(dana).first).to_contain_text(customer)


def test_an_agent_labels_a_conversation_and_a_colleague_sees_the_chips_live_and_filters_by_label(
    stack, people, screenshot
):
    question = "I was charged twice for order #1090."
    _, _, dana = start_conversation(stack, people, question)
    customer = customer_name_of(stack, question)
    sam = people.new_page()
    sign_in_as(sam, *SAM)
    sams_row = conversation_list(sam).filter(has_text=customer)
    sams_row.click()
    expect(timeline_entry(sam, question)).to_be_visible()

    dana.get_by_role("button", name="Labels", exact=True).click()
    menu = dana.get_by_role("group", name="Labels of this conversation")
    menu.get_by_role("checkbox", name="billing").check()
    expect(timeline_entry(dana, "Added label billing")).to_be_visible()
    menu.get_by_role("checkbox", name="vip").check()
    expect(timeline_entry(dana, "Added label vip")).to_be_visible()
    expect(dana.locator("#thread-labels .label-chip")).to_have_text(["billing", "vip"])
    screenshot(dana, "console-labels")
    dana.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    # Sam's console follows without a reload: the row's chips, the title's, the timeline.
    expect(sams_row.locator(".label-chip")).to_have_text(["billing", "vip"])
    expect(sam.locator("#thread-labels .label-chip")).to_have_text(["billing", "vip"])
    expect(timeline_entry(sam, "Added label vip")).to_be_visible()

    # Narrowed to vip: this conversation and the demo's Grace Hopper (seed_demo labels hers vip).
    sam.get_by_label("Label", exact=True).select_option(label="vip")
    expect(conversation_list(sam)).to_have_count(2)
    expect(conversation_list(sam).filter(has_text="Grace Hopper")).to_be_visible()
    # Dana takes vip off with the keyboard: it leaves Sam's narrowed list live.
    dana.keyboard.press("l")
    expect(menu.get_by_role("checkbox", name="billing")).to_be_focused()  # the first label of the list
    menu.get_by_role("checkbox", name="vip").uncheck()
    expect(timeline_entry(dana, "Removed label vip")).to_be_visible()
    expect(conversation_list(sam)).to_have_count(1)
    expect(conversation_list(sam).filter(has_text=customer)).to_have_count(0)
    sam.get_by_label("Label", exact=True).select_option(label="billing")
    expect(conversation_list(sam).filter(has_text=customer).locator(".label-chip")).to_have_text(["billing"])
