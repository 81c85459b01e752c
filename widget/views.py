"""Widget HTTP endpoints: the conversation frame and the visitor session."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from contact_center import security_headers
from contact_center.actions.attachments import upload_limits
from contact_center.actions.customers import prechat_config
from contact_center.actions.offline import mail_can_go_out
from contact_center.lib.origins import format_origin, parse_origin
from contact_center.lib.schema import parse_json_body
from contact_center.models import Inbox
from widget import bodies
from widget.appearance import appearance_of
from widget.origins import origin_allowed
from widget.tokens import check_visitor_token, issue_visitor_token, new_visitor_id

_LOADER = Path(__file__).parent / "static" / "widget" / "loader.js"


@cache
def _loader_source() -> bytes:
    # Every page of every customer's site downloads this: whole-line comments and indentation are for
    # readers of the source, not for browsers (a quarter of the gzipped size). Safe because loader.js
    # has no multi-line strings; tests/widget/test_size_budget.py holds the budget.
    source = _LOADER.read_text()
    source = re.sub(r"(?m)^[ \t]*//.*\n", "", source)
    return re.sub(r"(?m)^[ \t]+", "", source).encode()


def loader(request: HttpRequest) -> HttpResponse:
    """The embed script, at the stable address the snippet names. Short cache: fixes ship quickly."""
    response = HttpResponse(_loader_source(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _inbox(public_key: str) -> Inbox:
    if "\x00" in public_key:
        raise Http404("no such widget")  # PostgreSQL refuses NUL in a query; no key holds one
    try:
        return Inbox.objects.get(public_key=public_key, kind=Inbox.Kind.WIDGET)
    except Inbox.DoesNotExist as exc:
        raise Http404("no such widget") from exc


@xframe_options_exempt
def frame(request: HttpRequest, public_key: str) -> HttpResponse:
    """The conversation UI, framed by the host page. Only allowed origins may frame it."""
    inbox = _inbox(public_key)
    look = appearance_of(inbox)
    config = {"inbox": inbox.public_key, "greeting": look.greeting, "locale": look.locale}
    config["prechat"] = prechat_config(inbox)
    # For the composer's first check of a file; the upload endpoint decides.
    config["attachments"] = upload_limits(inbox).public()
    # "Email me the transcript" only where the mail can go out: a promise the outbox cannot keep is worse
    # than no button.
    config["transcript"] = mail_can_go_out()
    nonce = security_headers.new_nonce()
    context = {"inbox": inbox, "look": look, "config": config, "style_nonce": nonce}
    response = render(request, "widget/frame.html", context)
    # Parley's policy, but framed by the inbox's sites, and its one <style> (the inbox's colours) allowed.
    response[security_headers.HEADER] = security_headers.policy(
        request, frame_ancestors=_frame_ancestors(inbox.allowed_origins), style_src=["'self'", f"'nonce-{nonce}'"]
    )
    return response


def _frame_ancestors(allowed_origins: list[str]) -> list[str]:
    """The sites that may frame the widget: the inbox's allowed origins (scheme and port included) and Parley."""
    if "*" in allowed_origins:
        return ["*"]
    # Re-written from the parsed origin, so a stored value can never add a directive of its own.
    parsed = (parse_origin(origin) for origin in allowed_origins)
    return ["'self'", *dict.fromkeys(format_origin(origin) for origin in parsed if origin is not None)]


@require_GET
def appearance(request: HttpRequest, public_key: str) -> JsonResponse:
    """Colour, side and title of a widget: what the loader needs to draw the bubble before any frame exists."""
    response = JsonResponse(appearance_of(_inbox(public_key)).public())
    # Public and identical for every visitor: any site may read it and any cache may keep it a while.
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# Token auth, no cookies: CSRF cannot ride on a request that carries no ambient credential.
@csrf_exempt
@require_POST
def session(request: HttpRequest) -> JsonResponse:
    """Issue (or confirm) the visitor token for ``{"inbox": KEY, "token": optional}``."""
    parsed = parse_json_body(request, bodies.Session)
    if isinstance(parsed, JsonResponse):
        return parsed
    data = parsed.content()
    inbox = _inbox(data["inbox"])
    if not origin_allowed(request.headers.get("Origin"), inbox.allowed_origins):
        return JsonResponse({"error": "this origin may not use this widget"}, status=403)
    token = data.get("token")
    if isinstance(token, str) and token:
        try:
            claim = check_visitor_token(token)
        except signing.BadSignature:
            claim = None
        if claim is not None and claim.inbox_key == inbox.public_key:
            return JsonResponse({"token": token, "visitor_id": claim.visitor_id})
    visitor_id = new_visitor_id()
    return JsonResponse({"token": issue_visitor_token(inbox.public_key, visitor_id), "visitor_id": visitor_id})
