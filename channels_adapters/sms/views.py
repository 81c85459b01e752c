"""Twilio's webhooks for the SMS channel: texts customers send, and status callbacks for the ones
Parley sent.

Twilio posts each text sent to an SMS inbox's number to ``incoming_message`` (the number's "A message
comes in" webhook). It is stored as it came (``RawInbound``), then parsed into an envelope: the sender's
number is the customer's phone identity, so a customer who chatted or emailed before and whose number
is known lands on the same timeline; Twilio's MessageSid makes a retried webhook one entry. A text to a
number no SMS inbox has, or from something that is not a phone number, is quarantined with the reason.

Twilio calls ``status_callback`` (transport.py) each time a message moves: queued, sent, delivered,
undelivered, failed. Every request is signed with the account's auth token over the URL Twilio called
and the form fields (``X-Twilio-Signature``); anything unsigned or mis-signed is refused (403) before
it is read. A signed report gets 200 whatever it says, so Twilio does not keep retrying it: one that
arrives after a later status changes nothing, and one for a message whose SID the worker has not
recorded yet is kept until it has (actions/outbox.py, ``EarlyProviderReport``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from contact_center.actions.inbound import do_receive_raw
from contact_center.actions.outbox import do_record_provider_status
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.lib.identity import normalize_identity
from contact_center.models import Inbox, TimelineEntry

# The outbox's name for this channel: the PARLEY_TRANSPORTS key the deliveries were queued under.
TRANSPORT = "sms"
# Twilio's MessageStatus -> the entry's delivery status. queued, accepted, scheduled and sending say
# nothing the console does not show already (queued until the worker records the send).
STATUSES = {
    "sent": TimelineEntry.DeliveryStatus.SENT,
    "delivered": TimelineEntry.DeliveryStatus.DELIVERED,
    "read": TimelineEntry.DeliveryStatus.READ,
    "undelivered": TimelineEntry.DeliveryStatus.FAILED,
    "failed": TimelineEntry.DeliveryStatus.FAILED,
}


@dataclass(frozen=True)
class StatusReport:
    message_sid: str
    status: str
    error: str


def parse_status_callback(params) -> StatusReport | None:
    """The report in a status callback's form fields, or None when it changes nothing (a status
    before ``sent``, or no message SID). Only the SID, the status and the error code are kept;
    ``error`` is what the delivery records should the message have failed."""
    sid = (params.get("MessageSid") or "").strip()
    raw = (params.get("MessageStatus") or "").strip().lower()
    status = STATUSES.get(raw)
    if not sid or status is None:
        return None
    code = (params.get("ErrorCode") or "").strip()
    return StatusReport(message_sid=sid, status=status, error=f"Twilio: {raw}" + (f", error {code}" if code else ""))


def signed_by_twilio(request: HttpRequest) -> bool:
    """Whether ``X-Twilio-Signature`` is Twilio's signature, with the account's auth token, of the URL
    Twilio called (``PUBLIC_BASE_URL`` and the path: behind a proxy the request's own host may differ)
    and the form fields. False without a token: nothing can be checked."""
    token = settings.PARLEY_TWILIO["auth_token"]
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST, signature)


# Twilio's signature, not a cookie, authenticates these requests: CSRF does not apply.
@csrf_exempt
@require_POST
def message_status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callback: 403 unless signed; else 200, the entry moved when the report is news."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden("bad signature")
    report = parse_status_callback(request.POST)
    if report is not None:
        do_record_provider_status(TRANSPORT, report.message_sid, report.status, report.error)
    return HttpResponse(status=200)


# An empty TwiML answer: received, and nothing to text back.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SOURCE = "twilio-sms"


def parse_incoming_message(fields: dict[str, str]) -> InboundEnvelope:
    """The envelope of a text Twilio delivered to one of our numbers; ``ValidationError`` naming what is
    wrong (no MessageSid, a number no SMS inbox has, a sender that is not a phone number). Pictures of an
    MMS are kept as Twilio's links in the entry's payload (``media``), not fetched."""
    sid = (fields.get("MessageSid") or "").strip()
    if not sid:
        raise ValidationError("no MessageSid")
    to = normalize_identity("phone", fields.get("To", ""))
    inbox = Inbox.objects.filter(kind=Inbox.Kind.SMS, address=to).first()
    if inbox is None:
        raise ValidationError(f"no SMS inbox has the number {to}")
    sender = normalize_identity("phone", fields.get("From", ""))
    try:
        count = min(int(fields.get("NumMedia") or 0), 10)  # Twilio sends at most 10 files
    except ValueError:
        count = 0
    media = [
        {"url": fields[f"MediaUrl{n}"], "content_type": fields.get(f"MediaContentType{n}", "")}
        for n in range(count)
        if fields.get(f"MediaUrl{n}")
    ]
    return InboundEnvelope(
        inbox_id=inbox.pk,
        external_id=f"twilio:{sid}",
        sender=Sender(kind="phone", value=sender),
        body=fields.get("Body", ""),
        payload={"media": media} if media else {},
    )


@csrf_exempt
@require_POST
def incoming_message(request: HttpRequest) -> HttpResponse:
    """A text to one of our numbers: 403 unless signed; else stored, then received or quarantined, and
    answered with empty TwiML either way (Twilio sending it again would not make it parse)."""
    if not signed_by_twilio(request):
        return HttpResponseForbidden("bad signature")
    do_receive_raw(SOURCE, request.POST.dict(), parse_incoming_message)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
