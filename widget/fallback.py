"""HTTP for visitors whose network blocks WebSockets (some proxies and corporate firewalls do).

Two endpoints mirror the socket: ``poll`` answers what ``hello`` would replay, ``messages`` does what a
``send`` frame does, through the same action and under the same idempotency key, so a message sent here
and resent on the socket (or the other way round) is stored once. Protocol: docs/protocols/widget-socket.md.
"""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contact_center import history
from contact_center.actions.attachments import check_attachment_ids
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import check_body
from contact_center.actions.visitors import check_page, do_record_page
from contact_center.lib import payloads
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.lib.ratelimit import client_ip_of_request
from contact_center.lib.schema import parse_json_body
from contact_center.models import Conversation, Inbox
from widget import bodies
from widget.limits import RATE_LIMITED_MESSAGE, message_limited
from widget.origins import origin_allowed
from widget.tokens import VisitorClaim, check_visitor_token


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        self.response = JsonResponse({"error": message}, status=status)

    @classmethod
    def of(cls, response: JsonResponse) -> _Refused:
        refused = cls(response.status_code, "")
        refused.response = response
        return refused


def _visitor(request: HttpRequest, body: type[bodies.Visitor] = bodies.Visitor) -> tuple[dict, VisitorClaim, int]:
    """(the JSON body, the token's claim, the inbox id) of an authenticated request from an allowed origin.

    The body is validated into ``body`` (widget/bodies.py): what it returns is what was sent, typed. The
    token alone comes first, so a refusal keeps its order: 401, 403, then the rest of the body."""
    parsed = parse_json_body(request, bodies.Visitor)
    if isinstance(parsed, JsonResponse):
        raise _Refused.of(parsed)
    data = parsed.content()
    try:
        claim = check_visitor_token(data["token"])
    except signing.BadSignature:
        raise _Refused(401, "the token is not valid: ask /widget/api/session/ for a new one") from None
    inbox = Inbox.objects.filter(public_key=claim.inbox_key, kind=Inbox.Kind.WIDGET).values("id", "allowed_origins")
    inbox = inbox.first()
    if inbox is None:
        raise _Refused(401, "the token is not valid: ask /widget/api/session/ for a new one")
    if not origin_allowed(request.headers.get("Origin"), inbox["allowed_origins"]):
        raise _Refused(403, "this origin may not use this widget")
    if body is not bodies.Visitor:
        parsed = parse_json_body(request, body)
        if isinstance(parsed, JsonResponse):
            raise _Refused.of(parsed)
        data = parsed.content()
    return data, claim, inbox["id"]


# Token auth, no cookies: CSRF cannot ride on a request that carries no ambient credential.
@csrf_exempt
@require_POST
def poll(request: HttpRequest) -> JsonResponse:
    """``{"token", "last_seq", "page"?}`` -> the visible messages after ``last_seq`` in the current conversation."""
    try:
        data, claim, inbox_id = _visitor(request, bodies.Poll)
        page = check_page(data["page"]) if data.get("page") is not None else None
    except _Refused as refused:
        return refused.response
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    after = data.get("last_seq", 0)
    known = history.visitor_conversation(inbox_id, claim.visitor_id)
    conversation_id = known[0] if known else None
    if conversation_id is None:
        return JsonResponse({"messages": [], "conversation": None})
    if page is not None:
        _store_page(conversation_id, page)
    messages = history.public_entries_after(conversation_id, after)
    return JsonResponse({"messages": messages, "conversation": conversation_id})


@csrf_exempt
@require_POST
def messages(request: HttpRequest) -> JsonResponse:
    """``{"token", "client_id", "body", "page"?, "attachments"?}`` -> ``{"message": ...}``, stored once per
    client id. Under the socket's rate limits: 429 with ``Retry-After`` past them."""
    try:
        data, claim, inbox_id = _visitor(request, bodies.Message)
        client_id = data.get("client_id")
        if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
            raise ValidationError("client_id is required")
        attachment_ids = check_attachment_ids(data.get("attachments"))
        raw_body = data.get("body") if isinstance(data.get("body"), str) else ""
        body = check_body(raw_body, allow_empty=bool(attachment_ids))
    except _Refused as refused:
        return refused.response
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    # The socket's budget (widget/limits.py): switching transports buys a visitor nothing.
    known = history.visitor_conversation(inbox_id, claim.visitor_id)
    retry_after = message_limited(
        claim.visitor_id, client_ip_of_request(request), new_conversation=not known or known[0] is None
    )
    if retry_after is not None:
        response = JsonResponse({"error": RATE_LIMITED_MESSAGE, "retry_after": retry_after}, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    try:
        page = check_page(data.get("page"))
    except ValidationError:
        page = None  # a page we cannot use is no reason to refuse the visitor's message
    envelope = InboundEnvelope(
        inbox_id=inbox_id,
        # The socket's key (widget/consumers.py): one message, however many ways it was sent.
        external_id=f"widget:{claim.visitor_id}:{client_id}",
        sender=Sender(kind="visitor", value=claim.visitor_id),
        body=body,
        payload={"client_id": client_id, "page": page or {}},
        attachment_ids=attachment_ids,
    )
    try:
        entry = do_receive_inbound(envelope).entry
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    if page is not None:
        _store_page(entry.conversation_id, page)
    return JsonResponse({"message": payloads.entry_for_visitor(entry)})


def _store_page(conversation_id: int, page: dict) -> None:
    stored = Conversation.objects.filter(pk=conversation_id).values_list("visitor_context", flat=True).first()
    if (stored or {}).get("page") != page:
        do_record_page(conversation_id, page)
