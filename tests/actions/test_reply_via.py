"""Replies to another address of the customer: ``do_send_reply(..., via=<identity id>)``, the outbound
message the worker builds from it, and the "Reply via" choices (actions/reply_via.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.offline import do_leave_offline_message
from contact_center.actions.outbox import load_outbound
from contact_center.actions.replies import do_send_reply
from contact_center.actions.reply_via import reply_options
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Conversation, Customer, Delivery, Identity, Inbox, TimelineEntry
from contact_center.transports import OutboundMessage, Transport
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

VERA_HOME = "vera@home.example"
VERA_PHONE = "+4721000000"


class SmsStandIn(Transport):
    """Sends nothing: with it configured, SMS counts as set up, as Twilio credentials make it."""

    async def send(self, message: OutboundMessage) -> str | None:
        return None


WITH_SMS = {
    "widget": "widget.transport.WidgetTransport",
    "email": "channels_adapters.email.transport.EmailTransport",
    "sms": f"{__name__}.SmsStandIn",
}


@pytest.fixture
def chat(website):
    """Vera's chat in the website inbox."""
    return do_receive_inbound(visitor_envelope(website, visitor="vera", body="Where is my order?")).entry.conversation


@pytest.fixture
def mailbox(alice):
    """An email inbox of Alice's: where replies to email addresses leave from."""
    inbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    inbox.members.add(alice)
    return inbox


@pytest.fixture
def texts(alice):
    inbox = Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address="+4721999999")
    inbox.members.add(alice)
    return inbox


def address(conversation, kind=Identity.Kind.EMAIL, value=VERA_HOME, verified=True) -> Identity:
    return Identity.objects.create(customer_id=conversation.customer_id, kind=kind, value=value, verified=verified)


def email_conversation(inbox, sender=VERA_HOME) -> object:
    envelope = InboundEnvelope(
        inbox_id=inbox.pk,
        external_id=f"<{sender}.1@mail.example>",
        sender=Sender(kind="email", value=sender),
        body="Hello by mail",
        subject="My order",
        continue_latest=False,
    )
    return do_receive_inbound(envelope).entry.conversation


def outbound_of(entry: TimelineEntry):
    return load_outbound(Delivery.objects.get(entry=entry).pk)


# --- Sending to another address ------------------------------------------------------------------------


def test_it_sends_a_chat_reply_by_email_to_the_address_the_agent_picked(chat, alice, mailbox):
    home = address(chat)

    entry = do_send_reply(alice, chat.pk, "Your parcel left today.", via=home.pk, client_id="c-via-0001")

    assert entry.payload == {
        "client_id": "c-via-0001",
        "via": {"kind": "email", "value": VERA_HOME, "inbox": mailbox.pk},
    }
    assert Delivery.objects.get(entry=entry).transport == "email"
    message = outbound_of(entry)
    assert (message.to_kind, message.to_value, message.transport) == ("email", VERA_HOME, "email")
    # Sent from the mailbox: its name signs the mail.
    assert (message.inbox["id"], message.inbox["name"]) == (mailbox.pk, "Support mail")
    # Still a reply of this conversation: the widget shows it too when the visitor comes back.
    assert (entry.conversation_id, entry.public_seq, entry.delivery_status) == (chat.pk, 2, "queued")


def test_it_sends_from_the_conversations_own_inbox_when_it_is_of_that_channel(alice, mailbox):
    # An inbox earlier by name that Alice also sees: the conversation's own inbox still wins.
    Inbox.objects.create(name="Archive mail", kind=Inbox.Kind.EMAIL).members.add(alice)
    conversation = email_conversation(mailbox)
    work = address(conversation, value="vera@work.example")

    entry = do_send_reply(alice, conversation.pk, "Copying your work address.", via=work.pk)

    assert entry.payload["via"] == {"kind": "email", "value": "vera@work.example", "inbox": mailbox.pk}
    message = outbound_of(entry)
    assert (message.to_value, message.inbox["id"], message.subject) == ("vera@work.example", mailbox.pk, "My order")


def test_it_sends_from_the_first_email_inbox_by_name_that_the_agent_can_see(chat, alice, mailbox):
    Inbox.objects.create(name="Accounts mail", kind=Inbox.Kind.EMAIL)  # not Alice's
    Inbox.objects.create(name="Zeta mail", kind=Inbox.Kind.EMAIL).members.add(alice)

    entry = do_send_reply(alice, chat.pk, "By mail", via=address(chat).pk)

    assert entry.payload["via"]["inbox"] == mailbox.pk


def test_an_admin_sends_from_any_email_inbox(chat, charlie):
    accounts = Inbox.objects.create(name="Accounts mail", kind=Inbox.Kind.EMAIL)

    entry = do_send_reply(charlie, chat.pk, "By mail", via=address(chat).pk)

    assert entry.payload["via"]["inbox"] == accounts.pk


def test_it_allows_an_unverified_address(chat, alice, mailbox):
    typed = address(chat, value="vera@typed.example", verified=False)

    entry = do_send_reply(alice, chat.pk, "By mail", via=typed.pk)

    assert entry.payload["via"]["value"] == "vera@typed.example"


def test_it_sends_to_the_chosen_address_rather_than_the_offline_forms(website, alice, mailbox):
    left = do_leave_offline_message(website.pk, "vera", "client-0001", "vera@left.example", "Call me back?")
    conversation = left.entry.conversation

    entry = do_send_reply(alice, conversation.pk, "Writing to your usual address.", via=address(conversation).pk)

    message = outbound_of(entry)
    assert (message.to_value, message.inbox["id"]) == (VERA_HOME, mailbox.pk)


def test_it_sends_to_a_phone_number_through_an_sms_inbox(chat, alice, texts, mailbox):
    phone = address(chat, kind=Identity.Kind.PHONE, value=VERA_PHONE)

    with override_settings(PARLEY_TRANSPORTS=WITH_SMS):
        entry = do_send_reply(alice, chat.pk, "Your parcel left today.", via=phone.pk)

    assert entry.payload["via"] == {"kind": "phone", "value": VERA_PHONE, "inbox": texts.pk}
    message = outbound_of(entry)
    assert (message.transport, message.to_kind, message.to_value) == ("sms", "phone", VERA_PHONE)
    # The SMS transport sends from the inbox's number.
    assert message.inbox["address"] == "+4721999999"


def test_the_sending_inbox_falls_back_to_the_conversations_when_it_was_deleted(chat, alice, mailbox):
    entry = do_send_reply(alice, chat.pk, "By mail", via=address(chat).pk)
    delivery = Delivery.objects.get(entry=entry)
    TimelineEntry.objects.filter(pk=entry.pk).update(
        payload={**entry.payload, "via": {**entry.payload["via"], "inbox": 0}}
    )

    message = load_outbound(delivery.pk)

    assert (message.to_value, message.inbox["id"], message.transport) == (VERA_HOME, chat.inbox_id, "email")


# --- Refusals ------------------------------------------------------------------------------------------


def refused(alice, conversation, via) -> str:
    with pytest.raises(ValidationError) as raised:
        do_send_reply(alice, conversation.pk, "Hello", via=via, client_id="c-refused-1")
    assert not TimelineEntry.objects.filter(direction="out").exists()
    assert not Delivery.objects.exists()
    return raised.value.messages[0]


def test_it_refuses_an_address_of_another_customer(chat, alice, mailbox):
    victor = Customer.objects.create(name="Victor")
    theirs = Identity.objects.create(customer=victor, kind="email", value="victor@example.com")

    assert refused(alice, chat, theirs.pk) == "that address is not one of this customer's"


def test_it_refuses_an_address_that_does_not_exist(chat, alice, mailbox):
    assert refused(alice, chat, 999_999) == "that address is not one of this customer's"


def test_it_refuses_the_widget_visitor_id(chat, alice, mailbox):
    visitor = Identity.objects.get(customer_id=chat.customer_id, kind="visitor")

    assert refused(alice, chat, visitor.pk) == "a reply can go to an email address or a phone number only"


@pytest.mark.parametrize("via", ["12", 1.5, True, [1], {"id": 1}])
def test_it_refuses_a_via_that_is_not_an_identity_id(chat, alice, mailbox, via):
    assert refused(alice, chat, via) == "via is the id of one of the customer's addresses, or null"


def test_it_refuses_an_email_address_when_the_agent_sees_no_email_inbox(chat, alice):
    Inbox.objects.create(name="Accounts mail", kind=Inbox.Kind.EMAIL)  # not Alice's

    assert refused(alice, chat, address(chat).pk) == "there is no Email inbox you can send from"


def test_it_refuses_a_phone_number_while_sms_is_not_set_up(chat, alice, texts):
    phone = address(chat, kind=Identity.Kind.PHONE, value=VERA_PHONE)

    assert refused(alice, chat, phone.pk) == "sending by SMS is not set up here"


def test_it_refuses_a_phone_number_when_the_agent_sees_no_sms_inbox(chat, alice):
    phone = address(chat, kind=Identity.Kind.PHONE, value=VERA_PHONE)

    with override_settings(PARLEY_TRANSPORTS=WITH_SMS):
        assert refused(alice, chat, phone.pk) == "there is no SMS inbox you can send from"


def test_a_resend_returns_the_stored_reply_even_if_its_address_has_gone_since(chat, alice, mailbox):
    home = address(chat)
    first = do_send_reply(alice, chat.pk, "By mail", via=home.pk, client_id="c-via-0001")
    home.delete()

    again = do_send_reply(alice, chat.pk, "By mail", via=home.pk, client_id="c-via-0001")

    assert again.pk == first.pk
    assert Delivery.objects.count() == 1


# --- What "Reply via" offers ---------------------------------------------------------------------------


def test_a_chat_without_addresses_offers_only_its_own_channel(chat, alice, mailbox):
    assert reply_options(alice, chat) == [
        {
            "identity": None,
            "kind": "visitor",
            "value": "",
            "verified": None,
            "inbox": {"id": chat.inbox_id, "name": "Website"},
            "label": "Chat · Website",
        }
    ]


def test_it_offers_each_address_with_the_inbox_it_leaves_from(chat, alice, mailbox, texts):
    home, typed = address(chat), address(chat, value="vera@typed.example", verified=False)
    phone = address(chat, kind=Identity.Kind.PHONE, value=VERA_PHONE)

    with override_settings(PARLEY_TRANSPORTS=WITH_SMS):
        options = reply_options(alice, chat)

    assert [(o["identity"], o["label"], o["inbox"]["name"]) for o in options] == [
        (None, "Chat · Website", "Website"),
        (home.pk, f"Email · {VERA_HOME}", "Support mail"),
        (typed.pk, "Email · vera@typed.example (unverified)", "Support mail"),
        (phone.pk, f"SMS · {VERA_PHONE}", "Texts"),
    ]
    assert options[2] | {"label": ""} == {
        "identity": typed.pk,
        "kind": "email",
        "value": "vera@typed.example",
        "verified": False,
        "inbox": {"id": mailbox.pk, "name": "Support mail"},
        "label": "",
    }


def test_it_leaves_out_addresses_it_could_not_send_to(chat, alice, texts):
    address(chat)  # no email inbox of Alice's
    address(chat, kind=Identity.Kind.PHONE, value=VERA_PHONE)  # no SMS transport

    assert [o["identity"] for o in reply_options(alice, chat)] == [None]


def test_it_does_not_offer_the_address_an_email_conversation_already_answers(alice, mailbox):
    conversation = email_conversation(mailbox)
    work = address(conversation, value="vera@work.example")

    options = reply_options(alice, conversation)

    assert [(o["identity"], o["label"]) for o in options] == [
        (None, f"Email · {VERA_HOME}"),
        (work.pk, "Email · vera@work.example"),
    ]
    assert (options[0]["kind"], options[0]["value"]) == ("email", VERA_HOME)


def test_an_offline_form_conversation_answers_by_email_by_default(website, alice, mailbox):
    left = do_leave_offline_message(website.pk, "vera", "client-0001", "vera@left.example", "Call me back?")
    conversation = Conversation.objects.get(pk=left.entry.conversation_id)
    address(conversation, value="vera@left.example")

    [default] = reply_options(alice, conversation)

    assert (default["kind"], default["value"], default["label"]) == (
        "email",
        "vera@left.example",
        "Email · vera@left.example",
    )
