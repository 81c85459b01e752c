"""The console's inbox settings page, /console/settings/inboxes/: the widget embed snippet to copy."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from contact_center.models import Inbox

pytestmark = pytest.mark.django_db

URL = "/console/settings/inboxes/"


def test_it_shows_an_admin_each_widget_snippet_with_its_key_and_the_public_base_url(client, charlie, website, settings):
    settings.PUBLIC_BASE_URL = "https://chat.example.com"
    website.allowed_origins = ["https://shop.example"]
    website.save(update_fields=["allowed_origins"])
    client.force_login(charlie)

    page = client.get(URL).content.decode()

    loader = "https://chat.example.com/widget/loader.js"
    snippet = f'<script src="{loader}" data-inbox="{website.public_key}" async></script>'
    # Escaped once by the template: the textarea shows (and copies) the tag as text.
    assert escape(snippet) in page
    assert "https://shop.example" in page
    assert "docs/widget.md" in page


def test_it_shows_no_snippet_for_an_inbox_that_is_not_a_widget(client, charlie):
    Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@example.com")
    client.force_login(charlie)

    page = client.get(URL).content.decode()

    assert "Support mail" in page and "help@example.com" in page
    assert "loader.js" not in page


def test_it_reads_the_inboxes_in_a_fixed_number_of_queries(client, charlie, website, other_inbox):
    client.force_login(charlie)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(5):
        Inbox.objects.create(name=f"Extra {n}", kind=Inbox.Kind.WIDGET)
    with CaptureQueriesContext(connection) as many:
        client.get(URL)

    assert len(many) == len(few)


def test_it_refuses_an_agent_who_is_not_an_admin(client, alice):
    client.force_login(alice)

    assert client.get(URL).status_code == 403


def test_it_sends_a_logged_out_visitor_to_the_login_page(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_it_links_the_page_from_the_console_header_for_admins_only(client, charlie, alice):
    client.force_login(charlie)
    assert URL in client.get("/console/").content.decode()

    client.force_login(alice)
    assert URL not in client.get("/console/").content.decode()
