"""GET /console/api/views/ and the socket's view.save / view.delete frames."""

from __future__ import annotations

import pytest

from contact_center.actions.saved_views import do_save_view
from tests.consumers import open_agent, receive_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_lists_the_agents_views_and_the_shared_ones_saying_which_are_theirs(client, alice, charlie):
    do_save_view(alice, "Mine", {"view": "mine"})
    do_save_view(charlie, "Waiting", {"sort": "waiting"}, shared=True)
    client.force_login(alice)

    views = client.get("/console/api/views/").json()["views"]

    assert [(v["name"], v["filters"], v["mine"], v["deletable"]) for v in views] == [
        ("Mine", {"view": "mine"}, True, True),
        ("Waiting", {"sort": "waiting"}, False, False),
    ]


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
