"""The widget's self-service endpoints: /widget/api/suggestions/, /articles/<id>/ and /deflections/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import override_settings

from kb.models import Article, ArticleInbox, SuggestionEvent
from tests.widget.test_frame_strings import strings_table
from widget.tokens import issue_visitor_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("whole_rate_window")]

SHOP = "https://shop.example"
SELFSERVICE_JS = Path(__file__).resolve().parents[2] / "widget" / "static" / "widget" / "selfservice.js"


def post(client, path: str, body, origin: str | None = SHOP):
    headers = {"Origin": origin} if origin else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/widget/api/{path}/", data=data, content_type="application/json", headers=headers)


def read(client, article_id: int, token: str | None, origin: str | None = None):
    headers = {"Origin": origin} if origin else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(f"/widget/api/articles/{article_id}/", headers=headers)


@pytest.fixture
def token(website):
    return issue_visitor_token(website.public_key, "vera")


@pytest.fixture
def shipping(db):
    return Article.objects.create(
        title="How long does shipping take?",
        slug="shipping-times",
        body="Orders leave within two days.\n\nShipping to Europe takes three to five days.",
        published=True,
    )


@pytest.fixture
def returns(db):
    return Article.objects.create(
        title="Returns and refunds", slug="returns", body="Return unworn items within 30 days.", published=True
    )


def test_it_suggests_articles_for_the_text_typed(client, token, shipping, returns):
    response = post(client, "suggestions", {"token": token, "text": "when will my shipping arrive"})

    assert response.status_code == 200
    assert response.json() == {
        "articles": [
            {
                "id": shipping.pk,
                "title": "How long does shipping take?",
                "snippet": "Orders leave within two days. Shipping to Europe takes three to five days.",
            }
        ]
    }


def test_it_suggests_at_most_three_articles(client, token):
    for n in range(5):
        Article.objects.create(title=f"Shipping {n}", slug=f"s{n}", body="Shipping.", published=True)

    assert len(post(client, "suggestions", {"token": token, "text": "shipping"}).json()["articles"]) == 3


def test_it_records_the_suggestions_shown_once_while_they_stay_the_same(client, token, website, shipping):
    post(client, "suggestions", {"token": token, "text": "shipping"})
    post(client, "suggestions", {"token": token, "text": "shipping time"})
    post(client, "suggestions", {"token": token, "text": "nothing matches this"})

    shown = SuggestionEvent.objects.get(kind="shown")
    assert (shown.inbox_id, shown.query, shown.article_ids) == (website.pk, "shipping", [shipping.pk])


def test_it_suggests_nothing_from_another_inbox_or_unpublished(client, token, other_inbox, shipping):
    ArticleInbox.objects.create(article=shipping, inbox_id=other_inbox.pk)
    Article.objects.create(title="Shipping draft", slug="draft", body="Shipping.", published=False)

    assert post(client, "suggestions", {"token": token, "text": "shipping"}).json() == {"articles": []}


@pytest.mark.parametrize("origin", [None, "https://evil.example"])
def test_it_refuses_suggestions_from_an_origin_the_inbox_does_not_allow(client, token, shipping, origin):
    response = post(client, "suggestions", {"token": token, "text": "shipping"}, origin=origin)

    assert response.status_code == 403
    assert not SuggestionEvent.objects.exists()


@pytest.mark.parametrize("token_value", [None, "forged", issue_visitor_token("no-such-inbox", "vera")])
def test_it_refuses_requests_without_a_valid_token(client, website, shipping, token_value):
    body = {"text": "shipping", "article": shipping.pk, "outcome": "answered", "query": "q"}
    if token_value:
        body["token"] = token_value

    assert post(client, "suggestions", body).status_code in (400, 401)
    assert post(client, "deflections", body).status_code in (400, 401)
    assert read(client, shipping.pk, token_value).status_code in (400, 401)
    assert not SuggestionEvent.objects.exists()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"text": 42}, "text is required"),
        ({"text": "x" * 2001}, "text is longer than 2000 characters"),
    ],
)
def test_it_refuses_bad_suggestion_requests_with_a_clear_error(client, token, body, message):
    response = post(client, "suggestions", {"token": token, **body})

    assert (response.status_code, response.json()["error"]) == (400, message)


def test_it_limits_suggestions_per_visitor(client, token, website, shipping):
    victor = issue_visitor_token(website.public_key, "victor")
    with override_settings(PARLEY_RATE_LIMITS={"selfservice_per_visitor": (2, 60), "selfservice_per_ip": None}):
        answers = [post(client, "suggestions", {"token": token, "text": "shipping"}) for _ in range(3)]
        other_visitor = post(client, "suggestions", {"token": victor, "text": "shipping"})

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2]["Retry-After"]) > 0
    assert answers[2].json()["retry_after"] > 0
    assert other_visitor.status_code == 200


def test_it_shows_an_article_as_paragraphs_of_text_and_records_the_opening(client, token, website, shipping):
    response = read(client, shipping.pk, token)

    assert response.status_code == 200
    assert response.json() == {
        "id": shipping.pk,
        "title": "How long does shipping take?",
        "paragraphs": ["Orders leave within two days.", "Shipping to Europe takes three to five days."],
    }
    opened = SuggestionEvent.objects.get()
    assert (opened.kind, opened.inbox_id, opened.article_id) == ("opened", website.pk, shipping.pk)


def test_it_serves_an_article_to_an_allowed_origin_and_refuses_others(client, token, shipping):
    assert read(client, shipping.pk, token, origin=SHOP).status_code == 200
    assert read(client, shipping.pk, token, origin="https://evil.example").status_code == 403


def test_it_hides_an_article_that_is_unpublished_or_not_offered_in_the_inbox(client, token, other_inbox, shipping):
    draft = Article.objects.create(title="Draft", slug="draft", body="Soon.", published=False)
    ArticleInbox.objects.create(article=shipping, inbox_id=other_inbox.pk)

    assert read(client, draft.pk, token).status_code == 404
    assert read(client, shipping.pk, token).status_code == 404
    assert read(client, 999999, token).status_code == 404
    assert not SuggestionEvent.objects.exists()


def test_it_records_a_deflection_once_per_visitor_article_and_question(client, token, website, shipping):
    body = {"token": token, "article": shipping.pk, "outcome": "answered", "query": "when will my shipping arrive"}

    first = post(client, "deflections", body)
    again = post(client, "deflections", body)

    assert (first.status_code, first.json()) == (200, {"recorded": True})
    assert (again.status_code, again.json()) == (200, {"recorded": False})
    deflection = SuggestionEvent.objects.get()
    assert (deflection.kind, deflection.inbox_id, deflection.article_id, deflection.query) == (
        "answered",
        website.pk,
        shipping.pk,
        "when will my shipping arrive",
    )


def test_it_records_still_need_help(client, token, shipping):
    body = {"token": token, "article": shipping.pk, "outcome": "need_help", "query": "shipping to Mars"}

    assert post(client, "deflections", body).json() == {"recorded": True}
    assert SuggestionEvent.objects.get().kind == "need_help"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"article": "1", "outcome": "answered"}, 400, "article must be an article id"),
        ({"article": True, "outcome": "answered"}, 400, "article must be an article id"),
        ({"outcome": "maybe"}, 400, "outcome must be answered or need_help"),
        ({"outcome": "answered", "query": ["x"]}, 400, "query must be text"),
        ({"article": 999999, "outcome": "answered"}, 404, "no such article"),
    ],
)
def test_it_refuses_bad_outcomes_with_a_clear_error(client, token, shipping, body, status, message):
    response = post(client, "deflections", {"token": token, "article": shipping.pk, **body})

    assert (response.status_code, response.json()["error"]) == (status, message)
    assert not SuggestionEvent.objects.exists()


def test_it_refuses_a_deflection_from_an_origin_the_inbox_does_not_allow(client, token, shipping):
    body = {"token": token, "article": shipping.pk, "outcome": "answered", "query": "q"}

    assert post(client, "deflections", body, origin="https://evil.example").status_code == 403
    assert not SuggestionEvent.objects.exists()


def test_it_has_every_self_service_string_in_the_frame_strings_table():
    named = set(re.findall(r'\bt\("(\w+)"\s*[,)]', SELFSERVICE_JS.read_text()))

    assert named, "selfservice.js names no strings: has it changed?"
    assert named <= strings_table()["en"]
