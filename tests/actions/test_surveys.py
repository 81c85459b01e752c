"""actions.surveys.do_rate_conversation: a customer rates a resolved conversation (CSAT)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contact_center.access import AccessDenied
from contact_center.actions.conversations import do_change_status
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.surveys import do_rate_conversation
from contact_center.models import SatisfactionRating, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(website, alice):
    """Vera's conversation, resolved by Alice."""
    entry = do_receive_inbound(visitor_envelope(website, visitor="vera", body="Hello", external_id="m1")).entry
    return do_change_status(alice, entry.conversation_id, "resolved")


def rate(conversation, rating=5, comment="", customer_id=None):
    return do_rate_conversation(
        conversation.inbox_id, customer_id or conversation.customer_id, conversation.pk, rating, comment
    )


def test_it_stores_the_rating_and_shows_it_to_agents_only(resolved, published, django_capture_on_commit_callbacks):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        result = rate(resolved, 4, "  Quick and kind.  ")

    assert result.created
    stored = SatisfactionRating.objects.get()
    assert (stored.rating, stored.comment, stored.resolved_at) == (4, "Quick and kind.", resolved.resolved_at)
    activity = TimelineEntry.objects.filter(kind="activity").latest("seq")
    assert (activity.body, activity.direction, activity.public_seq) == ("Rated 4/5: Quick and kind.", "internal", None)
    assert activity.payload["event"] == "csat" and activity.payload["rating"] == 4
    visitor = f"visitor.{resolved.inbox_id}.{resolved.customer_id}"
    assert [(event["type"], groups) for event, groups in published] == [
        ("entry.created", [f"inbox.{resolved.inbox_id}"]),
        ("csat.answered", [visitor]),
    ]


def test_it_counts_a_resent_rating_once(resolved, published, django_capture_on_commit_callbacks):
    rate(resolved, 4)
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = rate(resolved, 1, "changed my mind")

    assert not again.created and again.rating.rating == 4
    assert SatisfactionRating.objects.count() == 1
    assert published == []


def test_it_asks_again_after_the_conversation_is_reopened_and_resolved_again(resolved, alice):
    rate(resolved, 2)
    do_change_status(alice, resolved.pk, "open")
    again = do_change_status(alice, resolved.pk, "resolved")

    assert rate(again, 5).created
    assert sorted(SatisfactionRating.objects.values_list("rating", flat=True)) == [2, 5]


def test_it_refuses_a_rating_before_resolution(website):
    entry = do_receive_inbound(visitor_envelope(website, visitor="vera", body="Hello", external_id="m1")).entry
    with pytest.raises(ValidationError, match="resolved"):
        rate(entry.conversation, 5)
    assert SatisfactionRating.objects.count() == 0


def test_it_refuses_a_rating_from_another_customer(website, resolved):
    victor = do_receive_inbound(visitor_envelope(website, visitor="victor", body="Hi", external_id="v1")).entry
    with pytest.raises(AccessDenied):
        rate(resolved, 1, customer_id=victor.customer_id)
    assert SatisfactionRating.objects.count() == 0


@pytest.mark.parametrize("rating", [0, 6, "5", 4.5, True, None])
def test_it_refuses_a_rating_outside_one_to_five(resolved, rating):
    with pytest.raises(ValidationError):
        rate(resolved, rating)
    assert SatisfactionRating.objects.count() == 0


def test_it_refuses_an_oversized_comment(resolved):
    with pytest.raises(ValidationError):
        rate(resolved, 3, "x" * 2001)
