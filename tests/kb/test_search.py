"""kb.search: which articles a visitor's question finds, in which order, in which inbox."""

from __future__ import annotations

import pytest
from django.test import override_settings

from kb import search
from kb.models import Article, ArticleInbox
from kb.search import SearchBackend, Suggestion

pytestmark = pytest.mark.django_db

INBOX = 7
OTHER_INBOX = 8


def article(title: str, body: str, *, published: bool = True, inboxes: tuple[int, ...] = ()) -> Article:
    created = Article.objects.create(
        title=title, slug=title.lower().replace(" ", "-")[:50], body=body, published=published
    )
    for inbox_id in inboxes:
        ArticleInbox.objects.create(article=created, inbox_id=inbox_id)
    return created


def titles(text: str, inbox_id: int = INBOX, limit: int = 3) -> list[str]:
    return [s.title for s in search.suggest(inbox_id, text, limit)]


def test_it_ranks_an_article_with_the_words_in_its_title_above_one_with_them_in_its_body():
    article("Returns and refunds", "Send boots back within 30 days. Shipping of returns is free.")
    article("Shipping times", "Orders leave our warehouse within two days.")

    assert titles("How long does shipping take?") == ["Shipping times", "Returns and refunds"]


def test_it_ranks_articles_matching_more_words_higher():
    article("Tent sizes", "Our tents sleep one to four people.")
    article("Tent care", "Dry your tent before storing it. Sizes vary.")
    article("Boot sizes", "Boots run large.")

    assert titles("which tent size fits four people") == ["Tent sizes", "Tent care", "Boot sizes"]


def test_it_drops_stop_words_so_filler_finds_nothing():
    article("How we work", "What you can do with your account, and how.")

    assert search.search_terms("How can I do this with you, please?") == []
    assert titles("How can I do this with you, please?") == []


def test_it_ignores_case_and_repeats_in_the_question():
    assert search.search_terms("Shipping SHIPPING shipping to Norway") == ["shipping", "norway"]


def test_it_hides_unpublished_articles():
    article("Shipping times", "Two days.", published=False)

    assert titles("shipping times") == []
    assert search.visible_article(INBOX, Article.objects.get().pk) is None


def test_it_offers_an_article_scoped_to_inboxes_only_in_those_inboxes():
    scoped = article("Partner shipping", "Shipping for partners.", inboxes=(OTHER_INBOX,))
    everywhere = article("Shipping times", "Shipping takes two days.")

    assert titles("shipping", INBOX) == ["Shipping times"]
    assert titles("shipping", OTHER_INBOX) == ["Partner shipping", "Shipping times"]
    assert search.visible_article(INBOX, scoped.pk) is None
    assert search.visible_article(OTHER_INBOX, scoped.pk) == scoped
    assert search.visible_article(INBOX, everywhere.pk) == everywhere


def test_it_answers_at_most_the_limit():
    for n in range(5):
        article(f"Shipping {n}", "Shipping.")

    assert len(titles("shipping")) == 3
    assert len(titles("shipping", limit=1)) == 1


def test_it_gives_a_snippet_from_the_sentence_that_matches():
    body = "Welcome to our store. " * 10 + "Returns are free within 30 days of delivery. " + "More text here. " * 10
    article("Our policies", body)

    snippet = search.suggest(INBOX, "returns free")[0].snippet

    assert snippet.startswith("…Returns are free within 30 days")
    assert snippet.endswith("…")
    assert len(snippet) <= search.SNIPPET_CHARS + 2


def test_it_uses_the_backend_named_in_settings():
    with override_settings(PARLEY_KB_SEARCH="tests.kb.test_search.FixedBackend"):
        assert search.suggest(INBOX, "anything") == [Suggestion(id=1, title="Fixed", snippet="From a fixture")]


class FixedBackend(SearchBackend):
    def suggest(self, inbox_id, text, limit=3):
        return [Suggestion(id=1, title="Fixed", snippet="From a fixture")][:limit]


def test_it_gives_the_opening_as_the_snippet_when_the_title_matched():
    article("Shipping times", "Orders leave the same day. " * 5 + "Shipping abroad takes a week. " * 5)

    assert search.suggest(INBOX, "shipping")[0].snippet.startswith("Orders leave the same day.")
