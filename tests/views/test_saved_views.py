"""GET /console/api/views/: the agent's saved views and the shared ones (frames: tests/consumers)."""

from __future__ import annotations

import pytest

from contact_center.actions.saved_views import do_save_view

pytestmark = pytest.mark.django_db


def test_it_lists_the_agents_views_and_the_shared_ones_saying_which_are_theirs(client, alice, charlie):
    do_save_view(alice, "Mine", {"view": "mine"})
    do_save_view(charlie, "Waiting", {"sort": "waiting"}, shared=True)
    client.force_login(alice)

    views = client.get("/console/api/views/").json()["views"]

    assert [(v["name"], v["filters"], v["mine"], v["deletable"]) for v in views] == [
        ("Mine", {"view": "mine"}, True, True),
        ("Waiting", {"sort": "waiting"}, False, False),
    ]
