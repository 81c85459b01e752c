"""Twilio's webhooks for the SMS channel: status callbacks for the messages Parley sent.

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
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from contact_center.actions.outbox import do_record_provider_status
from contact_center.models import TimelineEntry

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
