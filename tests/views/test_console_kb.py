"""GET /console/api/kb/articles/: the reply box's knowledge-base search, and the article links it offers
(kb.search.article_urls, ``PARLEY_KB_ARTICLE_URL``)."""

from __future__ import annotations

import pytest

from contact_center.actions.inbound import do_receive_inbound
from kb import search as kb_search
from kb.models import Article, ArticleInbox
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

URL = "/console/api/kb/articles/"
HELP = "https://help.shop.example/articles/{slug}"


@pytest.fixture
def chat(website):
    return do_receive_inbound(visitor_envelope(website, visitor="vera")).entry.conversation


@pytest.fixture
def articles(website, other_inbox):
    returns = Article.objects.create(
        title="Returns and refunds", slug="returns", body="Send boots back within 30 days.", published=True
    )
    Article.objects.create(title="Returns for partners", slug="partner-returns", body="Elsewhere.", published=True)
    ArticleInbox.objects.create(article=Article.objects.get(slug="partner-returns"), inbox_id=other_inbox.pk)
    Article.objects.create(title="Returns draft", slug="returns-draft", body="Not yet.", published=False)
    return returns


@pytest.fixture
def links(settings):
    settings.PARLEY_KB_ARTICLE_URL = HELP


def search(client, conversation_id, q):
    return client.get(URL, {"conversation": conversation_id, "q": q})


def test_it_finds_published_articles_offered_in_the_conversations_inbox_with_their_links(
    client, chat, alice, articles, links
):
    client.force_login(alice)

    response = search(client, chat.pk, "returns")

    assert response.status_code == 200
    assert response.json() == {
        "articles": [
            {
                "id": articles.pk,
                "title": "Returns and refunds",
                "snippet": "Send boots back within 30 days.",
                "url": "https://help.shop.example/articles/returns",
            }
        ]
    }


def test_articles_have_no_link_while_the_knowledge_base_has_no_address(client, chat, alice, articles):
    client.force_login(alice)

    [found] = search(client, chat.pk, "refunds").json()["articles"]

    assert (found["title"], found["url"]) == ("Returns and refunds", None)


def test_it_answers_nothing_for_filler_words(client, chat, alice, articles, links):
    client.force_login(alice)

    assert search(client, chat.pk, "how can the").json() == {"articles": []}


def test_it_answers_404_for_a_conversation_the_agent_may_not_see(client, chat, bob, articles):
    client.force_login(bob)

    assert search(client, chat.pk, "returns").status_code == 404


@pytest.mark.parametrize("conversation", ["", "x"])
def test_it_answers_404_without_a_conversation(client, alice, conversation):
    client.force_login(alice)

    assert search(client, conversation, "returns").status_code == 404


def test_it_sends_a_logged_out_visitor_to_the_login_page(client, chat):
    assert search(client, chat.pk, "returns").status_code == 302


def test_article_urls_fill_in_the_slug_and_the_id(articles, settings):
    settings.PARLEY_KB_ARTICLE_URL = "https://help.shop.example/{id}/{slug}?ref=parley"
    draft = Article.objects.get(slug="returns-draft")

    assert kb_search.article_urls([articles.pk, draft.pk]) == {
        articles.pk: f"https://help.shop.example/{articles.pk}/returns?ref=parley"
    }


def test_article_urls_cost_no_query_while_unset(articles, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert kb_search.article_urls([articles.pk]) == {}


@pytest.mark.parametrize("configured, shown", [(HELP, True), ("", False)])
def test_the_console_shows_the_knowledge_base_button_only_with_links(client, alice, settings, configured, shown):
    settings.PARLEY_KB_ARTICLE_URL = configured
    client.force_login(alice)

    page = client.get("/console/").content.decode()

    assert 'id="kb-open"' in page
    assert ('id="kb-open" class="composer-tool" hidden' not in page) is shown
    assert ("links a knowledge-base article" in page) is shown  # the shortcut, in the Shortcuts list
