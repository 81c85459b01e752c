"""Replies by SMS end to end, and Twilio's status callbacks (channels_adapters/sms/views.py,
actions.outbox.do_record_provider_status): an agent replies via the customer's number, the worker
texts it through the real SDK to the Twilio stand-in, and Twilio's signed reports move the entry."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.outbox import do_mark_sent
from contact_center.actions.replies import do_send_reply
from contact_center.models import Delivery, EarlyProviderReport, Identity, TimelineEntry
from contact_center.worker import OutboxWorker
from tests.channels_adapters.conftest import SHOP_NUMBER, TWILIO_AUTH_TOKEN, VERA_PHONE, post_as_twilio, twilio_settings
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

STATUS_PATH = "/channels/twilio/status/"
SID = "SM" + "7c" * 16


@pytest.fixture
def chat(website):
    """Vera's chat in the website inbox."""
    return do_receive_inbound(visitor_envelope(website, visitor="vera", body="Where is my order?")).entry.conversation


@pytest.fixture
def phone(chat):
    return Identity.objects.create(customer_id=chat.customer_id, kind=Identity.Kind.PHONE, value=VERA_PHONE)


@pytest.fixture
def texted(chat, alice, texts, phone, twilio) -> TimelineEntry:
    """Alice's reply by SMS to Vera's number, which Twilio accepted as ``SID``."""
    entry = do_send_reply(alice, chat.pk, "Your parcel left today.", via=phone.pk)
    Delivery.objects.filter(entry=entry).update(state=Delivery.State.SENT, provider_message_id=SID)
    TimelineEntry.objects.filter(pk=entry.pk).update(delivery_status=TimelineEntry.DeliveryStatus.SENT)
    return entry


def report(status: str, sid: str = SID, **extra: str) -> dict[str, str]:
    """The form fields of a Twilio status callback for a message from the shop to Vera."""
    return {
        "AccountSid": "AC" + "0a" * 16,
        "ApiVersion": "2010-04-01",
        "From": SHOP_NUMBER,
        "To": VERA_PHONE,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        **extra,
    }


def callback(client, fields: dict[str, str], **signing):
    return post_as_twilio(client, STATUS_PATH, fields, **signing)


def status_of(entry: TimelineEntry) -> str:
    entry.refresh_from_db(fields=["delivery_status"])
    return entry.delivery_status


# --- End to end -----------------------------------------------------------------------------------------


# The worker's database calls close the connection they ran on: these run outside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_it_texts_a_reply_via_the_customers_number_and_hears_it_was_delivered(
    client, chat, alice, texts, phone, twilio, published
):
    entry = do_send_reply(alice, chat.pk, "Your parcel left today.", via=phone.pk)

    assert async_to_sync(OutboxWorker(name="test-worker").run_once)() == 1

    [request] = twilio.requests
    assert (request.form["To"], request.form["From"], request.form["Body"]) == (
        VERA_PHONE,
        SHOP_NUMBER,
        "Your parcel left today.",
    )
    delivery = Delivery.objects.get(entry=entry)
    sid = twilio.created[0]["sid"]
    assert (delivery.transport, delivery.state, delivery.provider_message_id) == ("sms", "sent", sid)
    assert status_of(entry) == "sent"

    # Twilio reports to the URL it was given, signed.
    callback_path = urlsplit(request.form["StatusCallback"]).path
    assert callback_path == STATUS_PATH
    assert callback(client, report("delivered", sid), token=None).status_code == 403  # unsigned
    assert status_of(entry) == "sent"
    assert callback(client, report("delivered", "SM" + "00" * 16)).status_code == 200  # not ours
    assert status_of(entry) == "sent"
    published.clear()

    response = callback(client, report("delivered", sid))

    assert response.status_code == 200
    assert status_of(entry) == "delivered"
    # Consoles see it live.
    [(event, groups)] = published
    assert (event["type"], event["entry"]["id"], event["entry"]["delivery_status"]) == (
        "entry.updated",
        entry.pk,
        "delivered",
    )
    assert groups == [f"inbox.{chat.inbox_id}"]


@pytest.mark.django_db(transaction=True)
def test_it_marks_a_reply_twilio_refused_for_good_failed(chat, alice, texts, phone, twilio):
    twilio.answers.append((400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}))
    entry = do_send_reply(alice, chat.pk, "Your parcel left today.", via=phone.pk)

    async_to_sync(OutboxWorker(name="test-worker").run_once)()

    delivery = Delivery.objects.get(entry=entry)
    assert (delivery.state, delivery.attempts, status_of(entry)) == ("dead", 1, "failed")
    assert "21610" in delivery.last_error


# --- Status callbacks ---------------------------------------------------------------------------------


def test_it_moves_the_reply_to_delivered(client, texted, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = callback(client, report("delivered"))

    assert response.status_code == 200
    assert status_of(texted) == "delivered"
    [(event, _groups)] = published
    assert (event["type"], event["entry"]["id"]) == ("entry.updated", texted.pk)


def test_it_records_why_a_reply_was_not_delivered(client, texted):
    response = callback(client, report("undelivered", ErrorCode="30003"))

    assert response.status_code == 200
    assert status_of(texted) == "failed"
    delivery = Delivery.objects.get(entry=texted)
    assert delivery.last_error == "Twilio: undelivered, error 30003"
    # The outbox's part is done: a failed text is not sent again.
    assert delivery.state == "sent"


def test_it_moves_a_delivered_reply_on_to_read(client, texted):
    callback(client, report("delivered"))
    callback(client, report("read"))

    assert status_of(texted) == "read"


@pytest.mark.parametrize(
    ("first", "late"), [("delivered", "sent"), ("read", "delivered"), ("delivered", "failed"), ("read", "undelivered")]
)
def test_it_ignores_a_report_that_arrives_after_a_later_one(client, texted, first, late, published):
    callback(client, report(first))
    published.clear()

    response = callback(client, report(late, ErrorCode="30005"))

    assert response.status_code == 200
    assert status_of(texted) == ("read" if first == "read" else "delivered")
    assert Delivery.objects.get(entry=texted).last_error == ""
    assert published == []


@pytest.mark.parametrize("status", ["queued", "accepted", "sending", "scheduled"])
def test_it_changes_nothing_for_a_status_before_sent(client, texted, status, published):
    response = callback(client, report(status))

    assert response.status_code == 200
    assert status_of(texted) == "sent"
    assert published == []


def test_it_answers_200_for_a_message_it_does_not_know(client, texted):
    response = callback(client, report("failed", sid="SM" + "00" * 16, ErrorCode="30008"))

    assert response.status_code == 200
    assert status_of(texted) == "sent"


# --- Reports that come before the worker recorded the send -----------------------------------------------


@pytest.fixture
def sending(chat, alice, texts, phone, twilio) -> TimelineEntry:
    """Alice's reply by SMS, which Twilio has accepted as ``SID`` while the worker has not recorded it."""
    entry = do_send_reply(alice, chat.pk, "Your parcel left today.", via=phone.pk)
    Delivery.objects.filter(entry=entry).update(state=Delivery.State.SENDING, leased_by="worker-1", attempts=1)
    return entry


def worker_records_the_send(entry: TimelineEntry, sid: str = SID) -> None:
    assert do_mark_sent(Delivery.objects.get(entry=entry).pk, "worker-1", sid)


def test_a_report_quicker_than_the_worker_is_kept_and_applied_when_the_send_is_recorded(
    client, sending, published, django_capture_on_commit_callbacks
):
    assert callback(client, report("delivered")).status_code == 200
    assert status_of(sending) == "queued"
    assert EarlyProviderReport.objects.filter(provider_message_id=SID, status="delivered").exists()
    published.clear()

    with django_capture_on_commit_callbacks(execute=True):
        worker_records_the_send(sending)

    assert status_of(sending) == "delivered"
    assert not EarlyProviderReport.objects.exists()
    assert [event["entry"]["delivery_status"] for event, _ in published] == ["sent", "delivered"]


def test_early_reports_apply_in_the_order_they_came_and_only_forward(client, sending):
    callback(client, report("delivered"))
    callback(client, report("sent"))  # late, out of order: changes nothing
    callback(client, report("undelivered", ErrorCode="30003"))  # after delivered: ignored too

    worker_records_the_send(sending)

    assert status_of(sending) == "delivered"
    assert Delivery.objects.get(entry=sending).last_error == ""


def test_an_early_failure_fails_the_entry_with_its_reason(client, sending):
    callback(client, report("undelivered", ErrorCode="30003"))

    worker_records_the_send(sending)

    assert status_of(sending) == "failed"
    assert Delivery.objects.get(entry=sending).last_error == "Twilio: undelivered, error 30003"


def test_another_messages_early_report_waits_for_its_own_message(client, sending):
    callback(client, report("delivered", sid="SM" + "11" * 16))

    worker_records_the_send(sending)

    assert status_of(sending) == "sent"
    assert EarlyProviderReport.objects.filter(provider_message_id="SM" + "11" * 16).exists()


def test_reports_nobody_claimed_for_a_day_are_dropped(client, sending):
    callback(client, report("delivered", sid="SM" + "22" * 16))
    EarlyProviderReport.objects.update(received_at=timezone.now() - timedelta(days=1, minutes=1))

    callback(client, report("delivered", sid="SM" + "33" * 16))

    assert list(EarlyProviderReport.objects.values_list("provider_message_id", flat=True)) == ["SM" + "33" * 16]


def test_it_refuses_an_unsigned_report(client, texted):
    assert callback(client, report("failed"), token=None).status_code == 403
    assert status_of(texted) == "sent"


def test_it_refuses_a_report_signed_with_another_token(client, texted):
    assert callback(client, report("failed"), token="ba" * 16).status_code == 403
    assert status_of(texted) == "sent"


def test_it_refuses_a_report_signed_for_another_url(client, texted):
    # Signed by Twilio for someone else's endpoint, replayed here.
    assert callback(client, report("failed"), url="https://elsewhere.example" + STATUS_PATH).status_code == 403
    assert status_of(texted) == "sent"


def test_it_refuses_a_report_whose_fields_were_changed_after_signing(client, texted):
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(
        settings.PUBLIC_BASE_URL + STATUS_PATH, report("delivered")
    )

    assert callback(client, report("failed"), signature=signature).status_code == 403
    assert status_of(texted) == "sent"


def test_it_refuses_every_report_while_twilio_is_not_configured(client, texted):
    with override_settings(PARLEY_TWILIO=twilio_settings(None, account_sid=None, auth_token=None)):
        assert callback(client, report("failed")).status_code == 403
    assert status_of(texted) == "sent"


def test_it_answers_only_posts(client, texted):
    assert client.get(STATUS_PATH).status_code == 405


def test_a_report_stored_just_as_the_worker_records_the_send_is_not_left_behind(client, sending, monkeypatch):
    # The worker looked for early reports, found none, and commits the id while this report is being
    # stored: the callback looks again once its report is committed, and applies it.
    store = EarlyProviderReport.objects.create

    def stored_as_the_worker_commits(**fields):
        report_row = store(**fields)
        Delivery.objects.filter(entry=sending).update(state=Delivery.State.SENT, provider_message_id=SID)
        TimelineEntry.objects.filter(pk=sending.pk).update(delivery_status=TimelineEntry.DeliveryStatus.SENT)
        return report_row

    monkeypatch.setattr(EarlyProviderReport.objects, "create", stored_as_the_worker_commits)

    callback(client, report("delivered"))

    assert status_of(sending) == "delivered"
    assert not EarlyProviderReport.objects.exists()
