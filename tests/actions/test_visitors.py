"""actions.visitors: the page a widget visitor is on, kept on their conversation for the agents."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.visitors import check_page, do_record_page
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

PRICING = {"url": "https://shop.example/pricing", "title": "Pricing"}


@pytest.fixture
def conversation(website):
    return do_receive_inbound(visitor_envelope(website)).entry.conversation


def test_it_stores_the_page_and_tells_the_agents_of_the_inbox(
    conversation, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        context = do_record_page(conversation.pk, PRICING)

    conversation.refresh_from_db()
    assert conversation.visitor_context == context
    assert context["page"] == PRICING
    assert context["seen_at"]
    assert published == [
        (
            {"type": "conversation.context", "conversation": conversation.pk, "visitor_context": context},
            [f"inbox.{conversation.inbox_id}"],
        )
    ]


def test_it_keeps_what_else_the_context_holds(conversation):
    conversation.visitor_context = {"locale": "nb-NO", "page": {"url": "https://shop.example/", "title": "Home"}}
    conversation.save(update_fields=["visitor_context"])

    context = do_record_page(conversation.pk, PRICING)

    assert context["locale"] == "nb-NO"
    assert context["page"] == PRICING


def test_it_never_tells_the_visitor(conversation, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        do_record_page(conversation.pk, PRICING)

    assert all(not group.startswith("visitor.") for _, groups in published for group in groups)


@pytest.mark.parametrize(
    "page",
    [
        None,
        "https://shop.example/",
        {"title": "No url"},
        {"url": "javascript:alert(1)", "title": "x"},
        {"url": "data:text/html,hi", "title": "x"},
        {"url": "ftp://shop.example/", "title": "x"},
        {"url": "https://shop.example/" + "a" * 2000, "title": "x"},
        {"url": "https://shop.example/", "title": "t" * 301},
        {"url": "https://shop.example/", "title": 7},
    ],
)
def test_it_refuses_a_page_that_is_not_an_http_url_with_a_short_title(page):
    with pytest.raises(ValidationError):
        check_page(page)


def test_it_accepts_the_longest_page_allowed_and_drops_other_keys():
    page = {"url": "http://shop.example/" + "a" * 1980, "title": "t" * 300, "referrer": "x"}

    assert check_page(page) == {"url": page["url"], "title": page["title"]}
