"""kb.actions: the record of what visitors did with suggestions, and what counts as a deflection."""

from __future__ import annotations

import pytest

from kb import actions
from kb.models import Article, SuggestionEvent

pytestmark = pytest.mark.django_db

INBOX = 7


@pytest.fixture
def shipping():
    return Article.objects.create(title="Shipping times", slug="shipping", body="Two days.", published=True)


def test_it_counts_a_deflection_once_per_visitor_article_and_question(shipping):
    first = actions.do_record_outcome(INBOX, "vera", shipping.pk, "answered", "How long is shipping?")
    again = actions.do_record_outcome(INBOX, "vera", shipping.pk, "answered", "  How long   is shipping?")
    other_question = actions.do_record_outcome(INBOX, "vera", shipping.pk, "answered", "Shipping to Norway?")
    other_visitor = actions.do_record_outcome(INBOX, "victor", shipping.pk, "answered", "How long is shipping?")

    assert (first, again, other_question, other_visitor) == (True, False, True, True)
    assert SuggestionEvent.objects.filter(kind="answered").count() == 3


def test_it_records_each_need_help(shipping):
    actions.do_record_outcome(INBOX, "vera", shipping.pk, "need_help", "Shipping?")
    actions.do_record_outcome(INBOX, "vera", shipping.pk, "need_help", "Shipping?")

    assert SuggestionEvent.objects.filter(kind="need_help").count() == 2


def test_it_refuses_an_unknown_outcome(shipping):
    with pytest.raises(ValueError):
        actions.do_record_outcome(INBOX, "vera", shipping.pk, "maybe", "Shipping?")
    assert not SuggestionEvent.objects.exists()


def test_it_records_shown_suggestions_only_when_they_change():
    assert actions.do_record_shown(INBOX, "vera", "shipp", [1, 2])
    assert not actions.do_record_shown(INBOX, "vera", "shipping", [1, 2])
    assert actions.do_record_shown(INBOX, "vera", "shipping time", [2])
    assert not actions.do_record_shown(INBOX, "vera", "zzz", [])

    assert list(SuggestionEvent.objects.values_list("query", "article_ids")) == [
        ("shipp", [1, 2]),
        ("shipping time", [2]),
    ]


def test_it_stores_visitors_as_a_keyed_hash_not_their_id(shipping):
    actions.do_record_opened(INBOX, "vera", shipping.pk)

    stored = SuggestionEvent.objects.get().visitor_hash
    assert "vera" not in stored
    assert stored == actions.visitor_hash("vera") != actions.visitor_hash("victor")
