"""Agents, inboxes and teams in Django admin: the raw view, for what Console → Settings does not edit.

Console → Settings (contact_center/views/settings_admin.py) is where admins usually change inboxes,
agents and teams. Saving here has the same consequences for who sees what: agents whose inboxes, role
or activity change get their consoles reconnected with the new set, and are unassigned from the open
conversations they can no longer see (actions/settings_admin.py ``do_reconcile_access``). Keys the
settings pages have no field for are written here as JSON. The form checks what the widget would
otherwise only log and ignore at run time, so a typo is refused when saved, not discovered by a visitor.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db import models

from contact_center.actions.agent_security import do_revoke_sessions, session_public_id
from contact_center.actions.settings_admin import check_allowed_origins, do_reconcile_access, every_inbox_viewer_ids
from contact_center.lib.availability import check_business_hours
from contact_center.models import Agent, Company, Inbox, Label, RawInbound, Team
from contact_center.views.security import AdminSignInForm


class InboxForm(forms.ModelForm):
    class Meta:
        model = Inbox
        fields = ["name", "kind", "address", "allowed_origins", "config", "members", "team"]

    def clean_allowed_origins(self):
        return check_allowed_origins(self.cleaned_data["allowed_origins"])

    def clean_config(self):
        config = self.cleaned_data["config"]
        if not isinstance(config, dict):
            raise ValidationError('config is a JSON object, like {"brand_color": "#1f6feb"}')
        try:
            check_business_hours(config.get("business_hours"))
        except ValidationError as exc:
            raise ValidationError(f"business_hours: {exc.messages[0]}") from None
        return config


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    form = InboxForm
    list_display = ["name", "kind", "address", "public_key"]
    list_filter = ["kind"]
    search_fields = ["name", "address", "public_key"]
    filter_horizontal = ["members"]
    # The public key is in every snippet already published and the secret signs identities (the site
    # owner copies it from here into their server): both are shown, never edited here, since changing
    # either breaks every site that embeds the widget.
    readonly_fields = ["public_key", "secret", "created_at"]

    def save_related(self, request, form, formsets, change):
        # Members are saved here, after the inbox itself: compare them before and after.
        inbox = form.instance
        before = set(inbox.members.values_list("pk", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        changed = before ^ set(inbox.members.values_list("pk", flat=True))
        if not change:
            changed.update(every_inbox_viewer_ids())  # a new inbox: those who see every inbox see it too
        do_reconcile_access(request.user, changed)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
    filter_horizontal = ["members"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    # Console → Settings → Labels is where admins and supervisors usually keep them.
    list_display = ["name", "color", "description", "created_at"]
    search_fields = ["name", "description"]


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    # Agents usually create companies from the console's customer panel, by typing a new name.
    list_display = ["name", "domain", "created_at"]
    search_fields = ["name", "domain"]


@admin.register(Agent)
class AgentAdmin(UserAdmin):
    # Avatars are https only; a URL typed without a scheme means https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["username", "display_name", "role", "availability", "max_open_conversations", "is_active"]
    list_filter = ["role", "availability", "is_active"]
    search_fields = ["username", "display_name", "email"]
    fieldsets = [
        *UserAdmin.fieldsets,
        (
            "Parley",
            {
                "fields": ["display_name", "avatar_url", "role", "availability", "max_open_conversations"],
                "description": "Avatar url: an https:// picture customers see beside this agent's replies. "
                "Max open conversations: the most that automatic assignment gives this agent (empty: no limit).",
            },
        ),
    ]
    add_fieldsets = [
        *UserAdmin.add_fieldsets,
        ("Parley", {"fields": ["display_name", "role", "max_open_conversations"]}),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A role decides whether every inbox is visible; an inactive agent sees none.
        if change and {"role", "is_active"} & set(form.changed_data):
            do_reconcile_access(request.user, [obj.pk])
        if change and "is_active" in form.changed_data and not obj.is_active:
            do_revoke_sessions(obj.pk, keep=None)  # signed out everywhere, console sockets included

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            # A new password ends the agent's other sessions, as in the console (keeping the admin's own).
            agent_id = Agent._meta.pk.to_python(id)
            keep = session_public_id(request.session) if agent_id == request.user.pk else None
            do_revoke_sessions(agent_id, keep=keep)
        return response


# Its sign-in page keeps the console's throttle, and sends agents with two-factor to the console's sign-in.
admin.site.login_form = AdminSignInForm


@admin.register(RawInbound)
class RawInboundAdmin(admin.ModelAdmin):
    # What providers' webhooks delivered, as they delivered it: quarantined rows say why they are not on
    # a timeline (a text to a number no SMS inbox has, say). Read-only: this is the record of what came.
    list_display = ["received_at", "source", "state", "error", "entry"]
    list_filter = ["state", "source"]
    readonly_fields = ["received_at", "source", "state", "error", "entry", "fields"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
