"""The console socket's view.save and view.delete frames (docs/protocols/console-socket.md)."""

from __future__ import annotations

import pytest

from tests.consumers import open_agent, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_view_saved_in_one_tab_reaches_every_tab_of_the_agent(alice):
    first, second = await open_agent(alice), await open_agent(alice)

    await first.send_json_to({"type": "view.save", "name": "Billing", "filters": {"label": "1", "status": "open"}})

    for socket in (first, second):
        views, _ = await receive_until(socket, "views")
        assert [(v["name"], v["filters"]) for v in views["views"]] == [("Billing", {"label": "1", "status": "open"})]


async def test_a_refused_view_is_answered_with_the_reason(alice):
    socket = await open_agent(alice)

    await socket.send_json_to({"type": "view.save", "name": "", "filters": {}})

    error = await socket.receive_json_from()
    assert (error["type"], error["code"], error["message"]) == (
        "error",
        "invalid",
        "a view's name is 1 to 60 characters",
    )
