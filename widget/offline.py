"""The widget when nobody can chat: availability, the offline form, and the transcript by email.

Token and origin rules as in widget/fallback.py. Protocol: docs/protocols/widget-socket.md, "Offline mode".
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contact_center import history
from contact_center.actions.offline import (
    check_reply_email,
    do_leave_offline_message,
    do_send_transcript,
    mail_can_go_out,
)
from contact_center.actions.replies import check_body
from contact_center.actions.visitors import check_page
from contact_center.lib import payloads
from contact_center.lib.ratelimit import client_ip_of_request, hit
from contact_center.models import Conversation, Inbox
from contact_center.presence import inbox_availability
from widget import bodies
from widget.fallback import _Refused, _visitor
from widget.limits import RATE_LIMITED_MESSAGE, message_limited


def _rate_limited(retry_after: int) -> JsonResponse:
    response = JsonResponse({"error": RATE_LIMITED_MESSAGE, "retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


# Token auth, no cookies: CSRF cannot ride on a request that carries no ambient credential.
@csrf_exempt
@require_POST
def availability(request: HttpRequest) -> JsonResponse:
    """``{"token"}`` -> ``{"live", "offline_form", "next_opening", "reply_email"}``.

    ``offline_form`` is true when nobody can chat and the visitor has no open conversation (one who is
    mid-conversation keeps the composer: what they write is stored and answered either way).
    ``next_opening`` is ``{"at": ISO time, "weekday": 0-6 (Monday 0), "time": "HH:MM"}`` in the inbox's
    zone, or null when business hours are open now (or not set).
    """
    try:
        _data, claim, inbox_id = _visitor(request, bodies.Visitor)
    except _Refused as refused:
        return refused.response
    inbox = Inbox.objects.get(pk=inbox_id)
    state = inbox_availability(inbox)
    known = history.visitor_conversation(inbox_id, claim.visitor_id)
    conversation = None
    if known and known[0] is not None:
        conversation = Conversation.objects.filter(pk=known[0]).values("status", "reply_email").first()
    has_open = conversation is not None and conversation["status"] == Conversation.Status.OPEN
    opening = state.next_opening
    return JsonResponse(
        {
            "live": state.live,
            "offline_form": not state.live and not has_open,
            "next_opening": (
                {"at": opening.isoformat(), "weekday": opening.weekday(), "time": opening.strftime("%H:%M")}
                if opening
                else None
            ),
            "reply_email": conversation["reply_email"] if conversation else "",
        }
    )


@csrf_exempt
@require_POST
def offline_message(request: HttpRequest) -> JsonResponse:
    """``{"token", "client_id", "email", "body", "page"?}`` -> ``{"message": ...}``; stored once per
    client id; replies go to ``email``. 400 ``{"error", "field"}`` names the bad field. Under the
    message rate limits."""
    try:
        data, claim, inbox_id = _visitor(request, bodies.Offline)
    except _Refused as refused:
        return refused.response
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
        return JsonResponse({"error": "client_id is required", "field": "client_id"}, status=400)
    try:
        email = check_reply_email(data.get("email"))
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0], "field": "email"}, status=400)
    try:
        body = check_body(data.get("body") if isinstance(data.get("body"), str) else "")
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0], "field": "body"}, status=400)
    known = history.visitor_conversation(inbox_id, claim.visitor_id)
    retry_after = message_limited(
        claim.visitor_id, client_ip_of_request(request), new_conversation=not known or known[0] is None
    )
    if retry_after is not None:
        return _rate_limited(retry_after)
    try:
        page = check_page(data.get("page")) if data.get("page") is not None else None
    except ValidationError:
        page = None  # a page we cannot use is no reason to refuse the visitor's message
    try:
        result = do_leave_offline_message(inbox_id, claim.visitor_id, client_id, email, body, page)
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    return JsonResponse({"message": payloads.entry_for_visitor(result.entry)})


@csrf_exempt
@require_POST
def transcript(request: HttpRequest) -> JsonResponse:
    """``{"token", "email"}`` -> 202 ``{"queued": true}``: the conversation's public messages go to
    ``email``. 400 when the address is bad or there is nothing to send; 429 past
    ``PARLEY_RATE_LIMITS["transcripts_per_visitor"]``; 409 while no mail can go out (a frame loaded
    before the operator took ``SMTP_URL`` away still offers it)."""
    try:
        data, claim, inbox_id = _visitor(request, bodies.Transcript)
    except _Refused as refused:
        return refused.response
    if not mail_can_go_out():
        return JsonResponse({"error": "transcripts by email are not available"}, status=409)
    try:
        email = check_reply_email(data.get("email"))
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0], "field": "email"}, status=400)
    retry_after = hit("transcripts:visitor", claim.visitor_id, settings.PARLEY_RATE_LIMITS["transcripts_per_visitor"])
    if retry_after is not None:
        return _rate_limited(retry_after)
    try:
        do_send_transcript(inbox_id, claim.visitor_id, email)
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    return JsonResponse({"queued": True}, status=202)
