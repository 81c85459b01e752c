"""GET /console/export/conversations.csv: the list on screen, every page of it, as CSV."""

from __future__ import annotations

import csv
import io

import pytest

from contact_center.actions.inbound import do_receive_inbound
from contact_center.models import Conversation
from contact_center.views.exports import safe_cell
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

URL = "/console/export/conversations.csv"


def export(client, **params) -> list[dict]:
    response = client.get(URL, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="parley-conversations-')
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def chat(inbox, visitor: str, **fields) -> Conversation:
    conversation = do_receive_inbound(visitor_envelope(inbox, visitor=visitor, external_id=visitor)).entry.conversation
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    return conversation


def test_it_exports_every_page_of_the_list_the_agent_may_see(client, website, other_inbox, alice, monkeypatch):
    mine = [chat(website, f"v{n}") for n in range(7)]
    chat(other_inbox, "elsewhere")
    monkeypatch.setattr("contact_center.views.exports.BATCH", 3)
    client.force_login(alice)

    rows = export(client)

    assert sorted(int(row["id"]) for row in rows) == sorted(c.pk for c in mine)
    assert rows[0]["inbox"] == "Website" and rows[0]["channel"] == "widget" and rows[0]["status"] == "open"


def test_it_exports_the_filters_and_order_of_the_list(client, website, alice):
    urgent = chat(website, "v1", priority=4)
    chat(website, "v2", status="resolved")
    client.force_login(alice)

    rows = export(client, status="open", sort="priority", cursor="ignored")

    assert [int(row["id"]) for row in rows] == [urgent.pk]
    assert rows[0]["priority"] == "urgent"


def test_a_customer_name_that_is_a_formula_is_exported_as_text(client, website, alice):
    conversation = chat(website, "v1")
    conversation.customer.name = '=HYPERLINK("https://evil.example")'
    conversation.customer.save()
    client.force_login(alice)

    [row] = export(client)

    assert row["customer"] == "'" + conversation.customer.name


@pytest.mark.parametrize(
    ("value", "cell"), [("=1+1", "'=1+1"), ("-5", "'-5"), ("@sam", "'@sam"), ("Vera", "Vera"), (None, "")]
)
def test_cells_that_a_spreadsheet_would_run_get_an_apostrophe(value, cell):
    assert safe_cell(value) == cell


def test_it_answers_400_for_a_list_it_would_refuse(client, alice):
    client.force_login(alice)
    assert client.get(URL, {"sort": "random"}).status_code == 400


def test_it_costs_two_queries_per_batch(client, website, alice, monkeypatch, django_assert_num_queries):
    for n in range(7):
        chat(website, f"v{n}")
    monkeypatch.setattr("contact_center.views.exports.BATCH", 3)
    client.force_login(alice)

    # user (the session comes from the cache), then rows and their labels for each of three batches.
    with django_assert_num_queries(1 + 2 * 3):
        b"".join(client.get(URL).streaming_content)
