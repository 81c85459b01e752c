"""The demo site with the widget embedded, and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render

from contact_center.models import Inbox


def demo(request: HttpRequest):
    inbox = Inbox.objects.filter(kind=Inbox.Kind.WIDGET).order_by("pk").first()
    return render(request, "demo/index.html", {"inbox": inbox})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
