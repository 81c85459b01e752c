"""The authorization matrix: every route and every socket frame, tried by every persona on their own
objects and on someone else's, generated from the URL conf and the frame tables.

A route or a frame type without a rule here fails ``test_it_has_a_rule_for_every_route`` (or its frame
twin) by name, and so does a rule whose route or frame is gone: adding one means saying who may use it.

Personas (tests/conftest.py, plus two here): anonymous; Vera and Victor, visitors of the website with
their own conversations; Alice, agent of the website inbox; Bob, agent of the partner inbox only; Sam, a
supervisor (sees every inbox, manages canned responses and labels, reads agents and teams); Charlie,
an admin. Otto wrote to the partner site only, Wanda to both (one customer, seen from each inbox). The
world (tests/support/authorization.py) puts a marker word in every object: a denied request must answer
as the route documents AND leave no marker of the object in its body, and no response ever carries the
marker of a conversation its reader may not see, nor writes to one.

The frame types come from the frame tables (``FRAMES`` of contact_center/frames.py and widget/frames.py)
together with what each consumer's dispatch names (tests/support/authorization.py).

Django admin (/admin/) keeps its own permission model (is_staff and model permissions), so its routes
share one rule, checked by ``test_it_keeps_django_admin_to_staff``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import urlsplit

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import admin
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count
from django.test import Client, override_settings
from django.utils import timezone

from contact_center.actions import agent_security as security
from contact_center.actions import events
from contact_center.actions.attachments import do_store_upload
from contact_center.lib.attachment_links import attachment_url
from contact_center.models import (
    Agent,
    AgentSession,
    Attachment,
    Conversation,
    Customer,
    RawInbound,
    SavedView,
    TimelineEntry,
)
from tests.consumers import WAIT, close_code, console_socket, session_cookie, visitor_socket
from tests.support.authorization import (
    AGENT_MARKER,
    AGENTS,
    ARTICLE_MARKERS,
    CANNED_MARKER,
    CONVERSATION_MARKERS,
    FILE_MARKER,
    INBOX_MARKERS,
    INBOX_OF_TARGET,
    LABEL_MARKER,
    PERSONAS,
    SEES_INBOX,
    TEAM_MARKER,
    VERA_EMAIL,
    VIEW_MARKER,
    VISIBLE,
    VISITORS,
    World,
    build_world,
    console_frame_types,
    personas,
    url_routes,
    widget_frame_types,
)
from widget.tokens import issue_visitor_token

SHOP_ORIGIN = "https://shop.example"

# --- outcomes -----------------------------------------------------------------------------------------

OK = "ok"  # 2xx (or the rule's own success codes) and the object's marker in the body
HIDDEN = "hidden"  # 2xx, but the object is filtered out: its marker is absent
LOGIN = "login"  # 302 to the console's login page
IGNORED = "ignored"  # answered as a success would be, but the rule's ``state`` is unchanged (refused quietly)


def listed(persona, target, method):
    """Lists: any agent, showing only what the agent sees (the rest is filtered out, not refused)."""
    return LOGIN if persona not in AGENTS else OK if target in SEES_INBOX[persona] else HIDDEN


def public(persona, target, method):
    return OK


def any_agent(persona, target, method):
    return OK if persona in AGENTS else LOGIN


def sees_target(denied: str | int):
    """Agents who can see the target's inbox get it; other agents get ``denied`` (404: not said to exist).
    The "shared" customer wrote to both inboxes: every agent sees her, each only through their own."""
    return lambda persona, target, method: (
        LOGIN if persona not in AGENTS else OK if target in SEES_INBOX[persona] or target == "shared" else denied
    )


def admins(persona, target, method):
    return LOGIN if persona not in AGENTS else OK if persona == "charlie" else 403


def admins_and_supervisors(persona, target, method):
    return LOGIN if persona not in AGENTS else OK if persona in ("charlie", "sam") else 403


def supervisors_read_admins_write(persona, target, method):
    return admins(persona, target, method) if method == "POST" else admins_and_supervisors(persona, target, method)


def visitor_token(denied: int):
    """Any visitor with a token of this inbox; without one (agents' cookies count for nothing) ``denied``."""
    return lambda persona, target, method: OK if persona in VISITORS else denied


def vera_only(persona, target, method):
    """The visitor's own conversation: Vera gets hers; Victor gets his, never hers."""
    return OK if persona == "vera" else HIDDEN if persona == "victor" else 400


def visitor_of_target_inbox(persona, target, method):
    """A visitor of the website reads what is offered there; the partner site's is 404 to them."""
    return 400 if persona not in VISITORS else OK if target == "website" else 404


def suggested_in_own_inbox(persona, target, method):
    return 400 if persona not in VISITORS else OK if target == "website" else HIDDEN


def twilio_only(persona, target, method):
    return 403  # nobody here holds Twilio's signature


def signed_link(persona, target, method):
    return OK if target == "signed" else 404  # the link is the credential, whoever holds it


def alice_own_view(persona, target, method):
    return LOGIN if persona not in AGENTS else OK if persona == "alice" else HIDDEN


# --- requests -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    path: str
    data: dict | None = None
    json_body: bool = False
    headers: dict | None = None


def widget_json(path: str, **fields):
    """A widget API call: the persona's visitor token (none for the others) and the shop's Origin."""

    def build(w: World, persona: str, target, method) -> Call:
        data = {"token": w.tokens[persona]} if persona in VISITORS else {}
        data.update({key: value(w, target) if callable(value) else value for key, value in fields.items()})
        return Call(path, data, json_body=True, headers={"Origin": SHOP_ORIGIN})

    return build


def at(path_of: Callable[[World, str | None], str], data: dict | None = None):
    return lambda w, persona, target, method: Call(path_of(w, target), data if method == "POST" else None)


def fixed(path: str, data: dict | None = None):
    return at(lambda w, target: path, data)


def quarantined(action: str):
    """A mail to an address no inbox has, quarantined afresh for each request (a discard deletes it)."""

    def path(w, target):
        row = RawInbound.objects.create(
            source="email",
            fields={"recipient": "nobody@shop.example", "via": "pipe"},
            raw=b"From: vera@home.example\r\nTo: nobody@shop.example\r\n\r\nHello\r\n",
            sha256="0" * 64,
            state=RawInbound.State.QUARANTINED,
            error="no email inbox has the address 'nobody@shop.example'",
        )
        return f"/console/settings/quarantine/{row.pk}/{action}/"

    return at(path)


@dataclass(frozen=True)
class Rule:
    who: str  # the rule in words, for the reader and the failure messages
    expect: Callable[[str, str | None, str], str | int]
    request: Callable[[World, str, str | None, str], Call]
    methods: tuple[str, ...] = ("GET",)
    targets: tuple[str | None, ...] = (None,)
    marker: Callable[[World, str | None], str | None] = lambda w, target: None
    ok_statuses: tuple[int, ...] = (200, 201, 202)
    # What must not change unless the request is allowed (rows of someone else's object).
    state: Callable[[World], object] | None = None


def conversation_marker(w, target):
    return CONVERSATION_MARKERS[INBOX_OF_TARGET[target]]


def customer_marker(w, target):
    # Wanda (target "shared") is seen from both inboxes: what each agent may see of her is the universal
    # check's (no marker of a conversation they may not see), not one marker's.
    return None if target == "shared" else conversation_marker(w, target)


def inbox_marker(w, target):
    return INBOX_MARKERS[target or "website"]


def article_marker(w, target):
    return ARTICLE_MARKERS[target]


BOTH = ("website", "partner")

RULES: dict[str, Rule] = {
    # Public pages: the demo shop, the health check, what embeds the widget.
    "demo": Rule("public", public, fixed("/")),
    "demo-page": Rule("public", public, fixed("/demo/pricing/")),
    "healthz": Rule("public", public, fixed("/healthz")),
    "widget:loader": Rule("public", public, fixed("/widget/loader.js")),
    "widget:frame-script": Rule("public", public, fixed("/widget/frame.js")),
    "widget:frame": Rule(
        "public (framing limited by CSP)", public, at(lambda w, t: f"/widget/frame/{w.inboxes['website'].public_key}/")
    ),
    "widget:appearance": Rule(
        "public", public, at(lambda w, t: f"/widget/api/appearance/{w.inboxes['website'].public_key}/")
    ),
    # Sessions.
    "login": Rule(
        "public", public, fixed("/console/login/", {"username": "alice", "password": "wrong"}), ("GET", "POST")
    ),
    "logout": Rule(
        "anyone (POST): signed out, then the login page",
        lambda persona, target, method: LOGIN,
        fixed("/console/logout/", {}),
        ("POST",),
    ),
    "password-change": Rule("any agent", any_agent, fixed("/console/password/", {}), ("GET", "POST")),
    "password-change-done": Rule("any agent", any_agent, fixed("/console/password/done/")),
    # The console and its reads.
    "console": Rule("any agent", any_agent, fixed("/console/")),
    "conversation-list": Rule(
        "any agent; lists only conversations of inboxes they see",
        listed,
        fixed("/console/api/conversations/?view=all"),
        marker=conversation_marker,
        targets=BOTH,
    ),
    "conversation-counts": Rule(
        "any agent (counts of what they see)", any_agent, fixed("/console/api/conversations/counts/")
    ),
    "saved-views": Rule(
        "any agent; their own views and shared ones",
        alice_own_view,
        fixed("/console/api/views/"),
        marker=lambda w, t: VIEW_MARKER,
    ),
    "export-conversations": Rule(
        "any agent; exports only conversations of inboxes they see",
        listed,
        fixed("/console/export/conversations.csv?view=all"),
        marker=conversation_marker,
        targets=BOTH,
    ),
    "console-search": Rule(
        "any agent; finds only conversations of inboxes they see",
        listed,
        at(lambda w, t: f"/console/api/search/?kind=messages&q={conversation_marker(w, t)}"),
        marker=conversation_marker,
        targets=BOTH,
    ),
    "customer-profile": Rule(
        "agent who sees one of the customer's conversations (else 404)",
        sees_target(404),
        at(lambda w, t: f"/console/api/customers/{w.target_customer(t)}/"),
        marker=customer_marker,
        targets=(*BOTH, "shared"),
    ),
    "customer-timeline": Rule(
        "agent who sees one of the customer's conversations (else 404)",
        sees_target(404),
        at(lambda w, t: f"/console/api/customers/{w.target_customer(t)}/timeline/"),
        marker=customer_marker,
        targets=(*BOTH, "shared"),
    ),
    "entries": Rule(
        "agent who sees the conversation (else 404)",
        sees_target(404),
        at(lambda w, t: f"/console/api/conversations/{w.target_conversation(t)}/entries/"),
        marker=conversation_marker,
        targets=BOTH,
    ),
    "company-list": Rule(
        "any agent (companies are shared by every inbox)", any_agent, fixed("/console/api/companies/")
    ),
    "canned-list": Rule(
        "any agent (canned responses are shared)",
        any_agent,
        fixed("/console/api/canned/"),
        marker=lambda w, t: CANNED_MARKER,
    ),
    "label-list": Rule(
        "any agent (labels are shared)", any_agent, fixed("/console/api/labels/"), marker=lambda w, t: LABEL_MARKER
    ),
    "console-uploads": Rule(
        "agent who sees the conversation (else 404)",
        sees_target(404),
        lambda w, persona, target, method: Call(
            "/console/api/uploads/",
            {
                "conversation": str(w.target_conversation(target)),
                "file": SimpleUploadedFile("hi.txt", b"hello", content_type="text/plain"),
            },
        ),
        ("POST",),
        targets=BOTH,
    ),
    "console-kb-articles": Rule(
        "agent who sees the conversation (else 404); articles of its inbox",
        sees_target(404),
        at(lambda w, t: f"/console/api/kb/articles/?conversation={w.target_conversation(t)}&q={article_marker(w, t)}"),
        marker=article_marker,
        targets=BOTH,
    ),
    # Signing in with a second factor, and Settings → Security: each agent's own two-factor and sessions.
    "login-code": Rule(
        "public; without a pending password step, back to the login page",
        lambda persona, target, method: LOGIN,
        fixed("/console/login/code/", {"code": "123456"}),
        ("GET", "POST"),
    ),
    "settings-security": Rule("any agent (their own)", any_agent, fixed("/console/settings/security/")),
    "two-factor-setup": Rule(
        "any agent (their own)",
        any_agent,
        fixed("/console/settings/security/two-factor/", {"code": "000000"}),
        ("GET", "POST"),
        ok_statuses=(200, 400),  # a wrong code is 400 with the form
    ),
    "two-factor-recovery-codes": Rule(
        "any agent (their own, once)",
        any_agent,
        fixed("/console/settings/security/two-factor/recovery-codes/"),
        ok_statuses=(200, 302),
    ),
    "two-factor-disable": Rule(
        "any agent (their own; password again)",
        any_agent,
        fixed("/console/settings/security/two-factor/disable/", {"password": "wrong"}),
        ("POST",),
        ok_statuses=(302,),
    ),
    "two-factor-regenerate": Rule(
        "any agent (their own; password again)",
        any_agent,
        fixed("/console/settings/security/two-factor/regenerate/", {"password": "wrong"}),
        ("POST",),
        ok_statuses=(302,),
    ),
    "session-revoke": Rule(
        "any agent, their own sessions only: Alice's other session stays for everyone else",
        lambda persona, target, method: LOGIN if persona not in AGENTS else OK if persona == "alice" else IGNORED,
        at(lambda w, t: f"/console/settings/security/sessions/{w.extra['alice_laptop']}/revoke/", {}),
        ("POST",),
        ok_statuses=(302,),
        state=lambda w: list(AgentSession.objects.filter(agent=w.agents["alice"]).values_list("public_id", flat=True)),
    ),
    "sessions-revoke": Rule(
        "any agent (their own other sessions): Alice's stay for everyone else",
        lambda persona, target, method: LOGIN if persona not in AGENTS else OK if persona == "alice" else IGNORED,
        fixed("/console/settings/security/sessions/revoke-others/", {}),
        ("POST",),
        ok_statuses=(302,),
        state=lambda w: list(AgentSession.objects.filter(agent=w.agents["alice"]).values_list("public_id", flat=True)),
    ),
    "security-policy": Rule(
        "admins only",
        admins,
        fixed("/console/settings/security/policy/", {"require_two_factor": "on"}),
        ("POST",),
        ok_statuses=(302,),
        state=lambda w: security.two_factor_required(),
    ),
    "two-factor-reset": Rule(
        "admins only",
        admins,
        at(lambda w, t: f"/console/settings/agents/{w.dora_id}/two-factor/reset/", {}),
        ("POST",),
        ok_statuses=(302,),
        state=lambda w: list(AgentSession.objects.filter(agent_id=w.dora_id).values_list("public_id", flat=True)),
    ),
    # Settings: canned responses and labels (admins and supervisors), people and inboxes.
    "settings-canned": Rule(
        "admins and supervisors",
        admins_and_supervisors,
        fixed("/console/settings/canned/", {}),
        ("GET", "POST"),
        marker=lambda w, t: CANNED_MARKER,
    ),
    "settings-canned-edit": Rule(
        "admins and supervisors",
        admins_and_supervisors,
        at(lambda w, t: f"/console/settings/canned/{w.canned_id}/", {}),
        ("GET", "POST"),
        marker=lambda w, t: CANNED_MARKER,
    ),
    "settings-labels": Rule(
        "admins and supervisors",
        admins_and_supervisors,
        fixed("/console/settings/labels/", {}),
        ("GET", "POST"),
        marker=lambda w, t: LABEL_MARKER,
    ),
    "settings-label-edit": Rule(
        "admins and supervisors",
        admins_and_supervisors,
        at(lambda w, t: f"/console/settings/labels/{w.label_id}/", {}),
        ("GET", "POST"),
        marker=lambda w, t: LABEL_MARKER,
    ),
    "settings-quarantine": Rule("admins only", admins, fixed("/console/settings/quarantine/")),
    "quarantine-download": Rule("admins only", admins, quarantined("download")),
    "quarantine-retry": Rule("admins only", admins, quarantined("retry"), ("POST",), ok_statuses=(302,)),
    "quarantine-discard": Rule("admins only", admins, quarantined("discard"), ("GET", "POST"), ok_statuses=(200, 302)),
    "settings-inboxes": Rule(
        "admins only", admins, fixed("/console/settings/inboxes/", {}), ("GET", "POST"), marker=inbox_marker
    ),
    "settings-inbox-edit": Rule(
        "admins only",
        admins,
        at(lambda w, t: f"/console/settings/inboxes/{w.inboxes[t].pk}/", {}),
        ("GET", "POST"),
        targets=BOTH,
        marker=inbox_marker,
    ),
    "settings-agents": Rule(
        "admins and supervisors read",
        admins_and_supervisors,
        fixed("/console/settings/agents/"),
        marker=lambda w, t: AGENT_MARKER,
    ),
    "settings-agent-new": Rule("admins only", admins, fixed("/console/settings/agents/new/", {}), ("GET", "POST")),
    "settings-agent-edit": Rule(
        "admins only",
        admins,
        at(lambda w, t: f"/console/settings/agents/{w.dora_id}/", {}),
        ("GET", "POST"),
        marker=lambda w, t: AGENT_MARKER,
    ),
    "settings-teams": Rule(
        "admins and supervisors read; admins add",
        supervisors_read_admins_write,
        fixed("/console/settings/teams/", {}),
        ("GET", "POST"),
        marker=lambda w, t: TEAM_MARKER,
    ),
    "settings-team-edit": Rule(
        "admins only",
        admins,
        at(lambda w, t: f"/console/settings/teams/{w.team_id}/", {}),
        ("GET", "POST"),
        marker=lambda w, t: TEAM_MARKER,
    ),
    # The widget's HTTP API: a visitor token of this inbox and an allowed Origin.
    "widget:session": Rule(
        "public, from an allowed Origin",
        public,
        lambda w, persona, target, method: Call(
            "/widget/api/session/",
            {"inbox": w.inboxes["website"].public_key},
            json_body=True,
            headers={"Origin": SHOP_ORIGIN},
        ),
        ("POST",),
    ),
    "widget:uploads": Rule(
        "visitor token of the inbox (else 401)",
        visitor_token(401),
        lambda w, persona, target, method: Call(
            "/widget/api/uploads/",
            {"file": SimpleUploadedFile("hi.txt", b"hello", content_type="text/plain")},
            headers={"Origin": SHOP_ORIGIN, **({"X-Parley-Token": w.tokens[persona]} if persona in VISITORS else {})},
        ),
        ("POST",),
    ),
    "widget:poll": Rule(
        "visitor token; their own conversation only",
        vera_only,
        widget_json("/widget/api/poll/", last_seq=0),
        ("POST",),
        targets=("website",),
        marker=conversation_marker,
    ),
    "widget:messages": Rule(
        "visitor token; writes to their own conversation only",
        visitor_token(400),
        widget_json("/widget/api/messages/", client_id="matrix-msg-1", body="Another question"),
        ("POST",),
    ),
    "widget:availability": Rule(
        "visitor token", visitor_token(400), widget_json("/widget/api/availability/"), ("POST",)
    ),
    "widget:offline": Rule(
        "visitor token",
        visitor_token(400),
        widget_json("/widget/api/offline/", client_id="matrix-off-1", email="x@example.com", body="Call me"),
        ("POST",),
    ),
    "widget:transcript": Rule(
        "visitor token; their own conversation only",
        visitor_token(400),
        widget_json("/widget/api/transcript/", email="x@example.com"),
        ("POST",),
    ),
    "widget:suggestions": Rule(
        "visitor token; articles offered in their inbox only",
        suggested_in_own_inbox,
        widget_json("/widget/api/suggestions/", text=article_marker),
        ("POST",),
        targets=BOTH,
        marker=article_marker,
    ),
    "widget:article": Rule(
        "visitor token; articles offered in their inbox (else 404)",
        visitor_of_target_inbox,
        lambda w, persona, target, method: Call(
            f"/widget/api/articles/{w.articles[target]}/",
            headers={"Origin": SHOP_ORIGIN}
            | ({"Authorization": f"Bearer {w.tokens[persona]}"} if persona in VISITORS else {}),
        ),
        targets=BOTH,
        marker=article_marker,
    ),
    "widget:deflections": Rule(
        "visitor token; articles offered in their inbox (else 404)",
        visitor_of_target_inbox,
        widget_json("/widget/api/deflections/", article=lambda w, t: w.articles[t], outcome="need_help", query="q"),
        ("POST",),
        targets=BOTH,
    ),
    # Twilio's webhooks: signed with the account's auth token, nothing else.
    "sms:twilio-status": Rule("signed Twilio", twilio_only, fixed("/channels/twilio/status/", {}), ("POST",)),
    "sms:twilio-sms": Rule("signed Twilio", twilio_only, fixed("/channels/twilio/sms/", {}), ("POST",)),
    # Attachments: a signed link is the credential.
    "attachment": Rule(
        "signed link",
        signed_link,
        at(lambda w, t: attachment_path(w, t).rsplit("/", 1)[0] + "/"),
        targets=("signed", "forged"),
        marker=lambda w, t: FILE_MARKER,
    ),
    "attachment-named": Rule(
        "signed link",
        signed_link,
        at(lambda w, t: attachment_path(w, t)),
        targets=("signed", "forged"),
        marker=lambda w, t: FILE_MARKER,
    ),
}


def attachment_path(w: World, target: str) -> str:
    """The signed link's path, or (``forged``) one signed with another key for the same file."""
    path = urlsplit(attachment_url(Attachment.objects.get(pk=w.attachment_id))).path
    if target == "signed":
        return path
    forged = signing.dumps(w.attachment_id, salt="parley.attachment", key="not-our-key")
    return f"/files/{forged}/notes.txt"


def is_django_admin(route: str) -> bool:
    return route.startswith(("admin:", "/admin/"))


# --- the tables are complete ----------------------------------------------------------------------------


def test_it_has_a_rule_for_every_route():
    routes = {name for name in url_routes() if not is_django_admin(name)}
    missing = sorted(routes - set(RULES))
    assert not missing, f"routes without an authorization rule in RULES: {missing}"


def test_it_has_no_rule_for_a_route_that_is_gone():
    stale = sorted(set(RULES) - set(url_routes()))
    assert not stale, f"rules for routes the URL conf no longer has: {stale}"


# --- the HTTP matrix ------------------------------------------------------------------------------------


def _cases():
    for route, rule in RULES.items():
        for method in rule.methods:
            for target in rule.targets:
                for persona in PERSONAS:
                    suffix = f"-{target}" if target else ""
                    yield pytest.param(route, method, target, persona, id=f"{route}-{method}{suffix}-{persona}")


@pytest.fixture(scope="class")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """One world for the whole HTTP matrix, built in a transaction rolled back at the end: each test runs
    in a savepoint inside it (pytest-django's django_db), so nothing a test does reaches the next. Built
    per test it would cost most of the matrix's time."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=tmp_path_factory.mktemp("media"),
            # Twilio is configured, so its webhooks check signatures (without a token they refuse everything).
            PARLEY_TWILIO={**settings.PARLEY_TWILIO, "auth_token": "twilio-token", "account_sid": "AC123"},
            # Mail can go out, so the transcript answers by who asks (without it, 503 for everyone). No
            # worker runs here: nothing is sent.
            PARLEY_SMTP={"url": "smtp://127.0.0.1:1", "mail_from": "help@shop.example"},
        ),
        transaction.atomic(),
    ):
        built = build_world(*personas())
        # One login per agent for the whole matrix (a login per test costs a fifth of its time).
        for persona in AGENTS:
            client = Client()
            client.force_login(built.agents[persona])
            built.extra[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
        # Alice signed in on a laptop too, and Dora somewhere: sessions others must not end.
        Client().force_login(built.agents["alice"])
        Client().force_login(Agent.objects.get(pk=built.dora_id))
        built.extra["alice_laptop"] = (
            AgentSession.objects.filter(agent=built.agents["alice"]).order_by("-pk").values_list("public_id", flat=True)
        )[0]
        yield built
        transaction.set_rollback(True)


def _client(w: World, persona: str) -> Client:
    client = Client()
    if persona in AGENTS:
        client.cookies[settings.SESSION_COOKIE_NAME] = w.extra[persona]
    return client


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def _entry_counts() -> dict[int, int]:
    return dict(Conversation.objects.annotate(entry_count=Count("entries")).values_list("pk", "entry_count"))


def _admin_pages() -> list[str]:
    pages = ["/admin/"]
    for model in admin.site._registry:
        pages.append(f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
    return pages


@pytest.mark.django_db
class TestRoutes:
    """Every route, every persona; and Django admin, which keeps its own permission model (is_staff)."""

    @pytest.mark.parametrize(("route", "method", "target", "persona"), list(_cases()))
    def test_it_answers_each_persona_as_the_route_rule_says(self, world, route, method, target, persona):
        rule = RULES[route]
        expected = rule.expect(persona, target, method)
        call = rule.request(world, persona, target, method)
        marker = rule.marker(world, target)
        headers = dict(call.headers or {})
        if persona in VISITORS and "X-Parley-Token" not in headers:
            # A visitor's only credential goes along everywhere: it must open nothing of the console.
            headers.setdefault("Authorization", f"Bearer {world.tokens[persona]}")
        before = _entry_counts()
        state = rule.state(world) if rule.state else None

        client = _client(world, persona)
        if method == "GET":
            response = client.get(call.path, headers=headers)
        elif call.json_body:
            response = client.post(call.path, json.dumps(call.data), content_type="application/json", headers=headers)
        else:
            response = client.post(call.path, call.data or {}, headers=headers)
        body = _body(response)
        status = response.status_code

        where = f"{method} {call.path} as {persona}: {status}"
        if expected in (OK, IGNORED):
            assert status in rule.ok_statuses, f"{where}, expected one of {rule.ok_statuses} ({rule.who})"
            if status == 302:
                assert not response["Location"].startswith(settings.LOGIN_URL), f"{where}: sent to log in"
            if marker and expected == OK:
                assert marker in body, f"{where}: the object ({marker}) is missing from an allowed answer"
        elif expected == HIDDEN:
            assert 200 <= status < 300, f"{where}, expected 2xx without the object ({rule.who})"
        elif expected == LOGIN:
            assert status == 302, f"{where}, expected a redirect to the login page ({rule.who})"
            assert response["Location"].startswith(settings.LOGIN_URL), response["Location"]
        else:
            assert status == expected, f"{where}, expected {expected} ({rule.who})"
        if expected != OK and marker:
            assert marker not in body, f"{where}: the denied object ({marker}) leaked into the body"
        for name, secret in CONVERSATION_MARKERS.items():
            if name not in VISIBLE[persona]:
                assert secret not in body, f"{where}: {name}'s conversation ({secret}) leaked into the body"
        after = _entry_counts()
        for name in set(CONVERSATION_MARKERS) - VISIBLE[persona]:
            conversation = world.conversations[name]
            assert after[conversation] == before[conversation], f"{where}: wrote to {name}'s conversation"
        if rule.state and expected != OK:
            assert rule.state(world) == state, f"{where}: changed what only others may change ({rule.who})"

    @pytest.mark.parametrize("page", _admin_pages())
    def test_it_keeps_django_admin_to_staff(self, world, page):
        # Charlie is a Parley admin (role) but not staff: Django admin stays closed to every persona.
        for persona in PERSONAS:
            response = _client(world, persona).get(page)
            assert response.status_code == 302, (page, persona, response.status_code)
            assert response["Location"].startswith("/admin/login/"), (page, persona)
            body = _body(response)
            assert not any(marker in body for marker in CONVERSATION_MARKERS.values())
        root = Agent.objects.create_user("root", password="root-password", is_staff=True, is_superuser=True)
        staff = Client()
        staff.force_login(root)
        assert staff.get(page).status_code == 200


# --- sockets: the frame tables ---------------------------------------------------------------------------

# A frame nobody sends: its answer (not_found for conversation "barrier") marks the end of the answers to
# what was sent before it, since a consumer handles one frame at a time.
CONSOLE_BARRIER = {"type": "sync", "conversation": "barrier", "after": 0}
BARRIER_ANSWER = {"type": "error", "code": "not_found", "conversation": "barrier"}


@dataclass(frozen=True)
class ConsoleFrame:
    """How to aim a console frame at the target conversation (or customer, or view), and the refusal
    an agent who may not see it gets (docs/protocols/console-socket.md)."""

    build: Callable[[World, int], dict]
    refusal: Callable[[World, int, dict], dict]
    # Frames that touch only the sender's own state (availability, saving a view): no one else's object.
    own_only: bool = False


def _not_found_conversation(w, conversation, frame):
    return {"type": "error", "code": "not_found", "conversation": conversation}


def _not_found_write(w, conversation, frame):
    return {"type": "error", "code": "not_found", "client_id": frame["client_id"]}


def _change(**fields):
    return ConsoleFrame(
        lambda w, c: {"conversation": c, **{name: value(w) for name, value in fields.items()}}, _not_found_conversation
    )


CONSOLE_FRAMES: dict[str, ConsoleFrame] = {
    "hello": ConsoleFrame(lambda w, c: {"resume": {str(c): 0}}, _not_found_conversation),
    "sync": ConsoleFrame(lambda w, c: {"conversation": c, "after": 0}, _not_found_conversation),
    "reply": ConsoleFrame(
        lambda w, c: {"conversation": c, "body": "Sneaking in", "client_id": "matrix-write-1"}, _not_found_write
    ),
    "note": ConsoleFrame(
        lambda w, c: {"conversation": c, "body": "Sneaking in", "client_id": "matrix-write-1"}, _not_found_write
    ),
    "typing": ConsoleFrame(lambda w, c: {"conversation": c, "typing": True}, _not_found_conversation),
    "viewing": ConsoleFrame(lambda w, c: {"conversation": c}, _not_found_conversation),
    "read": ConsoleFrame(lambda w, c: {"conversation": c, "seq": 1}, _not_found_conversation),
    "status": _change(status=lambda w: "resolved"),
    "snooze": _change(until=lambda w: (timezone.now() + timedelta(days=1)).isoformat()),
    "assign": _change(assignee=lambda w: w.agents["charlie"].pk),
    "team": _change(team=lambda w: w.team_id),
    "priority": _change(priority=lambda w: 3),
    "labels": _change(labels=lambda w: [w.label_id]),
    "merge": _change(into=lambda w: w.conversations["victor"]),
    "move": _change(inbox=lambda w: w.inboxes["partner"].pk),
    "customer": ConsoleFrame(
        lambda w, c: {"customer": Conversation.objects.get(pk=c).customer_id, "name": "Renamed"},
        lambda w, c, frame: {"type": "error", "code": "not_found", "customer": frame["customer"]},
    ),
    "availability": ConsoleFrame(lambda w, c: {"availability": "busy"}, None, own_only=True),
    "view.save": ConsoleFrame(lambda w, c: {"name": "Mine", "filters": {"status": "open"}}, None, own_only=True),
    # Someone else's object here is Alice's own saved view.
    "view.delete": ConsoleFrame(
        lambda w, c: {"view": w.view_id},
        lambda w, c, frame: {"type": "error", "code": "invalid", "view": w.view_id},
    ),
}

# Frames that name a second object: aimed from the agent's own conversation at someone else's.
CROSS_FRAMES = {
    "bob merges his conversation into one he may not see": (
        "bob",
        "merge",
        lambda w: {"conversation": w.conversations["otto"], "into": w.conversations["vera"]},
        lambda w: {"type": "error", "code": "not_found", "conversation": w.conversations["otto"]},
    ),
    "bob moves his conversation to an inbox he may not see": (
        "bob",
        "move",
        lambda w: {"conversation": w.conversations["otto"], "inbox": w.inboxes["website"].pk},
        None,  # refused: an error frame about the conversation, whichever code
    ),
    "alice moves her conversation to an inbox she may not see": (
        "alice",
        "move",
        lambda w: {"conversation": w.conversations["vera"], "inbox": w.inboxes["partner"].pk},
        None,
    ),
    "alice assigns her conversation to an agent who may not see it": (
        "alice",
        "assign",
        lambda w: {"conversation": w.conversations["vera"], "assignee": w.agents["bob"].pk},
        lambda w: {"type": "error", "code": "invalid", "conversation": w.conversations["vera"]},
    ),
}


def test_it_has_a_rule_for_every_console_frame():
    types = console_frame_types()
    assert not sorted(types - set(CONSOLE_FRAMES)), (
        f"console frames without a rule: {sorted(types - set(CONSOLE_FRAMES))}"
    )
    assert not sorted(set(CONSOLE_FRAMES) - types), (
        f"rules for console frames that are gone: {sorted(set(CONSOLE_FRAMES) - types)}"
    )


def _state(w: World) -> dict:
    """What a refused frame must leave as it was: the target conversations, their entries, customers, views."""
    return {
        "conversations": list(Conversation.objects.order_by("pk").values()),
        "entries": list(
            TimelineEntry.objects.order_by("pk").values("pk", "conversation_id", "body", "delivery_status")
        ),
        "customers": list(Customer.objects.order_by("pk").values()),
        "views": list(SavedView.objects.order_by("pk").values("pk", "owner_id", "name")),
        "labels": list(Conversation.labels.through.objects.order_by("pk").values()),
        "availability": {a.pk: a.availability for a in Agent.objects.all()},
        "attachments": list(Attachment.objects.order_by("pk").values("pk", "entry_id")),
    }


def _refused(errors: list[dict], refusal: dict) -> bool:
    """Whether one of the error frames is ``refusal`` (plus, perhaps, a ``message`` for people)."""
    return any(refusal.items() <= error.items() for error in errors)


async def _answers(communicator, barrier: dict, answer: dict) -> list[dict]:
    """Every frame up to the barrier's answer (excluded)."""
    await communicator.send_json_to(barrier)
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=WAIT)
        if frame == answer:
            return frames
        frames.append(frame)


def _console_cases():
    for frame_type in CONSOLE_FRAMES:
        # Bob is refused; Alice (a member) is the control that the frame is well formed, so Bob's refusal
        # is about whose conversation it is. Sam and Charlie see every inbox by the same rule
        # (visible_inboxes / sees_every_inbox), covered by the HTTP matrix: here they would double the time.
        for persona in ("alice", "bob"):
            yield pytest.param(frame_type, persona, id=f"{frame_type}-{persona}")


@pytest.fixture
def socket_world(website, other_inbox, alice, bob, charlie, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # No socket is open yet, so nobody could hear the events of building it: skip sending them (each
    # would start an event loop of its own).
    with patch.object(events, "publish", lambda event, groups: None):
        built = build_world(website, other_inbox, alice, bob, charlie, http=False)
    # A file Vera uploaded and has not sent yet: only her own message may carry it.
    built.extra["vera_upload"] = do_store_upload(website, "visitor:vera", io.BytesIO(b"draft"), "draft.txt", "").pk
    return built


async def _open_console(agent):
    communicator = console_socket(await session_cookie(agent))
    connected, code = await communicator.connect(timeout=WAIT)
    assert connected, code
    return communicator


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("frame_type", "persona"), list(_console_cases()))
async def test_it_refuses_console_frames_about_someone_elses_objects(socket_world, frame_type, persona):
    """Each frame aimed at Vera's conversation (website inbox): Bob, outside the inbox, gets the documented
    refusal, changes nothing and hears nothing about it; Alice, of the inbox, is not refused."""
    w = socket_world
    spec = CONSOLE_FRAMES[frame_type]
    conversation = w.conversations["vera"]
    frame = {"type": frame_type, **(await database_sync_to_async(spec.build)(w, conversation))}
    before = await database_sync_to_async(_state)(w)

    communicator = await _open_console(w.agents[persona])
    await communicator.send_json_to(frame)
    frames = await _answers(communicator, CONSOLE_BARRIER, BARRIER_ANSWER)
    frames += await _answers(communicator, CONSOLE_BARRIER, BARRIER_ANSWER)  # and what was published meanwhile
    await communicator.disconnect()

    errors = [f for f in frames if f.get("type") == "error"]
    may_see = "website" in SEES_INBOX[persona]
    if spec.own_only or may_see:
        assert not [e for e in errors if e.get("code") in ("not_found", "forbidden")], (frame, errors)
        return
    refusal = spec.refusal(w, conversation, frame)
    assert _refused(errors, refusal), f"{persona} sent {frame}; expected {refusal}, got {frames}"
    leaked = [f for f in frames if CONVERSATION_MARKERS["vera"] in json.dumps(f)]
    assert not leaked, f"{persona} heard about Vera's conversation: {leaked}"
    assert await database_sync_to_async(_state)(w) == before, f"{persona}'s {frame} changed the database"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("case", list(CROSS_FRAMES))
async def test_it_refuses_console_frames_that_reach_into_another_inbox(socket_world, case):
    """From a conversation of their own, an agent aims a second object at an inbox they may not see:
    merging into a conversation there, moving there, handing it to an agent who could not see it."""
    w = socket_world
    persona, frame_type, build, refusal = CROSS_FRAMES[case]
    frame = {"type": frame_type, **build(w)}
    before = await database_sync_to_async(_state)(w)

    communicator = await _open_console(w.agents[persona])
    await communicator.send_json_to(frame)
    frames = await _answers(communicator, CONSOLE_BARRIER, BARRIER_ANSWER)
    await communicator.disconnect()

    errors = [f for f in frames if f.get("type") == "error"]
    if refusal is not None:
        assert _refused(errors, refusal(w)), frames
    assert errors, f"{persona}'s {frame} was not refused: {frames}"
    hidden = {"bob": "vera", "alice": "otto"}[persona]
    assert not [f for f in frames if CONVERSATION_MARKERS[hidden] in json.dumps(f)], frames
    assert await database_sync_to_async(_state)(w) == before, f"{persona}'s {frame} changed the database"


# --- the visitor socket ----------------------------------------------------------------------------------

WIDGET_BARRIER = {"type": "hello", "last_seq": 2**31 - 1}


@dataclass(frozen=True)
class WidgetFrame:
    """A visitor frame Victor sends about Vera's conversation (or claiming to be her), and the refusal
    he gets (docs/protocols/widget-socket.md): None where the frame is silently ignored or only ever
    concerns the sender's own conversation."""

    build: Callable[[World], dict]
    refusal: dict | Callable[[World], dict] | None


def _resolved(w: World) -> None:
    Conversation.objects.filter(pk=w.conversations["vera"]).update(
        status=Conversation.Status.RESOLVED, resolved_at="2026-01-01T00:00:00Z"
    )


WIDGET_FRAMES: dict[str, WidgetFrame] = {
    "hello": WidgetFrame(lambda w: {"last_seq": 0}, None),
    "sync": WidgetFrame(lambda w: {"after": 0}, None),
    # With Vera's upload, not sent yet: Victor's message may not carry it off (nor he fetch its link).
    "send": WidgetFrame(
        lambda w: {"client_id": "matrix-send-1", "body": "Mine, not hers", "attachments": [w.extra["vera_upload"]]},
        {"type": "error", "code": "invalid", "client_id": "matrix-send-1"},
    ),
    "page": WidgetFrame(lambda w: {"page": {"url": "https://shop.example/x", "title": "X"}}, None),
    # An unverified email is no proof: it describes the visitor's own customer, never attaches to Vera's.
    "identify": WidgetFrame(lambda w: {"email": VERA_EMAIL, "name": "Vera"}, None),
    "attributes": WidgetFrame(lambda w: {"attributes": {"plan": "pro"}}, None),
    "prechat": WidgetFrame(lambda w: {"fields": {"name": "Vera", "email": VERA_EMAIL}}, None),
    "typing": WidgetFrame(lambda w: {"preview": "hi"}, None),
    "csat": WidgetFrame(
        lambda w: {"conversation": w.conversations["vera"], "rating": 1},
        lambda w: {"type": "error", "code": "not_found", "conversation": w.conversations["vera"]},
    ),
    # A receipt for a conversation the socket does not follow is ignored (no error, nothing marked read).
    "seen": WidgetFrame(lambda w: {"conversation": w.conversations["vera"], "seq": 99}, None),
}


def test_it_has_a_rule_for_every_widget_frame():
    types = widget_frame_types()
    assert not sorted(types - set(WIDGET_FRAMES)), f"widget frames without a rule: {sorted(types - set(WIDGET_FRAMES))}"
    assert not sorted(set(WIDGET_FRAMES) - types), (
        f"rules for widget frames that are gone: {sorted(set(WIDGET_FRAMES) - types)}"
    )


async def _open_widget(token: str):
    communicator = visitor_socket(token)
    connected, code = await communicator.connect(timeout=WAIT)
    assert connected, code
    return communicator


async def _widget_answers(communicator) -> list[dict]:
    await communicator.send_json_to(WIDGET_BARRIER)
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=WAIT)
        if frame.get("type") == "ready":
            return frames
        frames.append(frame)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("frame_type", list(WIDGET_FRAMES))
@pytest.mark.parametrize("persona", ["vera", "victor"])
async def test_it_keeps_each_visitor_frame_to_the_visitors_own_conversation(socket_world, frame_type, persona):
    """Victor's frames, even those naming Vera's conversation or claiming her email, never touch her
    conversation or show him a word of it; Vera's own are not refused."""
    w = socket_world
    await database_sync_to_async(_resolved)(w)  # a rating of it would be accepted: only ownership refuses
    spec = WIDGET_FRAMES[frame_type]
    frame = {"type": frame_type, **spec.build(w)}
    before = await database_sync_to_async(_state)(w)

    communicator = await _open_widget(w.tokens[persona])
    await communicator.send_json_to(frame)
    frames = await _widget_answers(communicator)
    frames += await _widget_answers(communicator)
    await communicator.disconnect()

    errors = [f for f in frames if f.get("type") == "error"]
    if persona == "vera":
        assert not [e for e in errors if e.get("code") in ("not_found", "forbidden")], (frame, errors)
        return
    if spec.refusal is not None:
        refusal = spec.refusal(w) if callable(spec.refusal) else spec.refusal
        assert _refused(errors, refusal), f"Victor sent {frame}; expected {refusal}, got {frames}"
    leaked = [f for f in frames if CONVERSATION_MARKERS["vera"] in json.dumps(f)]
    assert not leaked, f"Victor saw Vera's conversation: {leaked}"
    after = await database_sync_to_async(_state)(w)
    vera = w.conversations["vera"]
    assert [c for c in after["conversations"] if c["id"] == vera] == [
        c for c in before["conversations"] if c["id"] == vera
    ], f"Victor's {frame} changed Vera's conversation"
    assert [e for e in after["entries"] if e["conversation_id"] == vera] == [
        e for e in before["entries"] if e["conversation_id"] == vera
    ], f"Victor's {frame} changed Vera's timeline"
    assert [c for c in after["customers"] if c["id"] == w.customers["vera"]] == [
        c for c in before["customers"] if c["id"] == w.customers["vera"]
    ], f"Victor's {frame} changed Vera's customer"
    assert after["attachments"] == before["attachments"], f"Victor's {frame} took a file"


# --- sockets: who may connect ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_it_closes_the_console_socket_of_anyone_without_an_agent_session(socket_world):
    # Anonymous, a made-up session, and a visitor (whose token is no session): 4401, as documented.
    for cookie in (None, "sessionid=not-a-session", f"sessionid={socket_world.tokens['vera']}"):
        assert await close_code(console_socket(cookie)) == 4401, cookie


@pytest.mark.django_db(transaction=True)
async def test_it_closes_the_widget_socket_without_a_valid_token_or_origin(socket_world):
    w = socket_world
    forged = signing.dumps({"i": w.inboxes["website"].public_key, "v": "vera"}, salt="parley.widget.visitor", key="x")
    gone = await database_sync_to_async(issue_visitor_token)("no-such-inbox", "vera")
    for token in (None, "", "not-a-token", forged, gone):
        assert await close_code(visitor_socket(token)) == 4401, token
    # Vera's own token from another site, or with no Origin: 4403.
    for origin in ("https://evil.example", None):
        assert await close_code(visitor_socket(w.tokens["vera"], origin=origin)) == 4403, origin
    # An agent's session is no visitor token.
    cookie = await session_cookie(w.agents["alice"])
    communicator = visitor_socket(None)
    communicator.scope["headers"].append((b"cookie", cookie.encode()))
    assert await close_code(communicator) == 4401
