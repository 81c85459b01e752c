"""Saved views: a named list (view, filters, sort) an agent keeps, or an admin shares."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contact_center.actions.saved_views import do_delete_view, do_save_view, visible_views
from contact_center.models import SavedView

pytestmark = pytest.mark.django_db


def test_an_agent_saves_a_list_under_a_name_and_saving_the_name_again_replaces_it(alice):
    do_save_view(alice, "  My   urgent ", {"view": "mine", "sort": "priority"})
    do_save_view(alice, "My urgent", {"view": "mine", "sort": "sla", "status": ""})

    [view] = visible_views(alice)
    assert (view.name, view.filters, view.shared) == ("My urgent", {"view": "mine", "sort": "sla"}, False)


def test_the_views_of_others_stay_theirs_unless_shared(alice, bob, charlie):
    do_save_view(alice, "Alice's", {"view": "mine"})
    do_save_view(charlie, "Everyone's waiting", {"sort": "waiting"}, shared=True)

    assert [v.name for v in visible_views(bob)] == ["Everyone's waiting"]
    assert [v.name for v in visible_views(alice)] == ["Alice's", "Everyone's waiting"]


def test_only_admins_and_supervisors_share(alice):
    with pytest.raises(ValidationError, match="only admins and supervisors share views"):
        do_save_view(alice, "For all", {}, shared=True)


@pytest.mark.parametrize(
    ("name", "filters", "problem"),
    [
        ("", {}, "a view's name is 1 to 60 characters"),
        ("x" * 61, {}, "a view's name is 1 to 60 characters"),
        ("Bad", {"view": "everything"}, "view is one of"),
        ("Bad", {"sort": "random"}, "sort is one of"),
        ("Bad", {"cursor": "abc"}, "filters is an object with some of"),
        ("Bad", {"inbox": 3}, "filter values are strings"),
        ("Bad", ["mine"], "filters is an object with some of"),
    ],
)
def test_it_refuses_what_the_list_would_refuse(alice, name, filters, problem):
    with pytest.raises(ValidationError, match=problem):
        do_save_view(alice, name, filters)
    assert not SavedView.objects.exists()


def test_an_agent_deletes_their_own_view_but_not_a_shared_one(
    alice, charlie, published, django_capture_on_commit_callbacks
):
    mine = do_save_view(alice, "Mine", {"view": "mine"})
    shared = do_save_view(charlie, "Shared", {}, shared=True)

    with pytest.raises(ValidationError, match="no such view of yours"):
        do_delete_view(alice, shared.pk)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_delete_view(alice, mine.pk)

    assert [v.name for v in visible_views(alice)] == ["Shared"]
    # Every console of hers gets the list as it now is.
    [(event, groups)] = published
    assert (event["type"], [v["name"] for v in event["views"]], groups) == ("views", ["Shared"], [f"agent.{alice.pk}"])
    do_delete_view(charlie, shared.pk)
    assert not SavedView.objects.exists()
