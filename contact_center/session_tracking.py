"""Keeping each signed-in agent's session listed (``AgentSession``, contact_center/models/security.py),
and holding agents without two-factor at its set-up page while admins require it.

A sign-in (the console's, Django admin's, a test client's ``force_login``: all send Django's
``user_logged_in``) lists the session and decides whether it must set up two-factor first. Django's
signal is the one place every sign-in passes, which is why this is not an explicit call.

The middleware, after the view: a session whose key Django just cycled (a password change) has its row
follow, and last seen is written at most every ``SEEN_EVERY_SECONDS``; that same write re-reads the
policy, so an admin requiring two-factor reaches agents already signed in within that time, at no cost
to the requests in between. A session signed in before sessions were listed is listed on its next
request. Before the view it reads only the session: a session held for set-up gets the set-up page
(console JSON: 403) until two-factor is on, or no longer required.
"""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.shortcuts import redirect

from contact_center.actions import agent_security as security
from contact_center.lib.ratelimit import client_ip_of_request

logger = logging.getLogger(__name__)

# Pages an agent without two-factor still reaches while it is required: signing in and out, and setting it up.
_EXEMPT_PREFIXES = ("/console/login/", "/console/logout/", "/console/settings/security/two-factor/")


def on_signed_in(sender, request, user, **kwargs):
    """``user_logged_in``: list the new session and decide whether it must set up two-factor first."""
    session = getattr(request, "session", None)
    if session is None or not session.session_key:
        return
    _register(request, user.pk)


def _register(request, agent_id: int) -> None:
    session = request.session
    public_id = security.do_register_session(
        agent_id, session.session_key, request.META.get("HTTP_USER_AGENT", ""), client_ip_of_request(request)
    )
    session[security.SESSION_INFO] = {"id": public_id, "key": session.session_key, "seen": security.now_epoch()}
    session[security.NEEDS_TWO_FACTOR] = security.needs_two_factor_setup(agent_id)


class AgentSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        held = self._hold_for_two_factor(request)
        if held is not None:
            return held
        response = self.get_response(request)
        try:
            self._track(request)
        except Exception:
            # Bookkeeping only: the page the agent asked for still goes out.
            logger.warning("could not track the session of %s", request.path, exc_info=True)
        return response

    def _hold_for_two_factor(self, request):
        path = request.path
        if not path.startswith("/console/") or path.startswith(_EXEMPT_PREFIXES):
            return None
        if request.session.get(security.NEEDS_TWO_FACTOR) is not True:
            return None  # also every anonymous session: login_required handles those
        user = request.user
        # Held sessions are few and short-lived: re-check, so turning the policy off frees them at once.
        if not user.is_authenticated or not security.needs_two_factor_setup(user.pk):
            request.session[security.NEEDS_TWO_FACTOR] = False
            return None
        if path.startswith("/console/api/"):
            return JsonResponse({"error": "two_factor_required"}, status=403)
        return redirect("two-factor-setup")

    def _track(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        session = request.session
        key = session.session_key
        if not key:
            return
        info = session.get(security.SESSION_INFO)
        if not isinstance(info, dict) or not isinstance(info.get("id"), str):
            _register(request, user.pk)  # signed in before sessions were listed
            return
        now = security.now_epoch()
        if info.get("key") != key:
            if not security.do_rekey_session(info["id"], key):
                return  # revoked meanwhile: nothing to follow
            session[security.SESSION_INFO] = {**info, "key": key, "seen": now}
        elif now - float(info.get("seen") or 0) >= security.SEEN_EVERY_SECONDS:
            user_agent, ip = request.META.get("HTTP_USER_AGENT", ""), client_ip_of_request(request)
            if not security.do_touch_session(info["id"], user_agent, ip):
                return  # revoked meanwhile (its store entry is gone: saving it would fail the request)
            session[security.SESSION_INFO] = {**info, "seen": now}
            session[security.NEEDS_TWO_FACTOR] = security.needs_two_factor_setup(user.pk)
