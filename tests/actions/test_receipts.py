"""actions.receipts: replies a customer has seen are marked read, and never go back."""

from __future__ import annotations

import pytest
from django.db import transaction

from contact_center.actions import outbox
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.receipts import do_mark_read_by_customer
from contact_center.actions.replies import do_send_reply
from contact_center.models import TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(website):
    return do_receive_inbound(visitor_envelope(website, visitor="vera")).entry.conversation


def test_it_marks_the_replies_up_to_what_the_customer_saw(chat, alice, published, django_capture_on_commit_callbacks):
    first = do_send_reply(alice, chat.pk, "One")
    second = do_send_reply(alice, chat.pk, "Two")
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert do_mark_read_by_customer(chat.inbox_id, chat.customer_id, chat.pk, first.public_seq) == 1

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.delivery_status, second.delivery_status) == ("read", "queued")
    [(event, groups)] = published
    assert (event["type"], event["entry"]["id"], groups) == ("entry.updated", first.pk, [f"inbox.{chat.inbox_id}"])


def test_a_failed_reply_stays_failed(chat, alice):
    reply = do_send_reply(alice, chat.pk, "One")
    TimelineEntry.objects.filter(pk=reply.pk).update(delivery_status="failed")

    assert do_mark_read_by_customer(chat.inbox_id, chat.customer_id, chat.pk, reply.public_seq) == 0


def test_another_customers_receipt_changes_nothing(chat, alice, other_inbox):
    reply = do_send_reply(alice, chat.pk, "One")

    assert do_mark_read_by_customer(chat.inbox_id, chat.customer_id + 1, chat.pk, 99) == 0
    assert do_mark_read_by_customer(other_inbox.pk, chat.customer_id, chat.pk, 99) == 0
    reply.refresh_from_db()
    assert reply.delivery_status == "queued"


def test_the_outbox_never_moves_a_read_reply_back_to_sent(chat, alice):
    reply = do_send_reply(alice, chat.pk, "One")
    do_mark_read_by_customer(chat.inbox_id, chat.customer_id, chat.pk, reply.public_seq)

    # The worker records the send after the visitor already read it (the widget got it live).
    with transaction.atomic():
        outbox._set_entry_status(reply.pk, TimelineEntry.DeliveryStatus.SENT)

    reply.refresh_from_db()
    assert reply.delivery_status == "read"
