"""Fixtures shared by the channel adapters' tests."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import override_settings
from twilio.request_validator import RequestValidator

from contact_center.models import Inbox
from contact_center.transports import get_transport
from tests.support.twilio_standin import TwilioStandIn

TWILIO_ACCOUNT_SID = "AC" + "0a" * 16
TWILIO_AUTH_TOKEN = "5e" * 16
SHOP_NUMBER = "+4721999999"
VERA_PHONE = "+4721000000"


def twilio_settings(api_url: str | None, account_sid=TWILIO_ACCOUNT_SID, auth_token=TWILIO_AUTH_TOKEN) -> dict:
    """``PARLEY_TWILIO`` as settings.py builds it from ``TWILIO_*``."""
    return {"account_sid": account_sid, "auth_token": auth_token, "api_url": api_url}


@pytest.fixture
def twilio():
    """Twilio's Messages API stood in on loopback, and SMS configured to send through it with the real
    SDK (``TWILIO_API_URL``): the "sms" transport registered, as credentials register it."""
    get_transport.cache_clear()
    with (
        TwilioStandIn(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN) as standin,
        override_settings(
            PARLEY_TWILIO=twilio_settings(standin.url),
            PARLEY_TRANSPORTS={**settings.PARLEY_TRANSPORTS, "sms": "channels_adapters.sms.transport.SmsTransport"},
        ),
    ):
        yield standin
    get_transport.cache_clear()


@pytest.fixture
def texts(alice):
    """An SMS inbox of Alice's at the shop's number: where texts to Vera leave from and hers arrive."""
    inbox = Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address=SHOP_NUMBER)
    inbox.members.add(alice)
    return inbox


def post_as_twilio(client, path: str, fields: dict[str, str], *, token=TWILIO_AUTH_TOKEN, url=None, signature=None):
    """POST ``fields`` to ``path`` as Twilio does: form-encoded, signed with ``token`` over ``url`` (by
    default the one Twilio was given: PUBLIC_BASE_URL and the path); no signature with no token."""
    url = url or settings.PUBLIC_BASE_URL + path
    if signature is None and token:
        signature = RequestValidator(token).compute_signature(url, fields)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(path, urlencode(fields), content_type="application/x-www-form-urlencoded", headers=headers)
