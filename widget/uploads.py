"""The widget's file upload: ``POST /widget/api/uploads/``, a file the visitor then sends in a message.

Authenticated by the visitor token (``X-Parley-Token`` header, or a ``token`` form field) and the same
Origin rule as the session endpoint. Protocol: docs/protocols/widget-socket.md, "Attachments".
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from contact_center.actions.attachments import UploadRefused, check_upload_size, do_store_upload
from contact_center.lib.payloads import attachment_payload
from contact_center.lib.ratelimit import client_ip_of_request
from contact_center.models import Inbox
from widget.limits import RATE_LIMITED_MESSAGE, upload_limited
from widget.origins import origin_allowed
from widget.tokens import check_visitor_token

# Multipart framing around the file: boundaries, headers, the token field.
_ENVELOPE_BYTES = 16 * 1024


# Token auth, no cookies: CSRF cannot ride on a request that carries no ambient credential.
@csrf_exempt
@require_POST
def upload(request: HttpRequest) -> JsonResponse:
    """Store the multipart field ``file`` as an unbound attachment of the visitor; 201 with its description."""
    # The header lets the size be refused before the body is read; the form field needs the body parsed.
    token = request.headers.get("X-Parley-Token") or request.POST.get("token", "")
    try:
        claim = check_visitor_token(token)
    except signing.BadSignature:
        return _error(401, "the token is not valid: ask /widget/api/session/ for a new one")
    inbox = Inbox.objects.filter(public_key=claim.inbox_key, kind=Inbox.Kind.WIDGET).first()
    if inbox is None:
        return _error(401, "the token is not valid: ask /widget/api/session/ for a new one")
    if not origin_allowed(request.headers.get("Origin"), inbox.allowed_origins):
        return _error(403, "this origin may not use this widget")
    retry_after = upload_limited(claim.visitor_id, client_ip_of_request(request))
    if retry_after is not None:
        response = _error(429, RATE_LIMITED_MESSAGE, retry_after=retry_after)
        response["Retry-After"] = str(retry_after)
        return response
    try:
        check_upload_size(inbox, max(0, _int(request.headers.get("Content-Length")) - _ENVELOPE_BYTES))
        upload = request.FILES.get("file")
        if upload is None:
            raise UploadRefused("send the file in a multipart field named file", status=400)
        attachment = do_store_upload(
            inbox, f"visitor:{claim.visitor_id}", upload, upload.name or "", upload.content_type or ""
        )
    except UploadRefused as refused:
        return _error(refused.status, refused.messages[0])
    described = attachment_payload(attachment)
    # Nothing to fetch before the message is sent: the link comes with the message.
    del described["url"]
    return JsonResponse(described, status=201)


def _error(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
