"""Settings -> Quarantine (issue 13, "nothing is lost"; docs/console.md, docs/email.md "Quarantine"):
what Parley received but could not place, listed for admins with its reason, downloadable as it came,
retried once the cause is fixed, or discarded after a confirm step. Admins only."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from channels_adapters.email.inbound import receive_email
from channels_adapters.sms.views import SOURCE as SMS
from channels_adapters.sms.views import parse_incoming_message
from contact_center.actions.inbound import do_receive_raw
from contact_center.models import Agent, Inbox, RawInbound

pytestmark = pytest.mark.django_db

QUARANTINE = "/console/settings/quarantine/"
CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
SUPPORT = "support@shop.example"
SHOP_NUMBER = "+4721999999"
VERA_PHONE = "+4721000000"
VERA_MAIL = (CORPUS / "thread-01-vera-gmail-question.eml").read_bytes()


@pytest.fixture
def supervisor(db):
    return Agent.objects.create_user("sue", password="sue-password", role=Agent.Role.SUPERVISOR)


@pytest.fixture
def admin_client(client, charlie):
    client.force_login(charlie)
    return client


@pytest.fixture
def stray_mail(db) -> RawInbound:
    """Vera's mail to an address no email inbox has (yet)."""
    row = receive_email(VERA_MAIL, SUPPORT)
    assert row.state == RawInbound.State.QUARANTINED
    return row


@pytest.fixture
def stray_text(db) -> RawInbound:
    """Vera's text to a number no SMS inbox has (yet)."""
    fields = {"MessageSid": "SM" + "1" * 32, "From": VERA_PHONE, "To": SHOP_NUMBER, "Body": "Is my order late?"}
    row = do_receive_raw(SMS, fields, parse_incoming_message)
    assert row.state == RawInbound.State.QUARANTINED
    return row


def url(row: RawInbound | int, action: str) -> str:
    return f"{QUARANTINE}{getattr(row, 'pk', row)}/{action}/"


# --- the list -----------------------------------------------------------------------------------


def test_it_lists_quarantined_mail_and_texts_newest_first_with_sender_subject_and_reason(
    admin_client, stray_mail, stray_text
):
    page = admin_client.get(QUARANTINE)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Vera Lind &lt;vera@home.example&gt;" in html
    assert "Order 10482 arrived damaged" in html
    assert SUPPORT in html
    assert f"no email inbox has the address &#x27;{SUPPORT}&#x27;" in html
    assert VERA_PHONE in html and SHOP_NUMBER in html
    assert f"no SMS inbox has the number {SHOP_NUMBER}" in html
    assert [item["row"].pk for item in page.context["items"]] == [stray_text.pk, stray_mail.pk]
    assert url(stray_mail, "download") in html and url(stray_text, "retry") in html


def test_it_leaves_out_what_was_placed(admin_client, stray_text):
    Inbox.objects.create(name="Support", kind=Inbox.Kind.EMAIL, address=SUPPORT)
    receive_email(VERA_MAIL, SUPPORT)

    page = admin_client.get(QUARANTINE)

    assert [item["row"].pk for item in page.context["items"]] == [stray_text.pk]


def test_it_says_what_lands_here_when_nothing_is_quarantined(admin_client):
    page = admin_client.get(QUARANTINE)

    assert "Nothing is quarantined" in page.content.decode()


def test_it_pages_fifty_at_a_time_and_shrugs_off_a_bad_page_number(admin_client, stray_mail):
    for n in range(50):
        receive_email(VERA_MAIL + f"\n{n}\n".encode(), SUPPORT)

    first = admin_client.get(QUARANTINE)
    second = admin_client.get(QUARANTINE, {"page": 2})
    hostile = admin_client.get(QUARANTINE, {"page": "-1'; drop table"})

    assert len(first.context["items"]) == 50
    assert [item["row"].pk for item in second.context["items"]] == [stray_mail.pk]
    assert hostile.status_code == 200


def test_it_shows_the_link_to_admins_only(client, charlie, alice):
    client.force_login(charlie)
    assert QUARANTINE in client.get("/console/settings/teams/").content.decode()
    client.force_login(alice)
    assert QUARANTINE not in client.get("/console/settings/security/").content.decode()


# --- who may ------------------------------------------------------------------------------------


def test_agents_and_supervisors_get_a_403_on_every_quarantine_page(client, alice, supervisor, stray_mail):
    for agent in (alice, supervisor):
        client.force_login(agent)
        for path in (QUARANTINE, url(stray_mail, "download"), url(stray_mail, "discard")):
            assert client.get(path).status_code == 403, (agent, path)
        for action in ("retry", "discard"):
            assert client.post(url(stray_mail, action)).status_code == 403, (agent, action)
    assert RawInbound.objects.get(pk=stray_mail.pk).state == RawInbound.State.QUARANTINED


def test_hostile_ids_get_a_404_not_a_500(admin_client, stray_text, no_error_logged):
    for row_id in (0, 999_999, 2**63, 10**30):
        assert admin_client.get(url(row_id, "download")).status_code == 404, row_id
        assert admin_client.get(url(row_id, "discard")).status_code == 404, row_id
        for action in ("retry", "discard"):
            assert admin_client.post(url(row_id, action)).status_code == 404, (row_id, action)
    assert admin_client.get(f"{QUARANTINE}abc/download/").status_code == 404


# --- download -----------------------------------------------------------------------------------


def test_it_downloads_a_mail_as_the_exact_bytes_that_arrived(admin_client, stray_mail):
    response = admin_client.get(url(stray_mail, "download"))

    assert response.status_code == 200
    assert response.content == VERA_MAIL
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="quarantined-{stray_mail.pk}.eml"'


def test_it_downloads_a_text_as_its_webhook_fields_in_json(admin_client, stray_text):
    response = admin_client.get(url(stray_text, "download"))

    assert response.status_code == 200
    assert json.loads(response.content) == stray_text.fields
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="quarantined-{stray_text.pk}.json"'


# --- retry --------------------------------------------------------------------------------------


def test_retry_places_the_mail_once_its_inbox_exists_and_the_same_row_becomes_stored(
    admin_client, charlie, stray_mail, caplog
):
    support = Inbox.objects.create(name="Support", kind=Inbox.Kind.EMAIL, address=SUPPORT)
    caplog.set_level(logging.INFO)

    response = admin_client.post(url(stray_mail, "retry"), follow=True)

    row = RawInbound.objects.get(pk=stray_mail.pk)
    assert row.state == RawInbound.State.STORED and row.error == ""
    assert row.entry.inbox == support and row.entry.conversation.subject == "Order 10482 arrived damaged"
    assert RawInbound.objects.count() == 1
    assert f"Placed #{row.pk}" in response.content.decode()
    assert any("charlie" in r.getMessage() and "retried" in r.getMessage() for r in caplog.records)
    # The MTA delivering the same bytes again now finds the placed row: still one entry.
    assert receive_email(VERA_MAIL, SUPPORT).pk == row.pk


def test_retry_of_mail_that_still_cannot_be_placed_keeps_it_quarantined_with_the_reason(admin_client, stray_mail):
    Inbox.objects.create(name="Other", kind=Inbox.Kind.EMAIL, address="other@shop.example")

    response = admin_client.post(url(stray_mail, "retry"), follow=True)

    row = RawInbound.objects.get(pk=stray_mail.pk)
    assert row.state == RawInbound.State.QUARANTINED
    assert row.error == f"no email inbox has the address '{SUPPORT}'"
    assert "still quarantined" in response.content.decode()


def test_retry_places_a_text_once_its_number_has_an_inbox(admin_client, stray_text):
    texts = Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address=SHOP_NUMBER)

    admin_client.post(url(stray_text, "retry"))

    row = RawInbound.objects.get(pk=stray_text.pk)
    assert row.state == RawInbound.State.STORED and row.entry.inbox == texts
    assert row.entry.body == "Is my order late?"


def test_a_second_retry_of_a_placed_row_changes_nothing(admin_client, stray_mail):
    Inbox.objects.create(name="Support", kind=Inbox.Kind.EMAIL, address=SUPPORT)
    admin_client.post(url(stray_mail, "retry"))
    entry_id = RawInbound.objects.get(pk=stray_mail.pk).entry_id

    assert admin_client.post(url(stray_mail, "retry")).status_code == 302

    assert RawInbound.objects.get(pk=stray_mail.pk).entry_id == entry_id


def test_retry_is_a_post_only(admin_client, stray_mail):
    assert admin_client.get(url(stray_mail, "retry")).status_code == 405


# --- discard ------------------------------------------------------------------------------------


def test_discard_asks_first_then_deletes_for_good(admin_client, stray_mail):
    confirm = admin_client.get(url(stray_mail, "discard"))

    assert confirm.status_code == 200 and "Discard for good" in confirm.content.decode()
    assert RawInbound.objects.filter(pk=stray_mail.pk).exists()

    assert admin_client.post(url(stray_mail, "discard")).status_code == 302
    assert not RawInbound.objects.filter(pk=stray_mail.pk).exists()


def test_discard_refuses_a_placed_row(admin_client, stray_mail):
    Inbox.objects.create(name="Support", kind=Inbox.Kind.EMAIL, address=SUPPORT)
    admin_client.post(url(stray_mail, "retry"))

    assert admin_client.post(url(stray_mail, "discard")).status_code == 404
    assert RawInbound.objects.filter(pk=stray_mail.pk).exists()


# --- CSRF ---------------------------------------------------------------------------------------


def test_posts_without_the_csrf_token_are_refused(charlie, stray_mail):
    Inbox.objects.create(name="Support", kind=Inbox.Kind.EMAIL, address=SUPPORT)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(charlie)

    assert browser.post(url(stray_mail, "retry")).status_code == 403
    assert browser.post(url(stray_mail, "discard")).status_code == 403
    assert RawInbound.objects.get(pk=stray_mail.pk).state == RawInbound.State.QUARANTINED

    page = browser.get(QUARANTINE)
    token = page.cookies["csrftoken"].value
    assert browser.post(url(stray_mail, "retry"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert RawInbound.objects.get(pk=stray_mail.pk).state == RawInbound.State.STORED


def test_the_list_costs_the_same_queries_for_one_row_or_many(admin_client, stray_mail):
    with CaptureQueriesContext(connection) as one:
        admin_client.get(QUARANTINE)
    for n in range(5):
        receive_email(VERA_MAIL + f"\n{n}\n".encode(), SUPPORT)
        do_receive_raw(SMS, {"MessageSid": f"SM{n}", "From": VERA_PHONE, "To": SHOP_NUMBER}, parse_incoming_message)

    with CaptureQueriesContext(connection) as many:
        admin_client.get(QUARANTINE)

    assert len(many) == len(one)
