"""Fixtures shared by the channel adapters' tests."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from contact_center.transports import get_transport
from tests.support.twilio_standin import TwilioStandIn

TWILIO_ACCOUNT_SID = "AC" + "0a" * 16
TWILIO_AUTH_TOKEN = "5e" * 16


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
