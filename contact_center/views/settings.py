"""Console settings pages: inboxes (read-only; edited in Django admin for now) and canned responses."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from contact_center.actions.canned import (
    check_may_manage,
    do_delete_canned_response,
    do_save_canned_response,
)
from contact_center.models import Agent, CannedResponse, Inbox


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


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["shortcut", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}
        help_texts = {"shortcut": "Agents type /shortcut in the reply box: lower-case letters, digits, - and _."}

    def validate_unique(self):
        # The action reports a taken shortcut, also when two admins race for it.
        pass


@login_required
def canned_responses(request: HttpRequest):
    """The canned responses, and a form to add one. Admins and supervisors."""
    check_may_manage(request.user)
    form = CannedResponseForm(request.POST or None)
    if request.method == "POST" and _saved(request, form):
        return redirect("settings-canned")
    return render(request, "console/settings_canned.html", {"form": form, "responses": CannedResponse.objects.all()})


@login_required
def canned_response(request: HttpRequest, canned_id: int):
    """Change or delete one canned response. Admins and supervisors."""
    check_may_manage(request.user)
    canned = get_object_or_404(CannedResponse, pk=canned_id)
    if request.method == "POST" and "delete" in request.POST:
        do_delete_canned_response(request.user, canned.pk)
        return redirect("settings-canned")
    form = CannedResponseForm(request.POST or None, instance=canned)
    if request.method == "POST" and _saved(request, form, canned.pk):
        return redirect("settings-canned")
    return render(request, "console/settings_canned_edit.html", {"form": form, "canned": canned})


def _saved(request: HttpRequest, form: CannedResponseForm, canned_id: int | None = None) -> bool:
    if not form.is_valid():
        return False
    try:
        do_save_canned_response(request.user, form.cleaned_data["shortcut"], form.cleaned_data["body"], canned_id)
    except ValidationError as exc:
        form.add_error("shortcut", exc.messages[0])
        return False
    return True


@login_required
def canned_response_list(request: HttpRequest) -> JsonResponse:
    """Every canned response, for the composer's /shortcut menu. Any agent."""
    rows = CannedResponse.objects.values("shortcut", "body")[:500]
    return JsonResponse({"responses": list(rows)})
