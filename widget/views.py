"""Widget HTTP endpoints: the conversation frame and the visitor session."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
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

_SCRIPTS = Path(__file__).parent / "static" / "widget"
# The frame's own scripts, in the order frame.html loads them (frame.js first: the others use its ParleyFrame).
FRAME_SCRIPTS = ("frame.js", "uploads.js", "offline.js", "selfservice.js")


def _without_comments(source: str) -> bytes:
    """``source`` without its opening block comment, its whole-line ``//`` comments and its indentation.

    Comments and indentation are for readers of the source, not for browsers: they are about a quarter
    of the gzipped size, which every visitor pays for (tests/widget/test_size_budget.py). Safe only for
    scripts with no multi-line strings (no template literals), as the widget's are written.
    """
    source = re.sub(r"\A/\*.*?\*/\n", "", source, flags=re.S)
    source = re.sub(r"(?m)^[ \t]*//.*\n", "", source)
    return re.sub(r"(?m)^[ \t]+", "", source).encode()


@cache
def _stripped(name: str, modified: int) -> tuple[bytes, str]:
    # Keyed by the file's modification time: an edited script is served as edited, without a restart.
    source = _without_comments((_SCRIPTS / name).read_text())
    return source, hashlib.sha256(source).hexdigest()[:12]


def _script(name: str) -> tuple[bytes, str]:
    """What is served for ``name``, and its version (12 hex digits of its hash)."""
    return _stripped(name, (_SCRIPTS / name).stat().st_mtime_ns)


def _script_response(request: HttpRequest, name: str) -> HttpResponse:
    source, version = _script(name)
    response = HttpResponse(source, content_type="application/javascript; charset=utf-8")
    # Asked for under its current version (the frame page names it so): it never changes under that URL,
    # so a returning visitor's browser asks for nothing. Otherwise a short cache: fixes ship quickly.
    forever = request.GET.get("v") == version
    response["Cache-Control"] = "public, max-age=31536000, immutable" if forever else "public, max-age=300"
    return response


def frame_script_urls() -> list[str]:
    """The frame's scripts as the frame page loads them, in order, each under its current version."""
    return [f"{reverse('widget:frame-script', args=[name[:-3]])}?v={_script(name)[1]}" for name in FRAME_SCRIPTS]


def loader(request: HttpRequest) -> HttpResponse:
    """The embed script, at the stable address the snippet names. Every page of every customer's site loads it."""
    response = _script_response(request, "loader.js")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def frame_script(request: HttpRequest, name: str) -> HttpResponse:
    """One of the frame's scripts (``FRAME_SCRIPTS``), served like the loader; anything else is a 404."""
    if f"{name}.js" not in FRAME_SCRIPTS:
        raise Http404("no such script")
    return _script_response(request, f"{name}.js")


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
    context = {"inbox": inbox, "look": look, "config": config, "style_nonce": nonce, "scripts": frame_script_urls()}
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
