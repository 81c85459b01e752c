"""Sending SMS: the outbound half of the SMS channel, through Twilio's Messages API with the official SDK.

Configured by ``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN`` (``settings.PARLEY_TWILIO``), and
``TWILIO_API_URL`` to send the SDK's requests somewhere other than ``https://api.twilio.com`` (a proxy,
the tests' stand-in); docs/configuration.md, "SMS (Twilio)". What Twilio reports afterwards
(delivered, undelivered) comes back to ``views.message_status``.
"""

from __future__ import annotations

import asyncio
import threading

from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from contact_center.transports import OutboundMessage, Transport, TransportError

TWILIO_API = "https://api.twilio.com"
# Connect and read, each. A read timeout after Twilio got the request may mean the text went out: the
# retry then sends it again (SmsTransport's docstring).
TWILIO_TIMEOUT_SECONDS = 15
# Refusals that name the number, whatever HTTP status carries them: not a valid number (21211, 21214),
# a country or region the account may not text (21408, 21612), the customer replied STOP (21610), a
# number that cannot receive SMS (21614). Sending again gets the same answer.
PERMANENT_ERROR_CODES = frozenset({21211, 21214, 21408, 21610, 21612, 21614})


class RebasedHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, with requests for ``https://api.twilio.com`` sent to ``base_url``: the
    way Twilio suggests pointing the SDK elsewhere (it has no base-URL option; twilio-python#521).

    A request for any other host is refused rather than sent there: a configuration that names a
    stand-in must never reach the real API (``TWILIO_EDGE`` or ``TWILIO_REGION`` in the environment
    would change the host the SDK asks for)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url != TWILIO_API and not url.startswith(TWILIO_API + "/"):
            raise ValueError(f"TWILIO_API_URL is set and the SDK asked for {url}, which is not on {TWILIO_API}")
        return super().request(method, self.base_url + url[len(TWILIO_API) :], *args, **kwargs)


# One SDK client per worker thread and configuration: each holds a requests session (kept-alive
# connections to Twilio), and a requests session is not meant to be shared between threads.
_clients = threading.local()


def twilio_client(config: dict) -> Client:
    """The calling thread's SDK client for ``config`` (``settings.PARLEY_TWILIO``)."""
    key = (config["account_sid"], config["auth_token"], config["api_url"], TWILIO_TIMEOUT_SECONDS)
    if getattr(_clients, "key", None) != key:
        http = (
            RebasedHttpClient(config["api_url"], timeout=TWILIO_TIMEOUT_SECONDS)
            if config["api_url"]
            else TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS)
        )
        _clients.key, _clients.client = key, Client(config["account_sid"], config["auth_token"], http_client=http)
    return _clients.client


def create_message(config: dict, **params) -> str:
    """Blocking: ask Twilio to send one message; returns its SID. Runs on a worker thread, which
    uses its own client from start to end."""
    return twilio_client(config).messages.create(**params).sid


def status_callback_url() -> str:
    """Where Twilio reports what became of each message: the URL it will sign (``PUBLIC_BASE_URL``)."""
    return settings.PUBLIC_BASE_URL + reverse("sms:twilio-status")


def transport_error(exc: TwilioRestException | TwilioServiceException) -> TransportError:
    """Twilio's refusal as a ``TransportError``: permanent for a number that cannot be texted and for
    any other 4xx but 401 and 429 (the same request gets the same answer); retried for 5xx, 429 (busy)
    and 401: refused credentials are the account's problem, not the message's, and replies queued while
    an operator fixes ``TWILIO_AUTH_TOKEN`` should still go out."""
    status, code = exc.status, exc.code
    text = exc.msg if isinstance(exc, TwilioRestException) else exc.detail or exc.title
    permanent = code in PERMANENT_ERROR_CODES or (400 <= status < 500 and status not in (401, 429))
    return TransportError(f"Twilio {status}, error {code}: {text}", permanent=permanent)


class SmsTransport(Transport):
    """Texts the entry to ``message.to_value`` (E.164) from the inbox's number (its ``address``).

    The text is ``message.text_with_links()``: the body, then a signed link per file (no MMS). It
    goes with a ``status_callback`` so that Twilio's later reports (delivered, undelivered) reach the
    entry. Returns the message SID.

    Twilio's Messages API takes no idempotency key: when a request reached Twilio but its answer was
    lost (a read timeout, a dropped connection), the outbox's retry creates a second message and the
    customer gets the text twice. That is the price of retrying at all; the alternative, never
    retrying after a timeout, would lose texts instead.

    The SDK is synchronous (requests): each call runs on a thread, never on the event loop.
    """

    async def send(self, message: OutboundMessage) -> str | None:
        config = settings.PARLEY_TWILIO
        if not config["account_sid"] or not config["auth_token"]:
            # Retried: an operator who sets the credentials and restarts still gets the text out.
            raise TransportError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set to send SMS")
        if message.to_kind != "phone" or not message.to_value:
            raise TransportError("this conversation has no phone number to text", permanent=True)
        sender = message.inbox.get("address")
        if not sender:
            # Retried: the inbox is read again on every attempt, so giving it its number fixes this.
            raise TransportError(f"the SMS inbox {message.inbox.get('name')!r} has no number to send from")
        try:
            return await asyncio.to_thread(
                create_message,
                config,
                to=message.to_value,
                from_=sender,
                body=message.text_with_links(),
                status_callback=status_callback_url(),
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise transport_error(exc) from exc
        except OSError as exc:
            # requests' timeouts and connection errors are OSErrors.
            raise TransportError(f"Twilio unreachable: {exc}") from exc
