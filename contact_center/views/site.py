"""The demo site with the widget embedded, and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import render

from contact_center import security_headers
from contact_center.models import Inbox

# More pages of the demo shop: browsing between them shows visit tracking; "hostile" is a page whose
# CSS tries its worst on everything, to show (and test) that the widget survives it.
DEMO_PAGES = {"pricing": "demo/pricing.html", "hostile": "demo/hostile.html"}


def demo(request: HttpRequest, name: str = "index"):
    template = "demo/index.html" if name == "index" else DEMO_PAGES.get(name)
    if template is None:
        raise Http404("no such demo page")
    inbox = Inbox.objects.filter(kind=Inbox.Kind.WIDGET).order_by("pk").first()
    response = render(request, template, {"inbox": inbox})
    # A customer's page, with the policy a customer with a strict one would need to embed the widget
    # (docs/widget.md): the loader and the frame from Parley, and inline styles, as the loader draws its
    # bubble with a <style> in its shadow root (and these pages style themselves inline).
    response[security_headers.HEADER] = security_headers.policy(
        request, style_src=["'self'", "'unsafe-inline'"], frame_src=["'self'"]
    )
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
