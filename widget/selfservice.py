"""Self-service before the first message: article suggestions as the visitor types, the article itself,
and what the visitor made of it (docs/widget.md, "Self-service suggestions").

Authenticated like the HTTP fallback (widget/fallback.py): a visitor token, and an Origin the inbox
allows. The knowledge base is reached through ``kb.search`` (reads) and ``kb.actions`` (its writes).
"""

from __future__ import annotations

import json

from django.core import signing
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from contact_center.lib.ratelimit import client_ip_of_request
from contact_center.lib.schema import parse_json_body
from contact_center.models import Inbox
from kb import actions as kb_actions
from kb import search
from widget import bodies
from widget.limits import RATE_LIMITED_MESSAGE, selfservice_limited
from widget.origins import origin_allowed
from widget.tokens import VisitorClaim, check_visitor_token

SUGGESTIONS = 3
QUERY_MAX_CHARS = 2000  # longer is not a question to search for; the composer itself allows 10,000
OUTCOMES = ("answered", "need_help")


class _Refused(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None):
        body = {"error": message}
        if retry_after is not None:
            body["retry_after"] = retry_after
        self.response = JsonResponse(body, status=status)
        if retry_after is not None:
            self.response["Retry-After"] = str(retry_after)


def _visitor(request: HttpRequest, token: object, *, origin_optional: bool = False) -> tuple[VisitorClaim, int]:
    """(claim, inbox id) of a visitor within their self-service budget, or raises ``_Refused``.

    ``origin_optional``: browsers send no Origin on a same-origin GET, which is how the frame reads an
    article. A cross-origin page cannot make that request without one: the token travels in a header,
    which only a CORS request (and so an Origin) can carry. A present Origin is always checked.
    """
    if not isinstance(token, str) or not token:
        raise _Refused(400, "token is required")
    try:
        claim = check_visitor_token(token)
    except signing.BadSignature:
        raise _Refused(401, "the token is not valid: ask /widget/api/session/ for a new one") from None
    inbox = Inbox.objects.filter(public_key=claim.inbox_key, kind=Inbox.Kind.WIDGET).values("id", "allowed_origins")
    inbox = inbox.first()
    if inbox is None:
        raise _Refused(401, "the token is not valid: ask /widget/api/session/ for a new one")
    origin = request.headers.get("Origin")
    if not (origin is None and origin_optional) and not origin_allowed(origin, inbox["allowed_origins"]):
        raise _Refused(403, "this origin may not use this widget")
    retry_after = selfservice_limited(claim.visitor_id, client_ip_of_request(request))
    if retry_after is not None:
        raise _Refused(429, RATE_LIMITED_MESSAGE, retry_after)
    return claim, inbox["id"]


def _json(request: HttpRequest, body: type[bodies.Visitor]) -> dict:
    """The body validated into ``body`` (widget/bodies.py): the fields that were sent, typed."""
    parsed = parse_json_body(request, body)
    if isinstance(parsed, JsonResponse):
        raise _Refused(parsed.status_code, json.loads(parsed.content)["error"])
    return parsed.content()


def _article_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _Refused(400, "article must be an article id")
    return value


# Token auth, no cookies: CSRF cannot ride on a request that carries no ambient credential.
@csrf_exempt
@require_POST
def suggestions(request: HttpRequest) -> JsonResponse:
    """``{"token", "text"}`` -> ``{"articles": [{id, title, snippet}, ...]}``: at most three articles for a
    visitor who has not written yet. The widget decides when to ask; any text is searched."""
    try:
        # The token first, so refusals keep their order: 401, 403, 429, then the rest of the body.
        claim, inbox_id = _visitor(request, _json(request, bodies.Visitor).get("token"))
        data = _json(request, bodies.Suggestions)
        text = data.get("text")
        if not isinstance(text, str):
            raise _Refused(400, "text is required")
        if len(text) > QUERY_MAX_CHARS:
            raise _Refused(400, f"text is longer than {QUERY_MAX_CHARS} characters")
    except _Refused as refused:
        return refused.response
    found = search.suggest(inbox_id, text, limit=SUGGESTIONS)
    kb_actions.do_record_shown(inbox_id, claim.visitor_id, text, [s.id for s in found])
    return JsonResponse({"articles": [s.public() for s in found]})


@require_GET
def article(request: HttpRequest, article_id: int) -> JsonResponse:
    """The article for display in the frame, with ``Authorization: Bearer <visitor token>``:
    ``{"id", "title", "paragraphs": [text, ...]}``. 404 unless published and offered in the visitor's inbox.
    Reading it through the widget is the "opened" event, so it is recorded here."""
    auth = request.headers.get("Authorization", "")
    token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
    try:
        claim, inbox_id = _visitor(request, token, origin_optional=True)
    except _Refused as refused:
        return refused.response
    found = search.visible_article(inbox_id, article_id)
    if found is None:
        return JsonResponse({"error": "no such article"}, status=404)
    kb_actions.do_record_opened(inbox_id, claim.visitor_id, found.pk)
    response = JsonResponse({"id": found.pk, "title": found.title, "paragraphs": found.paragraphs()})
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt
@require_POST
def deflections(request: HttpRequest) -> JsonResponse:
    """``{"token", "article", "outcome": "answered" | "need_help", "query"}`` -> ``{"recorded": bool}``.
    ``answered`` is a deflection and counts once per visitor, article and question (``recorded`` false
    the second time); ``need_help`` is recorded each time."""
    try:
        claim, inbox_id = _visitor(request, _json(request, bodies.Visitor).get("token"))
        data = _json(request, bodies.Deflection)
        article_id = _article_id(data.get("article"))
        outcome = data.get("outcome")
        if outcome not in OUTCOMES:
            raise _Refused(400, "outcome must be answered or need_help")
        query = data.get("query", "")
        if not isinstance(query, str):
            raise _Refused(400, "query must be text")
        if search.visible_article(inbox_id, article_id) is None:
            raise _Refused(404, "no such article")
    except _Refused as refused:
        return refused.response
    recorded = kb_actions.do_record_outcome(inbox_id, claim.visitor_id, article_id, outcome, query)
    return JsonResponse({"recorded": recorded})
