"""frame.js and console.js on the wire (issue 10, resume without storms): in an exchange without faults
each write leaves its page once, and no entry reaches a page twice (docs/protocols/widget-socket.md
sections 5 and 6, console-socket.md sections 3 and 5).

Whether a gap outlasted the grace period depends on the machine's speed, so syncs are not counted here;
tests/consumers/test_resume_without_storms.py counts them with the clients' clock in hand.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from playwright.sync_api import Page, expect

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

pytestmark = [pytest.mark.browser]

ROUNDS = 6


def record_frames(page: Page) -> list[tuple[str, dict]]:
    """Every JSON frame the page's sockets (its frames' too) send and receive, in order."""
    frames: list[tuple[str, dict]] = []

    def on_socket(socket):
        socket.on("framesent", lambda payload: frames.append(("sent", json.loads(payload))))
        socket.on("framereceived", lambda payload: frames.append(("received", json.loads(payload))))

    page.on("websocket", on_socket)
    return frames


def test_it_sends_each_write_once_and_receives_no_entry_twice(stack, people):
    agent = people.new_page()
    console_frames = record_frames(agent)
    sign_in(agent)
    visitor = people.new_page()
    widget_frames = record_frames(visitor)
    visitor.goto("/")
    widget = open_widget(visitor)
    expect(visitor_says(widget, "Hello, anyone there?")).not_to_have_class(PENDING)
    conversation_list(agent).filter(has_text=customer_name_of(stack, "Hello, anyone there?")).click()
    expect(timeline_entry(agent, "Hello, anyone there?")).to_be_visible()

    # Both write at once, without waiting for the other: acks overtake live events, gaps come and go.
    for n in range(ROUNDS):
        visitor_says(widget, f"Visitor line {n}")
        agent_writes(agent, f"Agent line {n}")
    for n in range(ROUNDS):
        expect(widget_message(widget, f"Agent line {n}")).to_have_count(1)
        expect(widget_message(widget, f"Visitor line {n}")).not_to_have_class(PENDING)
        expect(timeline_entry(agent, f"Visitor line {n}")).to_have_count(1)
        expect(timeline_entry(agent, f"Agent line {n}")).to_have_count(1)

    sends = Counter(f["client_id"] for way, f in widget_frames if way == "sent" and f["type"] == "send")
    replies = Counter(f["client_id"] for way, f in console_frames if way == "sent" and f["type"] == "reply")
    assert len(sends) == ROUNDS + 1 and set(sends.values()) == {1}, sends
    assert len(replies) == ROUNDS and set(replies.values()) == {1}, replies
    widget_entries = Counter(
        f["message"]["seq"] for way, f in widget_frames if way == "received" and f["type"] in ("message", "ack")
    )
    console_entries = Counter(
        (f["entry"]["conversation"], f["entry"]["seq"])
        for way, f in console_frames
        if way == "received" and f["type"] in ("entry.created", "ack")
    )
    assert sorted(widget_entries) == list(range(1, 2 * ROUNDS + 2)) and set(widget_entries.values()) == {1}
    assert set(console_entries.values()) == {1}, console_entries
    # ready answers hello only: one per connection, however many gaps there were.
    assert [f["type"] for way, f in widget_frames if way == "received"].count("ready") == 1
    assert [f["type"] for way, f in console_frames if way == "received"].count("ready") == 1
