"""The console's customer sidebar: /console/api/customers/<id>/ and renaming a customer."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contact_center.access import AccessDenied
from contact_center.actions.customer_profile import do_update_customer
from contact_center.actions.customers import do_rename_customer
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.labels import do_save_label
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Agent, Company, Conversation, Identity, Inbox
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


def url(customer_id: int) -> str:
    return f"/console/api/customers/{customer_id}/"


@pytest.fixture
def mailbox(db, alice):
    inbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    inbox.members.add(alice)
    return inbox


@pytest.fixture
def vera(website, mailbox):
    """Vera chatted on the website, then wrote an email from an address she also gave the widget."""
    chat = do_receive_inbound(visitor_envelope(website, visitor="vera")).entry.conversation
    Identity.objects.create(customer=chat.customer, kind="email", value="vera@home.example", verified=True)
    do_receive_inbound(
        InboundEnvelope(
            inbox_id=mailbox.pk,
            external_id="<m1@home.example>",
            sender=Sender(kind="email", value="vera@home.example"),
            body="About my chat earlier",
            subject="Order 1042",
        )
    )
    Conversation.objects.filter(pk=chat.pk).update(status="resolved")
    return chat.customer


def test_it_shows_the_customers_identities_and_every_conversation_the_agent_may_see(client, vera, alice):
    client.force_login(alice)

    data = client.get(url(vera.pk)).json()

    assert data["customer"]["identities"] == [{"kind": "email", "value": "vera@home.example", "verified": True}]
    # One customer across channels: the email and the chat, newest first, each with its status.
    assert [(c["inbox"]["kind"], c["status"]) for c in data["conversations"]] == [
        ("email", "open"),
        ("widget", "resolved"),
    ]


def test_it_shows_only_the_conversations_of_inboxes_the_agent_may_see(client, vera, bob, mailbox):
    mailbox.members.add(bob)
    client.force_login(bob)

    data = client.get(url(vera.pk)).json()

    assert [c["inbox"]["kind"] for c in data["conversations"]] == ["email"]


def test_it_hides_a_customer_the_agent_has_no_conversation_with(client, vera, bob):
    client.force_login(bob)
    assert client.get(url(vera.pk)).status_code == 404
    assert client.get(url(999_999)).status_code == 404


def test_it_costs_the_same_queries_however_many_conversations_and_identities(client, website, alice):
    customer = do_receive_inbound(visitor_envelope(website, visitor="vera")).entry.conversation.customer
    client.force_login(alice)

    def grow_to(count: int) -> int:
        for n in range(customer.conversations.count(), count):
            Conversation.objects.create(customer=customer, inbox=website, last_activity_at=customer.created_at)
            Identity.objects.create(customer=customer, kind="email", value=f"vera{n}@home.example")
        with CaptureQueriesContext(connection) as captured:
            assert len(client.get(url(customer.pk)).json()["conversations"]) == count
        return len(captured)

    assert grow_to(2) == grow_to(15)


def test_an_agent_renames_the_customer_and_their_consoles_hear_it(
    vera, alice, website, mailbox, published, django_capture_on_commit_callbacks
):
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        do_rename_customer(alice, vera.pk, "  Vera   Nowak ")

    vera.refresh_from_db()
    assert vera.name == "Vera Nowak"
    [(event, groups)] = published
    assert event["type"] == "customer.updated" and event["customer"]["name"] == "Vera Nowak"
    assert groups == sorted([f"inbox.{website.pk}", f"inbox.{mailbox.pk}"])


@pytest.mark.parametrize("name", [None, 42, "x" * 201])
def test_it_refuses_a_name_that_is_not_a_short_text(vera, alice, name):
    with pytest.raises(ValidationError):
        do_rename_customer(alice, vera.pk, name)


def test_an_agent_who_sees_none_of_their_conversations_cannot_rename_them(vera, bob):
    with pytest.raises(AccessDenied):
        do_rename_customer(bob, vera.pk, "Someone else")


def test_it_shows_the_company_account_owner_and_labels_and_whom_the_owner_menu_offers(client, vera, alice, charlie):

    Company.objects.create(name="Acme Outdoor", domain="acme.example")
    labels = [do_save_label(charlie, name, "teal").pk for name in ("vip", "B2B")]
    do_update_customer(alice, vera.pk, {"company": "acme outdoor", "account_owner": alice.pk, "labels": labels})
    Agent.objects.create_user("gone", password="x", is_active=False)
    client.force_login(alice)

    data = client.get(url(vera.pk)).json()

    acme = Company.objects.get()
    assert data["customer"]["company"] == {"id": acme.pk, "name": "Acme Outdoor", "domain": "acme.example"}
    assert data["customer"]["account_owner"] == {"id": alice.pk, "name": "Alice"}
    assert [label["name"] for label in data["customer"]["labels"]] == ["B2B", "vip"]
    assert data["customer"]["labels"][0] == {"id": labels[1], "name": "B2B", "color": "#0d9488"}
    # Any active agent may own a customer, by name; inactive ones are not offered.
    assert data["owners"] == [{"id": alice.pk, "name": "Alice"}, {"id": charlie.pk, "name": "charlie"}]


def test_a_customer_without_them_has_no_company_owner_or_labels(client, vera, alice):
    client.force_login(alice)

    customer = client.get(url(vera.pk)).json()["customer"]

    assert (customer["company"], customer["account_owner"], customer["labels"]) == (None, None, [])


def test_the_company_field_suggests_companies_by_name(client, alice):

    for name in ("Birch & Co", "acme outdoor", "Acme Labs", "Cedar"):
        Company.objects.create(name=name)
    client.force_login(alice)

    every = client.get("/console/api/companies/").json()["companies"]
    some = client.get("/console/api/companies/", {"q": " ACME "}).json()["companies"]

    assert [c["name"] for c in every] == ["Acme Labs", "acme outdoor", "Birch & Co", "Cedar"]
    assert [c["name"] for c in some] == ["Acme Labs", "acme outdoor"]
    assert set(some[0]) == {"id", "name", "domain"}
    client.logout()
    assert client.get("/console/api/companies/").status_code == 302
