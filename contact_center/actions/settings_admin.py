"""Admin settings: inboxes, agents and teams, as Console → Settings changes them.

Who may: admins change everything here. Supervisors may read the agents and teams pages (they route
work and need to see who is where, with what capacity) but change nothing; inbox settings, with the
identity-verification secret on them, stay admins' only. Every ``do_*`` checks its actor itself, so a
view that forgot to is still refused.

Who sees which inbox is decided when a console socket connects (it joins one group per visible inbox,
contact_center/consumers.py). So every change that widens or narrows what an agent sees (inbox members,
role, deactivation, a new inbox for those who see every inbox) publishes ``membership.changed`` to that
agent's own group after commit; their consoles' sockets close on it and reconnect with the new set. An
agent who can no longer see a conversation assigned to them (removed from its inbox, demoted,
deactivated) is unassigned from it, with a line on its timeline, so it goes back to *Unassigned*
instead of sitting with someone who cannot work on it.

Agents are never deleted: their replies keep their author. Deactivating one signs them out everywhere
(an inactive account's session no longer authenticates) and keeps their history.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from contact_center.actions.agent_security import do_revoke_sessions
from contact_center.actions.events import send_event_on_commit
from contact_center.actions.timeline import append_activity, lock_conversation
from contact_center.lib import recipients
from contact_center.lib.availability import check_business_hours
from contact_center.lib.identity import normalize_identity
from contact_center.lib.images import https_image_url
from contact_center.lib.sla import check_sla
from contact_center.models import Agent, Conversation, Inbox, Team

NAME_MAX = 120
DISPLAY_NAME_MAX = 120
# What widget/appearance.py reads; longer text is cut there, refused here.
TITLE_MAX = 80
GREETING_MAX = 500
POSITIONS = ("right", "left")
MAX_ORIGINS = 100
MAX_UPLOAD_MB = 100
_HEX_COLOR = re.compile(r"#[0-9a-f]{6}")
_LOCALE = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,4})?")
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")
# contact_center/actions/customers.py reads these: the three built-in fields or a custom attribute name.
PRECHAT_BUILTIN = ("name", "email", "phone")
PRECHAT_TYPES = ("text", "email", "tel")
PRECHAT_MAX_FIELDS = 10
PRECHAT_LABEL_MAX = 100
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")

# The Inbox.config keys these pages write; every other key (a hand-written pre-chat form, say) is kept.
WIDGET_CONFIG_KEYS = frozenset(
    {
        "brand_color",
        "position",
        "title",
        "greeting",
        "avatar_url",
        "locale",
        "csat",
        "require_identity_verification",
        "business_hours",
        "offline_without_agents",
        "attachments",
        "prechat",
    }
)
COMMON_CONFIG_KEYS = frozenset({"auto_assign", "sla"})

MEMBERSHIP_CHANGED = {"type": "membership.changed"}


# --- who may ------------------------------------------------------------------------------------


def may_administer(agent: Agent) -> bool:
    return agent.is_active and agent.role == Agent.Role.ADMIN


def check_admin(agent: Agent) -> None:
    if not may_administer(agent):
        raise PermissionDenied("only admins change inboxes, agents and teams")


def may_view_people(agent: Agent) -> bool:
    """Admins and supervisors read the agents and teams pages."""
    return agent.is_active and agent.role in {Agent.Role.ADMIN, Agent.Role.SUPERVISOR}


def check_may_view_people(agent: Agent) -> None:
    if not may_view_people(agent):
        raise PermissionDenied("only admins and supervisors see agents and teams")


# --- inboxes ------------------------------------------------------------------------------------


def check_origin(value: Any) -> str:
    """One allowed origin, normalised: ``scheme://host[:port]`` lower-cased, no trailing slash; or ``"*"``.

    The widget compares origins case-insensitively and without a trailing slash (widget/origins.py), so
    that is how they are stored. Raises ``ValidationError`` for anything with a path, query, fragment
    or credentials, a scheme other than http(s), or a bad port.
    """
    if not isinstance(value, str):
        raise ValidationError(f"{value!r} is not an origin")
    value = value.strip()
    if value == "*":
        return value
    problem = f"{value!r} is not an origin: write scheme://host[:port], e.g. https://shop.example"
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        raise ValidationError(problem) from None
    if (
        parts.scheme.lower() not in {"http", "https"}
        or not parts.hostname
        or parts.path not in {"", "/"}
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
        or re.search(r"\s", value)
    ):
        raise ValidationError(problem)
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def check_allowed_origins(value: Any) -> list[str]:
    """A list of origins (see ``check_origin``), normalised, duplicates dropped, order kept."""
    if not isinstance(value, list):
        raise ValidationError('a list of origins, like ["https://shop.example"]')
    if len(value) > MAX_ORIGINS:
        raise ValidationError(f"at most {MAX_ORIGINS} origins")
    return list(dict.fromkeys(check_origin(origin) for origin in value))


def check_inbox_name(name: Any) -> str:
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        raise ValidationError("an inbox needs a name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"a name is at most {NAME_MAX} characters")
    return name


def check_avatar_url(value: Any) -> str:
    """An ``https://`` image address, or "" for none. Raises ``ValidationError`` for anything else."""
    if value in (None, ""):
        return ""
    if https_image_url(value) is None:
        raise ValidationError("an https:// address of a picture (no http, no data:, no password in it)")
    return value


def check_inbox_config(kind: str, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` to an inbox's config ({key: value}, None removing the key) checked for an inbox of ``kind``.

    Only the keys these pages manage are accepted, and the widget's only for widget inboxes. Returns the
    changes with values normalised. Raises ``ValidationError`` naming the key and the problem.
    """
    allowed = COMMON_CONFIG_KEYS | (WIDGET_CONFIG_KEYS if kind == Inbox.Kind.WIDGET else frozenset())
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]} is not a setting of this inbox")
    checked = {}
    for key, value in changes.items():
        try:
            checked[key] = None if value is None else _CONFIG_CHECKS[key](value)
        except ValidationError as exc:
            raise ValidationError(f"{key}: {exc.messages[0]}") from None
    return checked


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("true or false")
    return value


def _brand_color(value: Any) -> str:
    value = value.strip().lower() if isinstance(value, str) else ""
    if not _HEX_COLOR.fullmatch(value):
        raise ValidationError("a colour as #rrggbb")
    return value


def _position(value: Any) -> str:
    if value not in POSITIONS:
        raise ValidationError(f"one of {', '.join(POSITIONS)}")
    return value


def _text(limit: int):
    def check(value: Any) -> str:
        if not isinstance(value, str) or len(value.strip()) > limit:
            raise ValidationError(f"text of at most {limit} characters")
        return value.strip()

    return check


def _avatar(value: Any) -> str:
    if not value:
        raise ValidationError("an https:// address (remove the key for none)")
    return check_avatar_url(value)


def _locale(value: Any) -> str:
    if not isinstance(value, str) or not _LOCALE.fullmatch(value):
        raise ValidationError("a language tag like de or pt-BR")
    return value


def _business_hours(value: Any) -> dict:
    check_business_hours(value)
    return value


def _sla(value: Any) -> dict:
    checked = check_sla(value)
    if not checked:
        raise ValidationError("give a target, or remove the key for none")
    return checked


def _attachments(value: Any) -> dict:
    if not isinstance(value, dict) or set(value) - {"max_bytes", "types"}:
        raise ValidationError("an object with max_bytes and types")
    max_bytes = value.get("max_bytes")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or not 1 <= max_bytes <= MAX_UPLOAD_MB * 2**20:
        raise ValidationError(f"max_bytes is a whole number of bytes, at most {MAX_UPLOAD_MB} MB")
    types = value.get("types")
    if not isinstance(types, list):
        raise ValidationError("types is a list of content types like image/png")
    return {"max_bytes": max_bytes, "types": list(dict.fromkeys(check_content_type(t) for t in types))}


def check_content_type(value: Any) -> str:
    """A content type like ``application/zip``, lower-cased. Raises ``ValidationError``."""
    value = value.strip().lower() if isinstance(value, str) else ""
    if not _CONTENT_TYPE.fullmatch(value):
        raise ValidationError(f"{value!r} is not a content type like application/zip")
    return value


def check_prechat_field_name(value: Any) -> str:
    """``name``, ``email``, ``phone`` or a custom attribute name (1 to 64 letters, digits, ``_ . -``)."""
    if not isinstance(value, str) or not (value in PRECHAT_BUILTIN or _ATTRIBUTE_NAME.fullmatch(value)):
        raise ValidationError(
            f"{value!r}: a field is name, email, phone or an attribute name (letters, digits, _ . -, up to 64)"
        )
    return value


def check_phone_region(value: Any) -> str:
    """An ISO country code phone numbers are read in (``NO``), upper-cased."""
    value = value.strip().upper() if isinstance(value, str) else ""
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"{value!r} is not a country code like NO, DE or US")
    return value


def _prechat(value: Any) -> dict:
    if not isinstance(value, dict) or set(value) - {"enabled", "phone_region", "fields"}:
        raise ValidationError("an object with enabled, phone_region and fields")
    checked: dict[str, Any] = {"enabled": _flag(value.get("enabled", False))}
    if value.get("phone_region"):
        checked["phone_region"] = check_phone_region(value["phone_region"])
    fields = value.get("fields") or []
    if not isinstance(fields, list) or len(fields) > PRECHAT_MAX_FIELDS:
        raise ValidationError(f"fields is a list of at most {PRECHAT_MAX_FIELDS}")
    names = [check_prechat_field_name(f.get("name") if isinstance(f, dict) else None) for f in fields]
    if len(set(names)) != len(names):
        raise ValidationError("each field appears once")
    checked["fields"] = []
    for field in fields:
        if set(field) - {"name", "label", "type", "required"}:
            raise ValidationError("a field has name, label, type and required")
        if field.get("type") not in (None, *PRECHAT_TYPES):
            raise ValidationError(f"a field's type is one of {', '.join(PRECHAT_TYPES)}")
        label = field.get("label")
        if label is not None and (not isinstance(label, str) or len(label) > PRECHAT_LABEL_MAX):
            raise ValidationError(f"a label is text of at most {PRECHAT_LABEL_MAX} characters")
        checked["fields"].append({**field, "required": _flag(field.get("required", False))})
    if checked["enabled"] and not checked["fields"]:
        raise ValidationError("a pre-chat form needs at least one field")
    return checked


_CONFIG_CHECKS = {
    "auto_assign": _flag,
    "sla": _sla,
    "brand_color": _brand_color,
    "position": _position,
    "title": _text(TITLE_MAX),
    "greeting": _text(GREETING_MAX),
    "avatar_url": _avatar,
    "locale": _locale,
    "csat": _flag,
    "require_identity_verification": _flag,
    "business_hours": _business_hours,
    "offline_without_agents": _flag,
    "attachments": _attachments,
    "prechat": _prechat,
}


# The kinds an admin can add here. WhatsApp and Voice inboxes cannot receive or send yet (their
# adapters are not built), so offering them would make an inbox that silently does nothing.
CREATABLE_KINDS = (Inbox.Kind.WIDGET, Inbox.Kind.EMAIL, Inbox.Kind.SMS)
# Inbox.address's column.
ADDRESS_MAX = 254


def check_inbox_kind(kind: Any) -> str:
    if kind not in CREATABLE_KINDS:
        labels = ", ".join(str(Inbox.Kind(k).label) for k in CREATABLE_KINDS)
        raise ValidationError(f"an inbox here is one of: {labels}")
    return kind


def check_inbox_address(kind: str, value: Any) -> str:
    """The channel address of an email or SMS inbox, normalised the way its adapter matches it.

    Email: a mailbox, lower-cased (identities and the mail channel compare addresses so). SMS: the
    Twilio number in E.164 (``+4721999999``), read by ``phonenumbers`` exactly as the SMS adapter reads
    a webhook's ``To`` (channels_adapters/sms/views.py), so a text to the number finds this inbox.
    Raises ``ValidationError`` saying what to type.
    """
    value = value.strip() if isinstance(value, str) else ""
    what = "an email address" if kind == Inbox.Kind.EMAIL else "a phone number"
    if not value:
        raise ValidationError(f"give {what}")
    if len(value) > ADDRESS_MAX:
        raise ValidationError(f"{what} of at most {ADDRESS_MAX} characters")
    if kind == Inbox.Kind.EMAIL:
        try:
            return normalize_identity("email", value)
        except ValidationError:
            raise ValidationError(f"{value!r} is not an email address like support@shop.example") from None
    if kind == Inbox.Kind.SMS:
        try:
            return normalize_identity("phone", value)
        except ValidationError:
            raise ValidationError(
                f"{value!r} is not a phone number in international form: + and the country code, like +4721999999"
            ) from None
    raise ValidationError("only email and SMS inboxes have an address")


def _check_address_free(kind: str, address: str, inbox_id: int | None = None) -> None:
    """Two inboxes of one kind never share an address: a text to the number, or a reply's sender,
    would otherwise belong to whichever came first. Case-insensitive, for an address typed in Django
    admin before it was normalised."""
    taken = Inbox.objects.filter(kind=kind, address__iexact=address)
    if inbox_id is not None:
        taken = taken.exclude(pk=inbox_id)
    other = taken.first()
    if other is not None:
        # Keyed by the field, so a form shows it beside the address.
        raise ValidationError({"address": f"the {other.get_kind_display()} inbox {other.name} has {address} already"})


def _lock_admins() -> None:
    """Hold the active admins' rows (in pk order, as ``do_save_agent`` takes them): only admins add or
    readdress inboxes, so two of them giving two inboxes one address at once are serialised here and
    the second is refused. (SQLite's IMMEDIATE transactions serialise writers anyway.)"""
    list(Agent.objects.select_for_update().filter(role=Agent.Role.ADMIN, is_active=True).order_by("pk"))


def do_create_inbox(
    admin: Agent,
    kind: str,
    name: str,
    *,
    allowed_origins: list[str] | None = None,
    address: str | None = None,
) -> Inbox:
    """A new inbox of ``kind`` (``CREATABLE_KINDS``): a website widget with ``allowed_origins``, or an
    email or SMS inbox at ``address`` (checked by ``check_inbox_address``, unique among inboxes of its
    kind). Members and the rest come after, on the inbox's page.

    It is the same row Django admin or seed_demo makes: an SMS inbox receives the texts Twilio posts
    for its number and sends from it. The channel's credentials (SMTP_URL, TWILIO_*) are the operator's,
    not checked here: the settings pages say when they are missing. Admins and supervisors see every
    inbox: their consoles reconnect to hear it. Raises ``PermissionDenied`` for a non-admin and
    ``ValidationError`` for a bad kind, name, origin or address, or an address another inbox has.
    """
    check_admin(admin)
    kind, name = check_inbox_kind(kind), check_inbox_name(name)
    origins: list[str] = []
    if kind == Inbox.Kind.WIDGET:
        if address:
            raise ValidationError("a website widget has no address")
        origins = check_allowed_origins(allowed_origins or [])
    else:
        if allowed_origins:
            raise ValidationError("only a website widget has allowed origins")
        address = check_inbox_address(kind, address)
    with transaction.atomic():
        if address:
            _lock_admins()
            _check_address_free(kind, address)
        inbox = Inbox.objects.create(name=name, kind=kind, address=address or "", allowed_origins=origins)
        _membership_changed(every_inbox_viewer_ids())
    return inbox


def do_create_widget_inbox(admin: Agent, name: str, allowed_origins: list[str]) -> Inbox:
    """A new website-widget inbox: ``do_create_inbox`` for a widget."""
    return do_create_inbox(admin, Inbox.Kind.WIDGET, name, allowed_origins=allowed_origins)


def do_save_inbox(
    admin: Agent,
    inbox_id: int,
    *,
    name: str,
    team_id: int | None,
    member_ids: Iterable[int],
    allowed_origins: list[str] | None = None,
    address: str | None = None,
    config: dict[str, Any] | None = None,
) -> Inbox:
    """Change an inbox: its name, team and members, its allowed origins (widgets; None leaves them), its
    address (email and SMS, checked and unique as in ``do_create_inbox``; None leaves it) and
    the config keys in ``config`` ({key: value}, None removing the key; other keys are kept as they are).

    Agents who join or leave get ``membership.changed``; those who leave are unassigned from the
    inbox's conversations they can no longer see. Raises ``PermissionDenied`` for a non-admin and
    ``ValidationError`` for a bad value, an unknown team or agent.
    """
    check_admin(admin)
    name = check_inbox_name(name)
    with transaction.atomic():
        if address is not None:
            _lock_admins()  # before the inbox's row: the order do_create_inbox and do_save_agent take
        inbox = Inbox.objects.select_for_update().get(pk=inbox_id)
        changes = check_inbox_config(inbox.kind, config or {})
        if allowed_origins is not None:
            if inbox.kind != Inbox.Kind.WIDGET:
                raise ValidationError("only a website widget has allowed origins")
            inbox.allowed_origins = check_allowed_origins(allowed_origins)
        if address is not None:
            if inbox.kind not in (Inbox.Kind.EMAIL, Inbox.Kind.SMS):
                raise ValidationError(f"a {inbox.get_kind_display()} inbox's address is not changed here")
            inbox.address = check_inbox_address(inbox.kind, address)
            _check_address_free(inbox.kind, inbox.address, inbox.pk)
        if team_id is not None and not Team.objects.filter(pk=team_id).exists():
            raise ValidationError("no such team")
        wanted = _existing(Agent, member_ids)
        merged = dict(inbox.config) if isinstance(inbox.config, dict) else {}
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        inbox.name, inbox.team_id, inbox.config = name, team_id, merged
        inbox.save(update_fields=["name", "team", "allowed_origins", "address", "config"])
        current = set(inbox.members.values_list("pk", flat=True))
        inbox.members.remove(*(current - wanted))
        inbox.members.add(*(wanted - current))
        _membership_changed(current ^ wanted)
        _unassign_unreachable(admin, current - wanted)
    return inbox


# --- agents -------------------------------------------------------------------------------------


def check_display_name(value: Any) -> str:
    value = " ".join(value.split()) if isinstance(value, str) else ""
    if len(value) > DISPLAY_NAME_MAX:
        raise ValidationError(f"a name is at most {DISPLAY_NAME_MAX} characters")
    return value


def check_role(value: Any) -> str:
    if value not in Agent.Role.values:
        raise ValidationError(f"role is one of {', '.join(Agent.Role.values)}")
    return value


def check_capacity(value: Any) -> int | None:
    """At most this many open conversations from automatic assignment; None for no limit."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ValidationError("a capacity is a whole number from 1 to 1000, or empty for no limit")
    return value


def do_create_agent(
    admin: Agent,
    *,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    role: str = Agent.Role.AGENT,
    inbox_ids: Iterable[int] = (),
    team_ids: Iterable[int] = (),
    max_open_conversations: int | None = None,
) -> Agent:
    """A new, active agent who signs in with ``username`` and the initial ``password`` (they can change
    it at /console/password/). Raises ``ValidationError`` for a taken username (whatever the case) or a
    password Django's validators refuse, ``PermissionDenied`` for a non-admin."""
    check_admin(admin)
    username = Agent.normalize_username(username.strip())
    if not username:
        raise ValidationError("an agent needs a username")
    if len(username) > 150:
        raise ValidationError("a username is at most 150 characters")
    Agent.username_validator(username)
    agent = Agent(
        username=username,
        display_name=check_display_name(display_name),
        email=Agent.objects.normalize_email(email.strip()),
        role=check_role(role),
        max_open_conversations=check_capacity(max_open_conversations),
    )
    password_validation.validate_password(password, agent)
    agent.set_password(password)
    try:
        with transaction.atomic():
            if Agent.objects.filter(username__iexact=username).exists():
                raise IntegrityError("username taken")
            agent.save()
            agent.inboxes.set(_existing(Inbox, inbox_ids))
            agent.teams.set(_existing(Team, team_ids))
    except IntegrityError:
        raise ValidationError(f"the username {username} is taken") from None
    return agent


def do_save_agent(
    admin: Agent,
    agent_id: int,
    *,
    display_name: str,
    email: str,
    role: str,
    is_active: bool,
    inbox_ids: Iterable[int],
    team_ids: Iterable[int],
    max_open_conversations: int | None,
    avatar_url: str,
    password: str | None = None,
    keep_session: str | None = None,
) -> Agent:
    """Change an agent; a ``password`` replaces theirs (their other sessions end, as with any password change).
    A new password or a deactivation revokes the agent's sessions (contact_center/actions/agent_security.py),
    all but ``keep_session`` (the public id of the admin's own session, when they change themselves).

    There is always an active admin left: demoting or deactivating the last one raises
    ``ValidationError``, and the check holds the admins' rows locked so two admins demoting each other at
    once cannot both succeed. An agent whose inboxes, role or activity changed gets
    ``membership.changed`` and is unassigned from the open conversations they can no longer see.
    """
    check_admin(admin)
    role, capacity = check_role(role), check_capacity(max_open_conversations)
    display_name, avatar_url = check_display_name(display_name), check_avatar_url(avatar_url)
    with transaction.atomic():
        # Admins' rows first, in one order, then the agent's: the same lock order for every caller.
        admins = list(Agent.objects.select_for_update().filter(role=Agent.Role.ADMIN, is_active=True).order_by("pk"))
        agent = Agent.objects.select_for_update().get(pk=agent_id)
        was_admin = agent.role == Agent.Role.ADMIN and agent.is_active
        if was_admin and (role != Agent.Role.ADMIN or not is_active) and len(admins) <= 1:
            whom = "you are" if agent.pk == admin.pk else f"{agent.public_name} is"
            raise ValidationError(f"{whom} the last active admin: make another agent an admin first")
        if password:
            password_validation.validate_password(password, agent)
            agent.set_password(password)
        before = (agent.role, agent.is_active)
        agent.display_name, agent.email = display_name, Agent.objects.normalize_email(email.strip())
        agent.role, agent.is_active, agent.max_open_conversations = role, is_active, capacity
        agent.avatar_url = avatar_url
        agent.save(
            update_fields=[
                "display_name",
                "email",
                "role",
                "is_active",
                "max_open_conversations",
                "avatar_url",
                "password",
            ]
        )
        current = set(agent.inboxes.values_list("pk", flat=True))
        wanted = _existing(Inbox, inbox_ids)
        agent.inboxes.remove(*(current - wanted))
        agent.inboxes.add(*(wanted - current))
        agent.teams.set(_existing(Team, team_ids))
        if current != wanted or before != (agent.role, agent.is_active):
            do_reconcile_access(admin, [agent.pk])
        if password or (before[1] and not agent.is_active):
            do_revoke_sessions(agent.pk, keep=keep_session if agent.is_active else None)
    return agent


# --- teams --------------------------------------------------------------------------------------


def check_team_name(name: Any) -> str:
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        raise ValidationError("a team needs a name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"a name is at most {NAME_MAX} characters")
    return name


def do_save_team(admin: Agent, name: str, member_ids: Iterable[int], team_id: int | None = None) -> Team:
    """Create (``team_id`` None) or rename a team and set its members. Teams do not decide who sees an
    inbox (inbox membership does), so nobody's console needs to reconnect. Raises ``ValidationError``
    for a name another team has, whatever the case (also when two admins save it at once)."""
    check_admin(admin)
    name = check_team_name(name)
    try:
        with transaction.atomic():
            taken = Team.objects.filter(name__iexact=name)
            if team_id is not None:
                taken = taken.exclude(pk=team_id)
            if taken.exists():
                raise IntegrityError("name taken")
            if team_id is None:
                team = Team.objects.create(name=name)
            else:
                team = Team.objects.select_for_update().get(pk=team_id)
                team.name = name
                team.save(update_fields=["name"])
            team.members.set(_existing(Agent, member_ids))
    except IntegrityError:
        raise ValidationError(f"there is a team called {name} already") from None
    return team


def do_delete_team(admin: Agent, team_id: int) -> None:
    """Delete a team. Its inboxes and conversations stay, without a team (the foreign keys SET_NULL)."""
    check_admin(admin)
    Team.objects.filter(pk=team_id).delete()


# --- shared -------------------------------------------------------------------------------------


def _existing(model, ids: Iterable[int]) -> set[int]:
    ids = set(ids)
    found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if found != ids:
        raise ValidationError(f"no such {model._meta.verbose_name}: {', '.join(str(i) for i in sorted(ids - found))}")
    return found


def do_reconcile_access(actor: Agent, agent_ids: Iterable[int]) -> None:
    """After what ``agent_ids`` may see changed (here, or in Django admin: an inbox's members, an
    agent's role or activity): their consoles reconnect with the new set, and they are unassigned from
    the open conversations they can no longer see. Inside the caller's transaction."""
    agent_ids = set(agent_ids)
    if agent_ids:
        _membership_changed(agent_ids)
        _unassign_unreachable(actor, agent_ids)


def every_inbox_viewer_ids() -> list[int]:
    """The active admins and supervisors: they see every inbox, a new one included."""
    return list(
        Agent.objects.filter(is_active=True, role__in=[Agent.Role.ADMIN, Agent.Role.SUPERVISOR]).values_list(
            "pk", flat=True
        )
    )


def _membership_changed(agent_ids: Iterable[int]) -> None:
    """Tell each agent's consoles that what they may see changed: their sockets reconnect."""
    send_event_on_commit(MEMBERSHIP_CHANGED, [recipients.agent_group(agent_id) for agent_id in sorted(set(agent_ids))])


def _unassign_unreachable(actor: Agent, agent_ids: Iterable[int]) -> None:
    """Unassign ``agent_ids`` from their unresolved conversations they can no longer see. The caller is
    inside a transaction; each conversation is locked and re-checked, so a reassignment meanwhile wins."""
    for agent in Agent.objects.filter(pk__in=set(agent_ids)):
        if agent.is_active and agent.sees_every_inbox:
            continue
        stale = Conversation.objects.filter(assignee=agent).exclude(status=Conversation.Status.RESOLVED)
        if agent.is_active:
            stale = stale.exclude(inbox__members=agent)
        reason = "deactivated" if not agent.is_active else "can no longer see this inbox"
        for conversation_id in stale.order_by("pk").values_list("pk", flat=True):
            conversation = lock_conversation(conversation_id)
            if conversation.assignee_id != agent.pk:
                continue
            conversation.assignee = None
            conversation.save(update_fields=["assignee"])
            append_activity(
                conversation,
                body=f"Unassigned from {agent.public_name} ({reason})",
                author=actor,
                payload={"event": "assignment", "from": agent.pk, "to": None},
            )
