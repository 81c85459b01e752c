"""Signing in (password, then a code when the agent has two-factor), signing out, and Console →
Settings → Security: two-factor set-up, recovery codes, the session list, and (admins) the site-wide
two-factor policy and resetting an agent's two-factor.

Thin: each view parses the form and calls one action (contact_center/actions/agent_security.py).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from contact_center.actions import agent_security as security
from contact_center.actions.settings_admin import check_admin
from contact_center.lib.ratelimit import client_ip_of_request
from contact_center.models import Agent, TwoFactor

_SETUP_SECRET = "parley_two_factor_setup"  # noqa: S105 - a session key's name
_NEW_CODES = "parley_new_recovery_codes"


def _field(request: HttpRequest, name: str, limit: int) -> str:
    # Too long, or with a NUL (PostgreSQL refuses those in a query): no value, so a failed try, not a 500.
    value = request.POST.get(name, "")
    return value if len(value) <= limit and "\x00" not in value else ""


def _next_url(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return settings.LOGIN_REDIRECT_URL


# --- signing in and out -------------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def sign_in(request: HttpRequest):
    """Step one: username and password, after the throttle allows a try. An agent with two-factor goes on
    to step two (``sign_in_code``) without being signed in yet."""
    next_url = request.POST.get("next") or request.GET.get("next")
    context = {"next": _next_url(request, next_url), "username": "", "demo_login": settings.PARLEY_DEMO_LOGIN}
    if request.method != "POST":
        return render(request, "registration/login.html", context)
    username = _field(request, "username", security.USERNAME_MAX)
    password = _field(request, "password", security.PASSWORD_MAX)
    context["username"] = username
    ip = client_ip_of_request(request)
    try:
        security.check_sign_in_allowed(username, ip)
    except security.SignInThrottled as exc:
        return render(request, "registration/login.html", {**context, "error": str(exc)}, status=429)
    agent = authenticate(request, username=username, password=password) if username and password else None
    if agent is None:
        security.do_record_sign_in_failure(username, ip)
        error = "Your username and password didn't match. Please try again."
        return render(request, "registration/login.html", {**context, "error": error})
    if security.has_two_factor(agent.pk):
        request.session[security.PENDING_SIGN_IN] = {
            "agent": agent.pk,
            "backend": agent.backend,
            "at": time.time(),
            "next": context["next"],
        }
        return redirect("login-code")
    login(request, agent)
    return redirect(context["next"])


def _pending(request: HttpRequest) -> tuple[Agent, dict] | None:
    pending = request.session.get(security.PENDING_SIGN_IN)
    if not isinstance(pending, dict) or time.time() - float(pending.get("at") or 0) > security.PENDING_SECONDS:
        return None
    agent = Agent.objects.filter(pk=pending.get("agent"), is_active=True).first()
    return (agent, pending) if agent is not None else None


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def sign_in_code(request: HttpRequest):
    """Step two: a code from the authenticator app or a recovery code, throttled like the password."""
    found = _pending(request)
    if found is None:
        request.session.pop(security.PENDING_SIGN_IN, None)
        messages.info(request, "Sign in again: the code step expired.")
        return redirect("login")
    agent, pending = found
    if request.method != "POST":
        return render(request, "registration/login_code.html", {})
    ip = client_ip_of_request(request)
    try:
        security.check_sign_in_allowed(agent.username, ip)
    except security.SignInThrottled as exc:
        return render(request, "registration/login_code.html", {"error": str(exc)}, status=429)
    if not security.do_verify_second_factor(agent.pk, _field(request, "code", 64)):
        security.do_record_sign_in_failure(agent.username, ip)
        error = "That code is not right, or was used already. Try the newest code, or a recovery code."
        return render(request, "registration/login_code.html", {"error": error})
    del request.session[security.PENDING_SIGN_IN]
    login(request, agent, backend=pending.get("backend"))
    return redirect(_next_url(request, pending.get("next")))


class AdminSignInForm(AdminAuthenticationForm):
    """Django admin's sign-in form, under the same throttle as the console's; an agent with two-factor
    is sent to the console's sign-in, since this form has no code step (a password alone must not do)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip_of_request(self.request)
        try:
            security.check_sign_in_allowed(username, ip)
        except security.SignInThrottled as exc:
            raise ValidationError(str(exc), code="throttled") from None
        try:
            cleaned = super().clean()
        except ValidationError:
            security.do_record_sign_in_failure(username, ip)
            raise
        if self.user_cache is not None and security.has_two_factor(self.user_cache.pk):
            raise ValidationError(
                "This account uses two-factor authentication: sign in at /console/login/, then open /admin/.",
                code="two_factor",
            )
        return cleaned


class SignOutView(auth_views.LogoutView):
    """Django's sign-out, which also takes this session off the agent's session list."""

    def post(self, request, *args, **kwargs):
        security.do_end_session(security.session_public_id(request.session))
        return super().post(request, *args, **kwargs)


# --- Settings → Security ------------------------------------------------------------------------


@login_required
def security_page(request: HttpRequest):
    """Two-factor status and controls, the session list, and (admins) the site-wide policy."""
    agent = request.user
    current = security.session_public_id(request.session)
    two_factor = TwoFactor.objects.filter(agent=agent).first()
    context = {
        "two_factor": two_factor,
        "recovery_left": security.remaining_recovery_codes(agent.pk) if two_factor else 0,
        "sessions": security.sessions_of(agent, current),
        "required": security.two_factor_required(),
        "is_admin": agent.role == Agent.Role.ADMIN,
    }
    return render(request, "console/settings_security.html", context)


@login_required
@never_cache
def two_factor_setup(request: HttpRequest):
    """Scan a QR code, confirm a code, then see the recovery codes once. The secret stays in the session
    until a code confirms it."""
    agent = request.user
    if security.has_two_factor(agent.pk):
        request.session[security.NEEDS_TWO_FACTOR] = False
        return redirect("settings-security")
    secret = request.session.get(_SETUP_SECRET)
    if not isinstance(secret, str):
        secret = request.session[_SETUP_SECRET] = security.new_totp_secret()
    error = None
    if request.method == "POST":
        try:
            codes = security.do_enable_two_factor(agent, secret, _field(request, "code", 64))
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            del request.session[_SETUP_SECRET]
            request.session[security.NEEDS_TWO_FACTOR] = False
            request.session[_NEW_CODES] = codes
            return redirect("two-factor-recovery-codes")
    uri = security.provisioning_uri(agent, secret)
    context = {
        "qr": mark_safe(security.qr_svg(uri)),  # noqa: S308 - segno's SVG of our own URI: paths, no text
        "secret": secret,
        "error": error,
        "required": security.two_factor_required(),
    }
    return render(request, "console/two_factor_setup.html", context, status=400 if error else 200)


@login_required
@never_cache
def two_factor_recovery_codes(request: HttpRequest):
    """The recovery codes just made, shown this once."""
    codes = request.session.pop(_NEW_CODES, None)
    if not isinstance(codes, list):
        return redirect("settings-security")
    return render(request, "console/two_factor_recovery_codes.html", {"codes": codes})


def _reauthenticated(request: HttpRequest, action) -> bool:
    """Run ``action(password=..., code=...)``; a wrong password or code counts as a failed sign-in."""
    ip = client_ip_of_request(request)
    try:
        security.check_sign_in_allowed(request.user.username, ip)
        action(password=_field(request, "password", security.PASSWORD_MAX), code=_field(request, "code", 64))
    except security.SignInThrottled as exc:
        messages.error(request, str(exc))
        return False
    except ValidationError as exc:
        if isinstance(exc, security.ReauthenticationFailed):
            security.do_record_sign_in_failure(request.user.username, ip)
        messages.error(request, exc.messages[0])
        return False
    return True


@require_POST
@login_required
@sensitive_post_parameters("password", "code")
def two_factor_disable(request: HttpRequest):
    if _reauthenticated(request, lambda **kw: security.do_disable_two_factor(request.user, **kw)):
        messages.success(request, "Two-factor authentication is off.")
    return redirect("settings-security")


@require_POST
@login_required
@sensitive_post_parameters("password", "code")
def two_factor_regenerate(request: HttpRequest):
    codes: list[str] = []
    if _reauthenticated(request, lambda **kw: codes.extend(security.do_regenerate_recovery_codes(request.user, **kw))):
        request.session[_NEW_CODES] = codes
        return redirect("two-factor-recovery-codes")
    return redirect("settings-security")


@require_POST
@login_required
def session_revoke(request: HttpRequest, public_id: str):
    """Sign out one session from the list; this one signs out as with Sign out."""
    if public_id == security.session_public_id(request.session):
        return redirect("settings-security")  # the page offers Sign out for this one
    try:
        security.do_revoke_session(request.user, public_id)
    except ValidationError:
        messages.error(request, "That session has ended already.")
    else:
        messages.success(request, "Signed out that session.")
    return redirect("settings-security")


@require_POST
@login_required
def sessions_revoke_others(request: HttpRequest):
    security.do_revoke_sessions(request.user.pk, keep=security.session_public_id(request.session))
    messages.success(request, "Signed out everywhere else.")
    return redirect("settings-security")


@require_POST
@login_required
def security_policy(request: HttpRequest):
    """Admins: require two-factor of every agent, or stop requiring it."""
    check_admin(request.user)
    required = request.POST.get("require_two_factor") == "on"
    security.do_set_require_two_factor(request.user, required)
    if required:
        messages.success(request, "Every agent now needs two-factor authentication to use the console.")
    else:
        messages.success(request, "Two-factor authentication is now up to each agent.")
    return redirect("settings-security")


@require_POST
@login_required
def two_factor_reset(request: HttpRequest, agent_id: int):
    """Admins: turn off an agent's two-factor (a lost phone); their sessions end."""
    check_admin(request.user)
    agent = get_object_or_404(Agent, pk=agent_id)
    security.do_reset_two_factor(request.user, agent.pk)
    if agent.pk == request.user.pk:
        return redirect("login")
    messages.success(request, f"Reset two-factor authentication of {agent.username}; they were signed out.")
    return redirect("settings-agent-edit", agent.pk)
