"""actions.inbound.do_receive_inbound: the one entry point every channel's inbound traffic funnels into."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Conversation, Customer, Identity, Inbox, TimelineEntry
from tests.actions import concurrently
from tests.conftest import visitor_envelope


@pytest.fixture
def mailbox(db):
    return Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@parley.example")


@pytest.fixture
def sales_mailbox(db):
    return Inbox.objects.create(name="Sales mail", kind=Inbox.Kind.EMAIL, address="sales@parley.example")


@pytest.fixture
def sms(db):
    return Inbox.objects.create(name="SMS", kind=Inbox.Kind.SMS, address="+14155550100")


@pytest.fixture
def whatsapp(db):
    return Inbox.objects.create(name="WhatsApp", kind=Inbox.Kind.WHATSAPP, address="+14155550100")


def envelope(inbox, kind: str, value: str, external_id: str, **extra) -> InboundEnvelope:
    return InboundEnvelope(
        inbox_id=inbox.pk, external_id=external_id, sender=Sender(kind=kind, value=value), body="Hi", **extra
    )


def receive(inbox, visitor="vera", body="Hello", external_id="m1", **extra) -> TimelineEntry:
    return do_receive_inbound(
        visitor_envelope(inbox, visitor=visitor, body=body, external_id=external_id, **extra)
    ).entry


def timeline(conversation_id: int) -> list[tuple]:
    return list(
        TimelineEntry.objects.filter(conversation_id=conversation_id)
        .order_by("seq")
        .values_list("seq", "public_seq", "kind", "direction")
    )


def counts() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "identities": Identity.objects.count(),
        "conversations": Conversation.objects.count(),
        "entries": TimelineEntry.objects.count(),
    }


# --- First contact ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_creates_the_customer_identity_conversation_and_first_entry(website):
    sender = Sender(kind="visitor", value="vera", display_name="Vera")
    result = do_receive_inbound(InboundEnvelope(inbox_id=website.pk, external_id="m1", sender=sender, body="Hello"))

    assert result.created is True
    entry = result.entry
    identity = Identity.objects.get()
    assert (identity.kind, identity.value) == ("visitor", "vera")
    assert identity.customer.name == "Vera"
    conversation = Conversation.objects.get()
    assert (conversation.customer_id, conversation.inbox_id, conversation.identity_id) == (
        identity.customer_id,
        website.pk,
        identity.pk,
    )
    assert conversation.status == Conversation.Status.OPEN
    assert (conversation.last_seq, conversation.last_public_seq) == (1, 1)
    assert (entry.seq, entry.public_seq, entry.kind, entry.direction) == (1, 1, "message", "in")
    assert (entry.body, entry.external_id, entry.customer_id) == ("Hello", "m1", identity.customer_id)
    assert Customer.objects.get().last_seen_at == entry.created_at


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "value"),
    [("email", "not an address"), ("phone", "555-0100"), ("phone", "+1 12"), ("visitor", "vera; drop"), ("fax", "1")],
)
def test_it_refuses_a_sender_value_that_does_not_normalise_and_stores_nothing(website, published, kind, value):
    with pytest.raises(ValidationError):
        do_receive_inbound(envelope(website, kind, value, "m1"))

    assert counts() == {"customers": 0, "identities": 0, "conversations": 0, "entries": 0}
    assert published == []


# --- Idempotency --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_stores_a_repeated_envelope_once_and_publishes_nothing_for_the_repeat(
    website, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = do_receive_inbound(visitor_envelope(website, body="Hello", external_id="m1"))
    published.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = do_receive_inbound(visitor_envelope(website, body="Hello, again?", external_id="m1"))

    assert (again.created, again.entry.pk) == (False, first.entry.pk)
    assert again.entry.body == "Hello"
    assert counts() == {"customers": 1, "identities": 1, "conversations": 1, "entries": 1}
    assert callbacks == []
    assert published == []


@pytest.mark.django_db
def test_it_treats_the_same_external_id_in_another_inbox_as_another_message(website, other_inbox):
    first = receive(website, external_id="m1")
    second = receive(other_inbox, external_id="m1")

    assert first.pk != second.pk
    assert first.conversation_id != second.conversation_id
    assert TimelineEntry.objects.count() == 2
    # One visitor id is one customer, whatever the inbox.
    assert first.customer_id == second.customer_id


@pytest.mark.django_db(transaction=True)
def test_it_stores_one_entry_when_the_same_envelope_arrives_concurrently(website):
    results = concurrently(
        lambda _: do_receive_inbound(visitor_envelope(website, body="Hello", external_id="twin")), range(8)
    )

    assert counts() == {"customers": 1, "identities": 1, "conversations": 1, "entries": 1}
    assert sorted(result.created for result in results) == [False] * 7 + [True]
    assert {result.entry.pk for result in results} == {TimelineEntry.objects.get().pk}


@pytest.mark.django_db(transaction=True)
def test_it_opens_one_conversation_for_concurrent_first_messages_of_a_new_sender(website):
    results = concurrently(
        lambda n: do_receive_inbound(visitor_envelope(website, body=f"Message {n}", external_id=f"m{n}")), range(8)
    )

    assert all(result.created for result in results)
    assert counts() == {"customers": 1, "identities": 1, "conversations": 1, "entries": 8}
    conversation = Conversation.objects.get()
    assert [row[:2] for row in timeline(conversation.pk)] == [(n, n) for n in range(1, 9)]
    assert (conversation.last_seq, conversation.last_public_seq) == (8, 8)


@pytest.mark.django_db(transaction=True)
def test_it_opens_one_conversation_for_concurrent_first_messages_of_a_known_customer_in_a_new_inbox(
    website, other_inbox
):
    known = receive(other_inbox, body="Hello partner", external_id="earlier")

    results = concurrently(
        lambda n: do_receive_inbound(visitor_envelope(website, body=f"Message {n}", external_id=f"m{n}")), range(8)
    )

    assert {result.entry.customer_id for result in results} == {known.customer_id}
    assert Conversation.objects.filter(inbox=website).count() == 1
    conversation = Conversation.objects.get(inbox=website)
    assert [row[:2] for row in timeline(conversation.pk)] == [(n, n) for n in range(1, 9)]


# --- Identity -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_recognises_an_email_address_in_any_inbox_whatever_its_case_and_spacing(mailbox, sales_mailbox):
    first = do_receive_inbound(envelope(mailbox, "email", "Vera@Example.COM", "<a@mail>", continue_latest=False))
    second = do_receive_inbound(
        envelope(sales_mailbox, "email", "  vera@example.com ", "<b@mail>", continue_latest=False)
    )

    assert first.entry.customer_id == second.entry.customer_id
    assert list(Identity.objects.values_list("kind", "value")) == [("email", "vera@example.com")]
    assert Customer.objects.count() == 1
    assert first.entry.conversation_id != second.entry.conversation_id


@pytest.mark.django_db
def test_it_recognises_a_phone_number_in_any_inbox_whatever_its_format(sms, whatsapp):
    first = do_receive_inbound(envelope(sms, "phone", "+1 (415) 555-2671", "SM1"))
    second = do_receive_inbound(envelope(whatsapp, "phone", "+14155552671", "wamid.1"))
    third = do_receive_inbound(envelope(sms, "phone", "+1 415.555.2671", "SM2"))

    assert first.entry.customer_id == second.entry.customer_id == third.entry.customer_id
    assert list(Identity.objects.values_list("kind", "value")) == [("phone", "+14155552671")]
    # SMS continues the latest conversation of the number in that inbox.
    assert third.entry.conversation_id == first.entry.conversation_id


@pytest.mark.django_db
def test_it_keeps_different_senders_apart(website):
    vera = receive(website, visitor="vera", external_id="m1")
    victor = receive(website, visitor="victor", external_id="m2")

    assert vera.customer_id != victor.customer_id
    assert vera.conversation_id != victor.conversation_id


# --- Threading ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_continues_the_latest_conversation_of_a_chat_sender(website):
    first = receive(website, external_id="m1")
    second = receive(website, external_id="m2")

    assert second.conversation_id == first.conversation_id
    assert (second.seq, second.public_seq) == (2, 2)


@pytest.mark.django_db
def test_it_opens_a_new_conversation_for_an_email_without_a_thread(mailbox):
    first = do_receive_inbound(envelope(mailbox, "email", "vera@example.com", "<a@mail>", continue_latest=False))
    second = do_receive_inbound(envelope(mailbox, "email", "vera@example.com", "<b@mail>", continue_latest=False))

    assert first.entry.conversation_id != second.entry.conversation_id


@pytest.mark.django_db
def test_it_follows_a_thread_hint_to_the_senders_own_conversation(mailbox):
    first = do_receive_inbound(envelope(mailbox, "email", "vera@example.com", "<a@mail>", continue_latest=False))
    do_receive_inbound(envelope(mailbox, "email", "vera@example.com", "<b@mail>", continue_latest=False))

    reply = do_receive_inbound(
        envelope(
            mailbox,
            "email",
            "vera@example.com",
            "<c@mail>",
            thread_hint=first.entry.conversation_id,
            continue_latest=False,
        )
    )

    assert reply.entry.conversation_id == first.entry.conversation_id


@pytest.mark.django_db
def test_it_ignores_a_thread_hint_to_another_customers_conversation(mailbox):
    veras = do_receive_inbound(envelope(mailbox, "email", "vera@example.com", "<a@mail>", continue_latest=False))

    victors = do_receive_inbound(
        envelope(
            mailbox,
            "email",
            "victor@example.com",
            "<b@mail>",
            thread_hint=veras.entry.conversation_id,
            continue_latest=False,
        )
    )

    assert victors.entry.conversation_id != veras.entry.conversation_id
    assert TimelineEntry.objects.filter(conversation_id=veras.entry.conversation_id).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [Conversation.Status.RESOLVED, Conversation.Status.PENDING, Conversation.Status.SNOOZED]
)
def test_it_reopens_a_conversation_the_customer_writes_to_again(
    website, published, django_capture_on_commit_callbacks, status
):
    first = receive(website, external_id="m1")
    Conversation.objects.filter(pk=first.conversation_id).update(status=status, resolved_at=first.created_at)

    with django_capture_on_commit_callbacks(execute=True):
        again = receive(website, body="Still broken", external_id="m2")

    conversation = Conversation.objects.get()
    assert again.conversation_id == conversation.pk
    assert (conversation.status, conversation.resolved_at) == (Conversation.Status.OPEN, None)
    assert timeline(conversation.pk) == [
        (1, 1, "message", "in"),
        (2, None, "activity", "internal"),
        (3, 2, "message", "in"),
    ]
    activity = TimelineEntry.objects.get(kind=TimelineEntry.Kind.ACTIVITY)
    assert activity.payload == {"event": "status", "from": status, "to": "open"}
    # Agents hear of the reopening; the visitor hears only of the message.
    inbox_group, visitor_group = f"inbox.{website.pk}", f"visitor.{website.pk}.{first.customer_id}"
    assert [(event["type"], event.get("entry", {}).get("kind"), groups) for event, groups in published] == [
        ("entry.created", "activity", [inbox_group]),
        ("entry.created", "message", [inbox_group]),
        ("message", None, [visitor_group]),
    ]
    assert published[0][0]["conversation"]["status"] == "open"


@pytest.mark.django_db
def test_it_leaves_an_open_conversation_without_an_activity_entry(website):
    receive(website, external_id="m1")
    receive(website, external_id="m2")

    assert not TimelineEntry.objects.filter(kind=TimelineEntry.Kind.ACTIVITY).exists()


# --- Sequence numbers ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_numbers_every_entry_gap_free_and_only_customer_visible_ones_publicly(website, alice):
    conversation_id = receive(website, external_id="m1").conversation_id
    do_send_reply(alice, conversation_id, "How can I help?")
    do_add_note(alice, conversation_id, "Vera is a VIP")
    Conversation.objects.filter(pk=conversation_id).update(status=Conversation.Status.RESOLVED)
    receive(website, external_id="m2")
    do_send_reply(alice, conversation_id, "Back again!")

    assert timeline(conversation_id) == [
        (1, 1, "message", "in"),
        (2, 2, "message", "out"),
        (3, None, "note", "internal"),
        (4, None, "activity", "internal"),
        (5, 3, "message", "in"),
        (6, 4, "message", "out"),
    ]
    conversation = Conversation.objects.get(pk=conversation_id)
    assert (conversation.last_seq, conversation.last_public_seq) == (6, 4)


@pytest.mark.django_db
def test_it_numbers_each_conversation_on_its_own(website):
    receive(website, visitor="vera", external_id="m1")
    receive(website, visitor="vera", external_id="m2")
    victors = receive(website, visitor="victor", external_id="m3")

    assert (victors.seq, victors.public_seq) == (1, 1)


# --- Events -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_tells_the_inbox_agents_and_the_visitors_own_sessions(
    website, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = receive(website, body="Hello", external_id="m1")

    agent_event, agent_groups = published[0]
    visitor_event, visitor_groups = published[1]
    assert len(published) == 2
    assert agent_groups == [f"inbox.{website.pk}"]
    assert agent_event["type"] == "entry.created"
    assert agent_event["conversation"]["id"] == entry.conversation_id
    assert (agent_event["entry"]["id"], agent_event["entry"]["seq"], agent_event["entry"]["body"]) == (
        entry.pk,
        1,
        "Hello",
    )
    assert visitor_groups == [f"visitor.{website.pk}.{entry.customer_id}"]
    assert visitor_event == {
        "type": "message",
        "message": {
            "id": entry.pk,
            "conversation": entry.conversation_id,
            "seq": 1,
            "direction": "in",
            "author_name": None,
            "author_avatar": None,
            "body": "Hello",
            "client_id": None,
            "attachments": [],
            "created_at": entry.created_at.isoformat(),
        },
    }


@pytest.mark.django_db
def test_it_tells_only_the_agents_of_a_message_from_a_non_widget_channel(
    mailbox, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        do_receive_inbound(envelope(mailbox, "email", "vera@example.com", "<a@mail>"))

    assert [(event["type"], groups) for event, groups in published] == [("entry.created", [f"inbox.{mailbox.pk}"])]


@pytest.mark.django_db(transaction=True)
def test_it_publishes_only_once_the_transaction_commits(website, published):
    with transaction.atomic():
        receive(website, external_id="m1")
        assert published == []

    assert [event["type"] for event, _ in published] == ["entry.created", "message"]


@pytest.mark.django_db(transaction=True)
def test_it_publishes_nothing_and_keeps_nothing_when_the_transaction_rolls_back(website, published):
    with pytest.raises(RuntimeError), transaction.atomic():
        receive(website, external_id="m1")
        raise RuntimeError("the caller failed after receiving")

    assert published == []
    assert counts() == {"customers": 0, "identities": 0, "conversations": 0, "entries": 0}
