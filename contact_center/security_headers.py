"""The Content-Security-Policy of every response (docs/decisions.md D17, docs/configuration.md "Security headers").

Defence in depth: should markup ever slip past escaping into a page, the browser still runs no script
that is not a file of Parley's, sends nothing to another site and lets no other site frame the page.
Every page gets ``policy(request)``; a view that needs more (the widget frame: its framing sites and a
nonce for its inline style; the demo shop: a host page's allowances) sets the header itself from
``policy(request, **changes)`` and the middleware leaves it alone. The other headers (HSTS, nosniff,
Referrer-Policy) are Django's SecurityMiddleware's, configured in settings.py.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

from contact_center.lib.origins import format_origin, parley_origin, parse_origin

HEADER = "Content-Security-Policy"


def _sources(request: HttpRequest) -> tuple[list[str], list[str]]:
    """(Parley's own sources, its WebSocket sources) as this request reached it.

    'self' is the address in the browser's bar; ``PUBLIC_BASE_URL`` is added when it differs (the
    embedded default is reached as localhost or 127.0.0.1, and attachment links are absolute URLs on
    ``PUBLIC_BASE_URL``). WebSocket addresses are listed outright: 'self' covers ws(s) of the same
    host only in CSP level 3 browsers.
    """
    own = format_origin(parley_origin())
    try:
        here = f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:  # answered 400 by Django; the policy still goes out
        here = own
    sources = ["'self'"] + ([own] if parse_origin(here) != parse_origin(own) else [])
    websockets = []
    for origin in dict.fromkeys([here, own]):
        websockets.append(origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1))
    return sources, websockets


def policy(request: HttpRequest, **changes: Iterable[str]) -> str:
    """The header value for ``request``: Parley's policy with ``changes`` ({directive: sources},
    underscores for dashes) replacing whole directives."""
    own, websockets = _sources(request)
    directives = {
        # Attachments (audio, video, downloads) and whatever else has no directive of its own.
        "default-src": own,
        # Only Parley's own files, from the page's own address: no inline script, no eval. Data for
        # scripts travels in <script type="application/json"> blocks, which are not run.
        "script-src": ["'self'"],
        # No style="" attributes or <style> blocks either; scripts may still set element.style.
        "style-src": ["'self'"],
        # https: for pictures people choose (agent avatars, a widget's avatar); data: for the favicon.
        "img-src": [*own, "data:", "https:"],
        "connect-src": [*own, *websockets],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
    for name, sources in changes.items():
        directives[name.replace("_", "-")] = list(sources)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def new_nonce() -> str:
    """A fresh nonce for one response's inline <style> (``style-src 'nonce-…'``)."""
    return secrets.token_urlsafe(18)


class ContentSecurityPolicyMiddleware:
    """Sends ``policy(request)`` on every response that did not set its own (static files included)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy(request)
        return response
