"""Django admin for the kb: where articles are written and deflections read until the kb has its own pages."""

from __future__ import annotations

import pytest

from contact_center.models import Agent
from kb.models import Article, SuggestionEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = Agent.objects.create_user("root", password="root-password", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_it_lists_articles_and_deflections_in_admin(admin_client):
    article = Article.objects.create(title="Shipping times", slug="shipping", body="Two days.", published=True)
    SuggestionEvent.objects.create(kind="answered", inbox_id=1, visitor_hash="x", article=article, query="ship?")

    articles = admin_client.get("/admin/kb/article/")
    events = admin_client.get("/admin/kb/suggestionevent/?kind__exact=answered")

    assert articles.status_code == 200 and b"Shipping times" in articles.content
    assert events.status_code == 200 and b"ship?" in events.content


def test_it_keeps_suggestion_events_read_only(admin_client):
    assert admin_client.get("/admin/kb/suggestionevent/add/").status_code == 403
