"""Console settings pages: canned responses and labels. Inboxes, agents and teams: views/settings_admin.py."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from contact_center.actions.canned import (
    check_may_manage,
    do_delete_canned_response,
    do_save_canned_response,
)
from contact_center.actions.labels import (
    check_color,
    check_label_name,
    check_may_manage_labels,
    do_delete_label,
    do_save_label,
)
from contact_center.lib import payloads
from contact_center.models import CannedResponse, Label
from contact_center.models.label import PALETTE


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


class LabelForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ["name", "color", "description"]
        widgets = {"color": forms.TextInput(attrs={"list": "label-colors", "autocomplete": "off"})}
        help_texts = {"color": f"One of {', '.join(PALETTE)}, or #rrggbb."}

    def clean_name(self):
        return check_label_name(self.cleaned_data["name"])

    def clean_color(self):
        return check_color(self.cleaned_data["color"])

    def validate_unique(self):
        # The action reports a taken name, also when two admins race for it.
        pass


@login_required
def labels(request: HttpRequest):
    """The labels, each with how many conversations carry it, and a form to add one. Admins and supervisors."""
    check_may_manage_labels(request.user)
    form = LabelForm(request.POST or None)
    if request.method == "POST" and _label_saved(request, form):
        return redirect("settings-labels")
    rows = Label.objects.annotate(conversation_count=Count("conversations"))
    return render(request, "console/settings_labels.html", {"form": form, "labels": rows, "palette": PALETTE})


@login_required
def label(request: HttpRequest, label_id: int):
    """Rename, recolour or delete one label. Admins and supervisors."""
    check_may_manage_labels(request.user)
    label = get_object_or_404(Label.objects.annotate(conversation_count=Count("conversations")), pk=label_id)
    if request.method == "POST" and "delete" in request.POST:
        do_delete_label(request.user, label.pk)
        return redirect("settings-labels")
    form = LabelForm(request.POST or None, instance=label)
    if request.method == "POST" and _label_saved(request, form, label.pk):
        return redirect("settings-labels")
    return render(request, "console/settings_label_edit.html", {"form": form, "label": label, "palette": PALETTE})


def _label_saved(request: HttpRequest, form: LabelForm, label_id: int | None = None) -> bool:
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        do_save_label(request.user, data["name"], data["color"], data["description"], label_id)
    except ValidationError as exc:
        form.add_error("name", exc.messages[0])
        return False
    return True


@login_required
def label_list(request: HttpRequest) -> JsonResponse:
    """Every label, by name, for the console's label menu and list filter. Any agent."""
    return JsonResponse({"labels": [payloads.label_payload(label) for label in Label.objects.all()[:500]]})
