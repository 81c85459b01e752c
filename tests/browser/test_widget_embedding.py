"""The widget on a customer's site: the host-page API, unread badge, visit tracking, hostile CSS, and
what happens when the network misbehaves. Entry points: the demo pages (``/``, ``/demo/pricing/``,
``/demo/hostile/``) with the embed snippet, and the console.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.test_round_trip import (
    PENDING,
    agent_writes,
    conversation_list,
    customer_name_of,
    launcher,
    open_widget,
    sign_in,
    start_conversation,
    timeline_entry,
    visitor_says,
    widget_message,
)

pytestmark = pytest.mark.browser

WIDGET_SOCKET = re.compile(r"/ws/widget/")
WIDGET_API = re.compile(r"/widget/api/")
DEMO_TITLE = "Acme Outdoor · Parley demo site"


def stored_count(stack, body: str) -> int:
    code = (
        "from contact_center.models import TimelineEntry; "
        f"print(TimelineEntry.objects.filter(body={json.dumps(body)}).count())"
    )
    return int(stack.shell(code).strip().splitlines()[-1])


def badge(page: Page):
    return launcher(page).locator(".badge")


class SocketGate:
    """Passes the widget's sockets through to the server until ``cut()``; then every socket, open or new,
    is closed before the server can answer, as a dead network or a WebSocket-blocking proxy would."""

    def __init__(self, page: Page):
        self.blocked = False
        self.live: list[WebSocketRoute] = []
        page.context.route_web_socket(WIDGET_SOCKET, self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        if self.blocked:
            ws.close()
            return
        ws.connect_to_server()
        self.live.append(ws)

    def cut(self) -> None:
        self.blocked = True
        for ws in self.live:
            ws.close()
        self.live = []

    def restore(self) -> None:
        self.blocked = False


# --- Embedding ---------------------------------------------------------------------------------------


def test_it_draws_and_works_on_a_page_whose_css_attacks_everything(stack, people):
    visitor = people.new_page()
    visitor.goto("/demo/hostile/")

    expect(visitor.get_by_role("heading")).to_be_hidden()
    expect(launcher(visitor)).to_be_visible()
    box = launcher(visitor).bounding_box()
    assert box is not None and box["width"] >= 48 and box["height"] >= 48, box
    widget = open_widget(visitor)
    frame_box = visitor.locator('iframe[name="parley-frame"]').bounding_box()
    assert frame_box is not None and frame_box["width"] >= 300 and frame_box["height"] >= 300, frame_box
    expect(visitor_says(widget, "Can you read me through all that CSS?")).not_to_have_class(PENDING)


def test_it_opens_closes_and_reports_through_the_host_page_api(stack, people):
    visitor, widget, agent = start_conversation(stack, people, "Hello from the API test")
    visitor.evaluate(
        """() => {
        window.__heard = [];
        ["open", "close", "message"].forEach((name) => Parley.on(name, (data) => __heard.push([name, data || null])));
    }"""
    )

    visitor.evaluate("Parley.close()")
    expect(visitor.locator('iframe[name="parley-frame"]')).to_be_hidden()
    expect(launcher(visitor)).to_have_attribute("aria-expanded", "false")
    agent_writes(agent, "First reply")
    agent_writes(agent, "Second reply")

    expect(badge(visitor)).to_have_text("2")
    expect(visitor).to_have_title(f"(2) {DEMO_TITLE}")
    visitor.evaluate("Parley.open()")
    expect(widget_message(widget, "Second reply")).to_be_visible()
    expect(badge(visitor)).to_be_hidden()
    expect(visitor).to_have_title(DEMO_TITLE)
    heard = visitor.evaluate("__heard")
    assert heard == [
        ["close", None],
        ["message", {"body": "First reply", "author": "Dana (demo)"}],
        ["message", {"body": "Second reply", "author": "Dana (demo)"}],
        ["open", None],
    ], heard


def test_it_queues_calls_made_before_the_loader_ran(stack, people):
    visitor = people.new_page()
    # The documented stub, run before the page (and so the loader) loads.
    visitor.add_init_script(
        """window.Parley = window.Parley || {q: []};
        ["open", "close", "identify", "setAttributes", "on"].forEach(function (m) {
          Parley[m] = Parley[m] || function () { Parley.q.push([m, arguments]); };
        });
        Parley.on("open", function () { window.__opened = true; });
        Parley.open();"""
    )
    visitor.goto("/")

    expect(launcher(visitor)).to_have_attribute("aria-expanded", "true")
    expect(visitor.frame_locator('iframe[name="parley-frame"]').get_by_role("textbox", name="Message")).to_be_visible()
    assert visitor.evaluate("window.__opened") is True


# --- History and visit tracking ----------------------------------------------------------------------


def test_it_keeps_the_history_across_pages_and_shows_the_agent_where_the_visitor_is(stack, people):
    question = "Is the tent waterproof?"
    visitor, widget, agent = start_conversation(stack, people, question)
    where = agent.locator("#thread-page")
    expect(where).to_contain_text(DEMO_TITLE)

    visitor.goto("/demo/pricing/")
    expect(where).to_contain_text("Pricing · Acme Outdoor")
    visitor.evaluate("history.pushState({}, '', '/demo/pricing/?plan=pro'); document.title = 'Pro plan'")
    expect(where).to_contain_text("Pro plan")
    expect(where.get_by_role("link")).to_have_attribute("href", re.compile(r"/demo/pricing/\?plan=pro$"))

    widget = open_widget(visitor)
    expect(widget_message(widget, question)).to_have_count(1)
    expect(widget_message(widget, question)).not_to_have_class(PENDING)


# --- Reliability -------------------------------------------------------------------------------------


def test_it_loses_nothing_when_the_network_drops_while_sending(stack, people):
    agent = people.new_page()
    sign_in(agent)
    visitor = people.new_page()
    gate = SocketGate(visitor)
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, "Before the tunnel")).not_to_have_class(PENDING)

    gate.cut()
    sent_offline = visitor_says(widget, "Sent inside the tunnel")
    expect(sent_offline).to_have_class(PENDING)
    gate.restore()

    expect(sent_offline).not_to_have_class(PENDING)
    expect(widget_message(widget, "Sent inside the tunnel")).to_have_count(1)
    assert stored_count(stack, "Sent inside the tunnel") == 1
    conversation_list(agent).filter(has_text=customer_name_of(stack, "Before the tunnel")).click()
    expect(timeline_entry(agent, "Sent inside the tunnel")).to_have_count(1)


def test_it_says_it_is_reconnecting_only_when_the_outage_lasts(stack, people):
    visitor = people.new_page()
    gate = SocketGate(visitor)
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, "Before the outage")).not_to_have_class(PENDING)
    status = widget.get_by_role("status")

    # Sockets and the HTTP fallback both fail, as on a dead network.
    gate.cut()
    visitor.context.route(WIDGET_API, lambda route: route.abort())
    # A blip is not worth the visitor's attention: timers only ever fire late, so this cannot race.
    visitor.wait_for_timeout(1_500)
    expect(status).to_have_text("", timeout=1)
    expect(status).to_have_text("Reconnecting…", timeout=15_000)

    visitor.context.unroute(WIDGET_API)
    gate.restore()
    expect(status).to_have_text("", timeout=40_000)


def test_it_marks_a_message_not_sent_and_retries_it_on_request_storing_it_once(stack, people):
    text = "Sent while the whole network was down"
    agent = people.new_page()
    sign_in(agent)
    visitor = people.new_page()
    gate = SocketGate(visitor)
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, "Before the outage")).not_to_have_class(PENDING)

    # Sockets and the HTTP fallback both fail, as on a dead network.
    gate.cut()
    visitor.context.route(WIDGET_API, lambda route: route.abort())
    stuck = visitor_says(widget, text)
    expect(stuck).to_contain_text("Not sent", timeout=15_000)
    retry = stuck.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()

    visitor.context.unroute(WIDGET_API)
    gate.restore()
    retry.focus()
    visitor.keyboard.press("Enter")

    expect(stuck).not_to_have_class(PENDING)
    expect(stuck).not_to_contain_text("Not sent")
    expect(widget_message(widget, text)).to_have_count(1)
    assert stored_count(stack, text) == 1
    conversation_list(agent).filter(has_text=customer_name_of(stack, text)).click()
    expect(timeline_entry(agent, text)).to_have_count(1)


def test_it_shows_why_a_refused_message_was_not_sent_and_offers_delete_not_retry(stack, people):
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    composer = widget.get_by_role("textbox", name="Message")
    # Past the composer's own limit, as a script or an old cached frame could send it.
    composer.evaluate("node => node.removeAttribute('maxlength')")
    too_long = "x" * 10_001
    composer.fill(too_long)
    widget.get_by_role("button", name="Send").click()

    refused = widget_message(widget, "x" * 100)
    expect(refused).to_contain_text("a message is at most")
    expect(refused.get_by_role("button", name="Retry")).to_have_count(0)
    expect(composer).to_have_value(too_long)
    refused.get_by_role("button", name="Delete").click()
    expect(refused).to_have_count(0)
    assert stored_count(stack, too_long) == 0


def test_it_falls_back_to_http_polling_when_websockets_are_blocked(stack, people):
    question = "Hello from behind a strict proxy"
    answer = "Polling got you this reply"
    agent = people.new_page()
    sign_in(agent)
    visitor = people.new_page()
    SocketGate(visitor).cut()
    visitor.goto("/")
    widget = open_widget(visitor)

    expect(visitor_says(widget, question)).not_to_have_class(PENDING)
    conversation_list(agent).filter(has_text=customer_name_of(stack, question)).click()
    agent_writes(agent, answer)

    expect(widget_message(widget, answer)).to_be_visible()
    expect(widget.locator("#status")).to_have_text("")
    assert stored_count(stack, question) == 1
