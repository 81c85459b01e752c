"""Settings → Inboxes, Agents and Teams, and every agent's own password page.

Thin: each view checks who may look, binds a form (contact_center/views/settings_admin_forms.py) and
calls one action (contact_center/actions/settings_admin.py), which checks again and writes. Inboxes are
admins' only (their page shows the identity-verification secret); supervisors read the agents and teams
lists; only admins change anything.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy

from contact_center import presence
from contact_center.actions import agent_security as security
from contact_center.actions import settings_admin as actions
from contact_center.models import Agent, Inbox, Team, TwoFactor
from contact_center.views import settings_admin_forms as forms


def embed_snippet(inbox: Inbox) -> str:
    """The tag a site pastes into its pages to show ``inbox``'s widget (docs/widget.md)."""
    return f'<script src="{settings.PUBLIC_BASE_URL}/widget/loader.js" data-inbox="{inbox.public_key}" async></script>'


def twilio_sms_webhook_url() -> str:
    """What an admin pastes into Twilio's console as a number's "A message comes in" webhook: the URL
    Twilio signs, so it is built on ``PUBLIC_BASE_URL`` as channels_adapters/sms/views.py checks it."""
    return settings.PUBLIC_BASE_URL + reverse("sms:twilio-sms")


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def setup_notices(kind: str) -> list[str]:
    """What whoever runs Parley must still set for an inbox of ``kind`` to work (docs/configuration.md),
    one sentence each; empty when nothing is missing. Read from settings on every call: they change
    only with a restart, and the admin reading this page is the one who asks the operator."""
    notices = []
    if kind == Inbox.Kind.EMAIL:
        smtp = settings.PARLEY_SMTP
        missing = [name for name, key in (("SMTP_URL", "url"), ("PARLEY_MAIL_FROM", "mail_from")) if not smtp[key]]
        if missing:
            notices.append(
                f"Replies cannot go out by email until whoever runs Parley sets {' and '.join(missing)} "
                '(docs/configuration.md, "Email"): until then they are retried, and fail after the last attempt.'
            )
    elif kind == Inbox.Kind.SMS:
        twilio = settings.PARLEY_TWILIO
        if not (twilio["account_sid"] and twilio["auth_token"]):
            notices.append(
                "Texts cannot go out or come in until whoever runs Parley sets TWILIO_ACCOUNT_SID and "
                'TWILIO_AUTH_TOKEN (docs/configuration.md, "SMS (Twilio)"): until then Twilio\'s webhook is '
                "refused and replies cannot be sent to phone numbers."
            )
        if urlsplit(settings.PUBLIC_BASE_URL).hostname in LOOPBACK_HOSTS:
            notices.append(
                f"Twilio cannot reach {settings.PUBLIC_BASE_URL}, a loopback address: texts arrive once whoever "
                "runs Parley sets PUBLIC_BASE_URL to the address the internet reaches it at (the webhook URL "
                "follows it)."
            )
    return notices


def channel_context(inbox: Inbox) -> dict:
    """What an email or SMS inbox's card and page show besides its settings."""
    return {
        "notices": setup_notices(inbox.kind),
        "webhook_url": twilio_sms_webhook_url() if inbox.kind == Inbox.Kind.SMS else None,
        "mail_from": settings.PARLEY_SMTP["mail_from"] if inbox.kind == Inbox.Kind.EMAIL else None,
    }


def _saved(form, action, *, field_of=lambda message: None) -> bool:
    """Run ``action()`` if ``form`` is valid; a ``ValidationError`` from it lands on the form (on the
    fields it names, when it names fields of the form). True when saved."""
    if not form.is_valid():
        return False
    try:
        action()
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and set(exc.error_dict) <= set(form.fields):
            form.add_error(None, exc)
        else:
            for message in exc.messages:
                form.add_error(field_of(message), message)
        return False
    return True


# --- inboxes ------------------------------------------------------------------------------------


@login_required
def inboxes(request: HttpRequest):
    """Every inbox, with each widget's snippet to copy, each SMS inbox's webhook URL, what each channel
    still lacks, and "Add an inbox": a choice of kind (``?add=email``), then that kind's form. Admins only."""
    actions.check_admin(request.user)
    kind = request.POST.get("kind") if request.method == "POST" else request.GET.get("add")
    form = forms.new_inbox_form(kind, request.POST or None)
    if request.method == "POST":

        def create():
            data = form.cleaned_data
            inbox = actions.do_create_inbox(request.user, data["kind"], data["name"], **form.create_arguments())
            created.append(inbox)

        created: list[Inbox] = []
        if _saved(form, create):
            messages.success(request, f"Added {created[0].name}: choose its members and settings below.")
            return redirect("settings-inbox-edit", created[0].pk)
    rows = [
        {
            "inbox": inbox,
            "snippet": embed_snippet(inbox) if inbox.kind == Inbox.Kind.WIDGET else None,
            **channel_context(inbox),
        }
        for inbox in Inbox.objects.select_related("team").annotate(member_count=Count("members")).order_by("name", "pk")
    ]
    choices = [
        {"kind": choice, "label": Inbox.Kind(choice).label, "url": f"{reverse('settings-inboxes')}?add={choice}"}
        for choice in actions.CREATABLE_KINDS
    ]
    # What the chosen kind will need, before the admin adds it.
    adding = {f"new_{key}": value for key, value in channel_context(Inbox(kind=form.inbox_kind)).items()}
    context = {"rows": rows, "form": form, "kind": form.inbox_kind, "choices": choices, **adding}
    return render(request, "console/settings_inboxes.html", context)


@login_required
def inbox(request: HttpRequest, inbox_id: int):
    """Change one inbox: name, team, members, automatic assignment, SLA targets; an email or SMS inbox's
    address; and for widgets origins, look, business hours, offline mode, survey, verification and
    attachments. Admins only."""
    actions.check_admin(request.user)
    inbox = get_object_or_404(Inbox.objects.select_related("team"), pk=inbox_id)
    form = forms.inbox_form(inbox, request.POST or None)
    if request.method == "POST":

        def save():
            data = form.cleaned_data
            actions.do_save_inbox(
                request.user,
                inbox.pk,
                name=data["name"],
                team_id=data["team"].pk if data["team"] else None,
                member_ids=[agent.pk for agent in data["members"]],
                allowed_origins=form.allowed_origins(),
                address=form.new_address(),
                config=form.config_changes(),
            )

        if _saved(form, save):
            messages.success(request, f"Saved {form.cleaned_data['name']}.")
            return redirect("settings-inbox-edit", inbox.pk)
    snippet = embed_snippet(inbox) if inbox.kind == Inbox.Kind.WIDGET else None
    context = {"inbox": inbox, "form": form, "snippet": snippet, **channel_context(inbox)}
    return render(request, "console/settings_inbox_edit.html", context)


# --- agents -------------------------------------------------------------------------------------


@login_required
def agents(request: HttpRequest):
    """Every agent: name, username, role, availability, inboxes, teams, capacity, active. Admins and
    supervisors read it; admins get the Add and Edit links."""
    actions.check_may_view_people(request.user)
    rows = list(
        Agent.objects.prefetch_related(
            Prefetch("inboxes", queryset=Inbox.objects.order_by("name", "pk")), Prefetch("teams")
        )
        .annotate(has_two_factor=Exists(TwoFactor.objects.filter(agent=OuterRef("pk"))))
        .order_by("-is_active", "display_name", "username")
    )
    present = presence.present_agent_ids(agent.pk for agent in rows if agent.is_active)
    context = {"agents": rows, "present": present, "may_edit": actions.may_administer(request.user)}
    return render(request, "console/settings_agents.html", context)


@login_required
def new_agent(request: HttpRequest):
    """Add an agent with an initial password. Admins only."""
    actions.check_admin(request.user)
    form = forms.NewAgentForm(request.POST or None)
    if request.method == "POST":

        def create():
            data = form.cleaned_data
            actions.do_create_agent(
                request.user,
                username=data["username"],
                password=data["password1"],
                display_name=data["display_name"],
                email=data["email"],
                role=data["role"],
                inbox_ids=[inbox.pk for inbox in data["inboxes"]],
                team_ids=[team.pk for team in data["teams"]],
                max_open_conversations=data["max_open_conversations"],
            )

        def field_of(message: str):
            return "username" if "username" in message else ("password1" if "password" in message else None)

        if _saved(form, create, field_of=field_of):
            messages.success(request, f"Added {form.cleaned_data['username']}. Give them their initial password.")
            return redirect("settings-agents")
    return render(request, "console/settings_agent_new.html", {"form": form})


@login_required
def agent(request: HttpRequest, agent_id: int):
    """Change one agent: name, email, role, inboxes, teams, capacity, picture, active, a new password.
    Admins only; there is always an active admin left."""
    actions.check_admin(request.user)
    agent = get_object_or_404(Agent, pk=agent_id)
    form = forms.AgentForm(agent, request.POST or None)
    if request.method == "POST":

        def save():
            data = form.cleaned_data
            saved = actions.do_save_agent(
                request.user,
                agent.pk,
                display_name=data["display_name"],
                email=data["email"],
                role=data["role"],
                is_active=data["is_active"],
                inbox_ids=[inbox.pk for inbox in data["inboxes"]],
                team_ids=[team.pk for team in data["teams"]],
                max_open_conversations=data["max_open_conversations"],
                avatar_url=data["avatar_url"],
                password=data["password1"] or None,
                keep_session=security.session_public_id(request.session) if agent.pk == request.user.pk else None,
            )
            if saved.pk == request.user.pk and data["password1"]:
                update_session_auth_hash(request, saved)  # a new password of one's own keeps this session

        def field_of(message: str):
            return "role" if "last active admin" in message else ("password1" if "password" in message else None)

        if _saved(form, save, field_of=field_of):
            if agent.pk == request.user.pk and not form.cleaned_data["is_active"]:
                return redirect("login")  # they deactivated themselves: this session no longer signs in
            messages.success(request, f"Saved {agent.username}.")
            if agent.pk == request.user.pk and form.cleaned_data["role"] != Agent.Role.ADMIN:
                return redirect("console")  # they stepped down: the settings pages are no longer theirs
            return redirect("settings-agents")
    return render(request, "console/settings_agent_edit.html", {"form": form, "agent": agent})


# --- teams --------------------------------------------------------------------------------------


@login_required
def teams(request: HttpRequest):
    """Every team with its members, and (admins) a form to add one. Supervisors read it."""
    actions.check_may_view_people(request.user)
    may_edit = actions.may_administer(request.user)
    form = forms.TeamForm(request.POST or None) if may_edit else None
    if request.method == "POST":
        actions.check_admin(request.user)

        def create():
            data = form.cleaned_data
            actions.do_save_team(request.user, data["name"], [a.pk for a in data["members"]])

        if _saved(form, create, field_of=lambda message: "name"):
            messages.success(request, f"Added the team {form.cleaned_data['name']}.")
            return redirect("settings-teams")
    rows = Team.objects.prefetch_related(
        Prefetch("members", queryset=Agent.objects.order_by("display_name", "username")),
        Prefetch("inbox_set", queryset=Inbox.objects.order_by("name", "pk")),
    )
    return render(request, "console/settings_teams.html", {"teams": rows, "form": form, "may_edit": may_edit})


@login_required
def team(request: HttpRequest, team_id: int):
    """Rename a team, set its members, or delete it (its inboxes and conversations keep going without one).
    Admins only."""
    actions.check_admin(request.user)
    team = get_object_or_404(Team, pk=team_id)
    if request.method == "POST" and "delete" in request.POST:
        actions.do_delete_team(request.user, team.pk)
        messages.success(request, f"Deleted the team {team.name}.")
        return redirect("settings-teams")
    form = forms.TeamForm(request.POST or None, team=team)
    if request.method == "POST":

        def save():
            data = form.cleaned_data
            actions.do_save_team(request.user, data["name"], [a.pk for a in data["members"]], team.pk)

        if _saved(form, save, field_of=lambda message: "name"):
            messages.success(request, f"Saved the team {form.cleaned_data['name']}.")
            return redirect("settings-teams")
    return render(request, "console/settings_team_edit.html", {"form": form, "team": team})


# --- one's own password -------------------------------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's own view (old password, new one twice, the password validators), in the console's look.
    Templates under console/, not registration/, so Django admin keeps its own page."""

    template_name = "console/password_change.html"
    success_url = reverse_lazy("password-change-done")

    def form_valid(self, form):
        response = super().form_valid(form)  # saves, and keeps this session (update_session_auth_hash)
        # Every other session of the agent ends, their console sockets included.
        security.do_revoke_sessions(self.request.user.pk, keep=security.session_public_id(self.request.session))
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "console/password_change_done.html"
