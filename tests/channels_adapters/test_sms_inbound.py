"""Texts customers send (channels_adapters/sms/views.py ``incoming_message``): Twilio's signed webhook,
stored as it came, then on the customer's timeline, the same customer whichever channel they used."""

from __future__ import annotations

import pytest
from django.test import override_settings

from contact_center.actions.inbound import do_receive_inbound, do_receive_raw
from contact_center.models import Agent, Conversation, Identity, RawInbound, TimelineEntry
from tests.channels_adapters.conftest import SHOP_NUMBER, TWILIO_AUTH_TOKEN, VERA_PHONE, post_as_twilio, twilio_settings
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

SMS_PATH = "/channels/twilio/sms/"


@pytest.fixture(autouse=True)
def twilio_configured():
    with override_settings(PARLEY_TWILIO=twilio_settings(None)):
        yield


def text(body: str = "Is my parcel on its way?", sid: str = "SM" + "1a" * 16, **extra: str) -> dict[str, str]:
    """The form fields of Twilio's webhook for a text from Vera to the shop's number."""
    return {
        "AccountSid": "AC" + "0a" * 16,
        "ApiVersion": "2010-04-01",
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "From": VERA_PHONE,
        "To": SHOP_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "FromCountry": "NO",
        **extra,
    }


def deliver(client, fields: dict[str, str], *, token=TWILIO_AUTH_TOKEN):
    return post_as_twilio(client, SMS_PATH, fields, token=token)


def test_a_text_lands_on_the_customers_timeline_in_the_sms_inbox(
    client, texts, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, text())

    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert b"<Response></Response>" in response.content
    entry = TimelineEntry.objects.get(inbox=texts)
    assert (entry.body, entry.direction, entry.kind) == ("Is my parcel on its way?", "in", "message")
    assert Identity.objects.get(customer=entry.customer).value == VERA_PHONE
    raw = RawInbound.objects.get()
    assert (raw.source, raw.state, raw.entry_id) == ("twilio-sms", "stored", entry.pk)
    assert raw.fields["Body"] == "Is my parcel on its way?"  # kept as it came
    assert any(event["type"] == "entry.created" for event, _ in published)


def test_a_known_number_is_the_same_customer_as_on_other_channels(client, texts, website):
    chat = do_receive_inbound(visitor_envelope(website, visitor="vera", body="Hi")).entry.conversation
    Identity.objects.create(customer_id=chat.customer_id, kind=Identity.Kind.PHONE, value=VERA_PHONE)

    deliver(client, text())

    entry = TimelineEntry.objects.get(inbox=texts)
    assert entry.customer_id == chat.customer_id


def test_later_texts_continue_the_conversation_and_a_retried_webhook_is_one_entry(client, texts):
    deliver(client, text("First"))
    deliver(client, text("First"))  # Twilio retried the same MessageSid
    deliver(client, text("Second", sid="SM" + "2b" * 16))

    assert Conversation.objects.filter(inbox=texts).count() == 1
    assert list(TimelineEntry.objects.filter(inbox=texts).order_by("seq").values_list("body", flat=True)) == [
        "First",
        "Second",
    ]
    assert RawInbound.objects.count() == 3  # every delivery is on record


def test_pictures_of_an_mms_are_kept_as_twilios_links(client, texts):
    media = "https://api.twilio.com/2010-04-01/Accounts/AC0a/Messages/SM1a/Media/ME1"
    deliver(client, text("Look", NumMedia="1", MediaUrl0=media, MediaContentType0="image/jpeg"))

    entry = TimelineEntry.objects.get(inbox=texts)
    assert entry.payload["media"] == [{"url": media, "content_type": "image/jpeg"}]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"To": "+4721888888"}, "no SMS inbox has the number +4721888888"),
        ({"From": "shop"}, "not a phone number"),
        ({"MessageSid": ""}, "no MessageSid"),
    ],
)
def test_a_text_that_cannot_be_placed_is_quarantined_with_the_reason(client, texts, changes, reason):
    response = deliver(client, text(**changes))

    assert response.status_code == 200  # received: Twilio sending it again would not help
    assert not TimelineEntry.objects.filter(inbox=texts).exists()
    raw = RawInbound.objects.get()
    assert raw.state == "quarantined"
    assert reason in raw.error
    assert raw.fields["Body"] == "Is my parcel on its way?"


def test_an_unsigned_or_mis_signed_text_is_refused_and_not_stored(client, texts):
    assert deliver(client, text(), token=None).status_code == 403
    assert deliver(client, text(), token="ff" * 16).status_code == 403
    assert not RawInbound.objects.exists()
    assert not TimelineEntry.objects.filter(inbox=texts).exists()


def test_quarantined_texts_are_listed_in_django_admin(client, texts):
    deliver(client, text(To="+4721888888"))
    root = Agent.objects.create_user("root", password="root-password", is_staff=True, is_superuser=True)
    client.force_login(root)

    page = client.get("/admin/contact_center/rawinbound/?state__exact=quarantined")

    assert page.status_code == 200
    assert b"no SMS inbox has the number +4721888888" in page.content


def test_an_unexpected_failure_leaves_the_text_on_record_as_received(texts):
    def broken(fields):
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        do_receive_raw("twilio-sms", text(), broken)

    assert RawInbound.objects.get().state == "received"  # for an admin to find; nothing was lost
