"""The entries page's ``reply_options``: what the console's "Reply via" menu offers for a conversation
(actions/reply_via.py has the rules; these specs read them through the page)."""

from __future__ import annotations

import pytest

from contact_center.actions.inbound import do_receive_inbound
from contact_center.models import Identity, Inbox
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(website):
    return do_receive_inbound(visitor_envelope(website, visitor="vera")).entry.conversation


def reply_options(client, conversation_id):
    response = client.get(f"/console/api/conversations/{conversation_id}/entries/")
    assert response.status_code == 200
    return response.json()["reply_options"]


def test_a_chat_offers_its_own_channel_first_then_the_customers_email_addresses(client, chat, alice):
    mailbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    mailbox.members.add(alice)
    home = Identity.objects.create(customer_id=chat.customer_id, kind="email", value="vera@home.example")
    client.force_login(alice)

    assert reply_options(client, chat.pk) == [
        {
            "identity": None,
            "kind": "visitor",
            "value": "",
            "verified": None,
            "inbox": {"id": chat.inbox_id, "name": "Website"},
            "label": "Chat · Website",
        },
        {
            "identity": home.pk,
            "kind": "email",
            "value": "vera@home.example",
            "verified": False,
            "inbox": {"id": mailbox.pk, "name": "Support mail"},
            "label": "Email · vera@home.example (unverified)",
        },
    ]


def test_an_email_address_is_not_offered_to_an_agent_who_sees_no_email_inbox(client, chat, alice):
    Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL)  # not Alice's
    Identity.objects.create(customer_id=chat.customer_id, kind="email", value="vera@home.example")
    client.force_login(alice)

    assert [option["identity"] for option in reply_options(client, chat.pk)] == [None]
