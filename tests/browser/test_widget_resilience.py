"""The widget against the worst a deployment does to it: a server restart mid-conversation, and a site
that is not allowed to embed it."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading

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

pytestmark = [pytest.mark.browser, pytest.mark.both_backends]


@contextlib.contextmanager
def foreign_site(html: str):
    """A real web server on another loopback port: another origin. (A page made up by Playwright's
    router counts as a public address, and Chromium's Private Network Access rules then stop it from
    reaching a loopback server at all, which would hide whether Parley itself refuses.)"""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/shop.html"
    finally:
        server.shutdown()
        server.server_close()


def stored_count(stack, body: str) -> int:
    code = (
        "from contact_center.models import TimelineEntry; "
        f"print(TimelineEntry.objects.filter(body={json.dumps(body)}).count())"
    )
    return int(stack.shell(code).strip().splitlines()[-1])


def test_it_carries_on_after_the_server_restarts_with_every_message_once(stack, people):
    agent = people.new_page()
    sign_in(agent)
    visitor = people.new_page()
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, "Before the restart")).not_to_have_class(PENDING)
    conversation_list(agent).filter(has_text=customer_name_of(stack, "Before the restart")).click()
    expect(timeline_entry(agent, "Before the restart")).to_be_visible()

    stack.restart()

    # Both pages reconnect on their own, resume from the last seq, and go on in both directions.
    expect(agent.locator("#connection")).to_have_text("Live")
    agent_writes(agent, "After the restart, from the agent")
    expect(widget_message(widget, "After the restart, from the agent")).to_have_count(1)
    expect(visitor_says(widget, "After the restart, from the visitor")).not_to_have_class(PENDING)
    expect(timeline_entry(agent, "After the restart, from the visitor")).to_have_count(1)

    expect(widget_message(widget, "Before the restart")).to_have_count(1)
    expect(timeline_entry(agent, "Before the restart")).to_have_count(1)
    for body in ("Before the restart", "After the restart, from the agent", "After the restart, from the visitor"):
        assert stored_count(stack, body) == 1, body


def test_it_refuses_the_widget_on_a_site_the_inbox_does_not_allow(stack, people):
    key = stack.shell(
        "from contact_center.models import Inbox; "
        "print(Inbox.objects.get(kind='widget', name='Website chat').public_key)"
    ).splitlines()[-1]
    token = stack.shell(
        "from widget.tokens import issue_visitor_token, new_visitor_id; "
        f"print(issue_visitor_token({key!r}, new_visitor_id()))"
    ).splitlines()[-1]
    page = people.new_page()
    loader = f'<script src="{stack.url}/widget/loader.js" data-inbox="{key}" async></script>'
    host_page = f"<!doctype html><title>Not allowed</title>{loader}"
    with foreign_site(host_page) as url:
        page.goto(url)
        refused_on_a_foreign_site(stack, page, token)


def refused_on_a_foreign_site(stack, page, token: str) -> None:

    # The socket: refused with 4403 (origin not allowed), not left to time out.
    socket_url = stack.url.replace("http://", "ws://") + "/ws/widget/?token=" + token
    close_code = page.evaluate(
        """url => new Promise(resolve => {
            const socket = new WebSocket(url);
            socket.onclose = event => resolve(event.code);
            // A refused socket closes at once; one still open after 3 s was let in.
            socket.onopen = () => setTimeout(() => resolve("still open"), 3000);
        })""",
        socket_url,
    )
    assert close_code == 4403

    # The conversation frame: the browser refuses to show it inside this site (CSP frame-ancestors).
    page.get_by_role("button", name="Chat with us").click()
    frame = page.frame_locator('iframe[name="parley-frame"]')
    page.wait_for_timeout(1500)
    expect(frame.get_by_role("textbox", name="Message")).to_have_count(0)
