"""Console settings pages. Read-only for now: the full settings area comes with the console issue."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import render

from contact_center.models import Agent, Inbox


def embed_snippet(inbox: Inbox) -> str:
    """The tag a site pastes into its pages to show ``inbox``'s widget (docs/widget.md)."""
    return f'<script src="{settings.PUBLIC_BASE_URL}/widget/loader.js" data-inbox="{inbox.public_key}" async></script>'


@login_required
def inboxes(request: HttpRequest):
    """Every inbox, and for widget inboxes the snippet to copy and the origins allowed to embed it. Admins only."""
    if request.user.role != Agent.Role.ADMIN:
        raise PermissionDenied("only admins see inbox settings")
    rows = [
        {"inbox": inbox, "snippet": embed_snippet(inbox) if inbox.kind == Inbox.Kind.WIDGET else None}
        for inbox in Inbox.objects.order_by("name", "pk")
    ]
    return render(request, "console/settings_inboxes.html", {"rows": rows})
