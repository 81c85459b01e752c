"""Agents' sign-in security: login throttling, TOTP two-factor authentication with recovery codes, the
site-wide two-factor policy, and the list of signed-in sessions with their revocation.

Throttling counts failed sign-ins (a wrong password, a wrong code) per account and per client address
in fixed windows (contact_center/lib/ratelimit.py; ``PARLEY_RATE_LIMITS["login_failures_per_*"]``).
The count is checked before the password is, so a locked account cannot be guessed even with the right
password until the window ends; successful sign-ins are not counted.

Revoking a session deletes it from the session store (so its cookie no longer signs in), deletes its
``AgentSession`` row and, after commit, tells the agent's console sockets: a ``session.revoked`` event
to the agent's own group, and a marker in the cache that every console socket reads every
``SESSION_CHECK_SECONDS`` in case the channel layer dropped the event (it is at-most-once). A socket
of a revoked session closes with ``4403`` (contact_center/consumers.py, docs/protocols/console-socket.md).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module
from typing import Any

import pyotp
import segno
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from contact_center.actions.events import send_event_on_commit
from contact_center.lib import recipients
from contact_center.lib.ratelimit import blocked_for, hit
from contact_center.models import Agent, AgentSession, RecoveryCode, SecurityPolicy, TwoFactor

logger = logging.getLogger(__name__)

ISSUER = "Parley"
RECOVERY_CODE_COUNT = 10
# 10 characters of a 32-letter alphabet without look-alikes (0/o, 1/l): 50 random bits per code.
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
_RECOVERY_CODE = re.compile(r"[a-z0-9]{5}-?[a-z0-9]{5}")
_TOTP_CODE = re.compile(r"[0-9]{6}")
USERNAME_MAX = 150
PASSWORD_MAX = 4096  # Django's hashers take any length; a megabyte of "password" is only CPU for us

# Keys in an agent's Django session.
SESSION_INFO = "parley_session"  # {"id": public id, "key": session key it was stored under, "seen": epoch}
NEEDS_TWO_FACTOR = "parley_needs_two_factor"  # True: held at the set-up page (contact_center/session_tracking.py)
PENDING_SIGN_IN = "parley_pending_sign_in"  # between the password and the code: {"agent", "backend", "at", "next"}
PENDING_SECONDS = 300
# Last seen is written at most this often per session (it costs a session save and a row update).
SEEN_EVERY_SECONDS = 60
# Console sockets read their session's revocation marker this often: well within the 5-second bound.
SESSION_CHECK_SECONDS = 3
_REVOKED_PREFIX = "session-revoked"
_REVOKED_TTL = 24 * 3600
_POLICY_CACHE_KEY = "security-policy:require-two-factor"
_POLICY_CACHE_TTL = 300
SESSION_REVOKED = "session.revoked"


# --- throttling ---------------------------------------------------------------------------------


class SignInThrottled(Exception):
    """Too many failed sign-ins for this account or address; ``seconds`` until the window ends."""

    def __init__(self, seconds: int):
        super().__init__(throttle_message(seconds))
        self.seconds = seconds


def throttle_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def _account_key(username: str) -> str:
    # Hashed: any text may be typed as a username, and cache keys must stay short and plain.
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


def _rates() -> tuple[Any, Any]:
    limits = settings.PARLEY_RATE_LIMITS
    return limits.get("login_failures_per_account"), limits.get("login_failures_per_ip")


def check_sign_in_allowed(username: str, ip: str) -> None:
    """Raise ``SignInThrottled`` when ``username`` or ``ip`` used up its failed sign-ins in this window.
    Called before the password (or code) is checked."""
    per_account, per_ip = _rates()
    waits = [blocked_for("login:account", _account_key(username), per_account), blocked_for("login:ip", ip, per_ip)]
    waits = [wait for wait in waits if wait is not None]
    if waits:
        raise SignInThrottled(max(waits))


def do_record_sign_in_failure(username: str, ip: str) -> None:
    """Count one failed sign-in (a wrong password or code) against the account and the address."""
    per_account, per_ip = _rates()
    hit("login:account", _account_key(username), per_account)
    hit("login:ip", ip, per_ip)


# --- two-factor ---------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(agent: Agent, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=agent.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """``uri`` as an inline SVG QR code: rendered here, so the secret never leaves the server for an
    image service, and no script is needed on the page."""
    return segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your authenticator app")


def has_two_factor(agent_id: int) -> bool:
    return TwoFactor.objects.filter(agent_id=agent_id).exists()


def needs_two_factor_setup(agent_id: int) -> bool:
    """Whether the site requires two-factor and the agent has not set it up."""
    return two_factor_required() and not has_two_factor(agent_id)


def _normalized_code(value: Any) -> str:
    return "".join(value.split()).lower() if isinstance(value, str) and len(value) <= 64 else ""


def check_totp_code(value: Any) -> str:
    code = _normalized_code(value)
    if not _TOTP_CODE.fullmatch(code):
        raise ValidationError("Enter the 6-digit code from your authenticator app.")
    return code


def _matching_step(secret: str, code: str) -> int | None:
    """The time step whose code is ``code``: this one, or one either side for clocks a little off."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(timezone.now())
    for step in (now, now - 1, now + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def _hash_recovery_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").encode()).hexdigest()


def _new_recovery_codes(agent: Agent) -> list[str]:
    RecoveryCode.objects.filter(agent=agent).delete()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(RecoveryCode(agent=agent, code_hash=_hash_recovery_code(c)) for c in codes)
    return codes


def do_enable_two_factor(agent: Agent, secret: str, code: Any) -> list[str]:
    """Confirm ``secret`` with a current ``code`` from the agent's app and turn two-factor on. Returns the
    10 recovery codes, shown once (only their hashes are kept). Raises ``ValidationError`` for a wrong
    code, or when two-factor is on already."""
    code = check_totp_code(code)
    if not isinstance(secret, str) or not re.fullmatch(r"[A-Z2-7]{16,64}", secret):
        raise ValidationError("The set-up expired: scan the new QR code.")
    step = _matching_step(secret, code)
    if step is None:
        raise ValidationError("That code is not right. Check your phone's clock and try the newest code.")
    with transaction.atomic():
        Agent.objects.select_for_update().get(pk=agent.pk)
        if TwoFactor.objects.filter(agent=agent).exists():
            raise ValidationError("Two-factor authentication is on already.")
        TwoFactor.objects.create(agent=agent, secret=secret, confirmed_at=timezone.now(), last_step=step)
        return _new_recovery_codes(agent)


def do_verify_second_factor(agent_id: int, value: Any) -> bool:
    """True when ``value`` is a current TOTP code not used before, or an unused recovery code (which is
    then used up). A code of a time step already accepted is a replay: refused."""
    code = _normalized_code(value)
    with transaction.atomic():
        two_factor = TwoFactor.objects.select_for_update().filter(agent_id=agent_id).first()
        if two_factor is None:
            return False
        if _TOTP_CODE.fullmatch(code):
            step = _matching_step(two_factor.secret, code)
            if step is None or step <= two_factor.last_step:
                return False
            two_factor.last_step = step
            two_factor.save(update_fields=["last_step"])
            return True
        if _RECOVERY_CODE.fullmatch(code):
            used = RecoveryCode.objects.filter(
                agent_id=agent_id, code_hash=_hash_recovery_code(code), used_at__isnull=True
            ).update(used_at=timezone.now())
            return used == 1
    return False


class ReauthenticationFailed(ValidationError):
    """Neither the password nor a code was right: a failed sign-in, for the throttle."""


def _check_reauthentication(agent: Agent, password: Any, code: Any) -> None:
    """Raise ``ReauthenticationFailed`` unless ``password`` is the agent's or ``code`` a valid second
    factor: a session left open must not be enough to weaken the account."""
    if isinstance(password, str) and password and len(password) <= PASSWORD_MAX and agent.check_password(password):
        return
    if code and do_verify_second_factor(agent.pk, code):
        return
    raise ReauthenticationFailed("Enter your password or a current code to confirm it is you.")


def do_disable_two_factor(agent: Agent, *, password: Any = None, code: Any = None) -> None:
    """Turn two-factor off (the authenticator and every recovery code). Refused while the site requires
    it, and without the password or a current code."""
    if two_factor_required():
        raise ValidationError("Your admin requires two-factor authentication: it cannot be turned off.")
    _check_reauthentication(agent, password, code)
    with transaction.atomic():
        TwoFactor.objects.filter(agent=agent).delete()
        RecoveryCode.objects.filter(agent=agent).delete()


def do_regenerate_recovery_codes(agent: Agent, *, password: Any = None, code: Any = None) -> list[str]:
    """Replace every recovery code with 10 new ones (returned, shown once)."""
    if not has_two_factor(agent.pk):
        raise ValidationError("Turn on two-factor authentication first.")
    _check_reauthentication(agent, password, code)
    with transaction.atomic():
        return _new_recovery_codes(agent)


def remaining_recovery_codes(agent_id: int) -> int:
    return RecoveryCode.objects.filter(agent_id=agent_id, used_at__isnull=True).count()


def do_reset_two_factor(admin: Agent, agent_id: int) -> None:
    """An admin turns off another agent's two-factor (a lost phone): their sessions end too, so whoever
    holds one signs in again, and sets two-factor up again if the site requires it."""
    _check_admin(admin)
    with transaction.atomic():
        agent = Agent.objects.select_for_update().get(pk=agent_id)
        TwoFactor.objects.filter(agent=agent).delete()
        RecoveryCode.objects.filter(agent=agent).delete()
        do_revoke_sessions(agent.pk, keep=None)


# --- the site-wide policy -----------------------------------------------------------------------


def _check_admin(agent: Agent) -> None:
    if not (agent.is_active and agent.role == Agent.Role.ADMIN):
        raise PermissionDenied("admins only")


def two_factor_required() -> bool:
    """Whether admins require two-factor of every agent. Read on every console request, so cached; the
    database is the record (a cache that is down or lost the key reads the row)."""
    try:
        value = cache.get(_POLICY_CACHE_KEY)
    except Exception:
        value = None
    if value is None:
        value = SecurityPolicy.objects.filter(pk=1, require_two_factor=True).exists()
        try:
            cache.set(_POLICY_CACHE_KEY, value, _POLICY_CACHE_TTL)
        except Exception:
            logger.warning("cache unavailable; security policy read from the database", exc_info=True)
    return bool(value)


def do_set_require_two_factor(admin: Agent, required: bool) -> None:
    """Require two-factor of every agent, or stop requiring it. Agents without it are held at the set-up
    page from their next sign-in, or within ``SEEN_EVERY_SECONDS`` when signed in already
    (contact_center/session_tracking.py); nobody is signed out."""
    _check_admin(admin)
    if not isinstance(required, bool):
        raise ValidationError("required is true or false")
    with transaction.atomic():
        SecurityPolicy.objects.update_or_create(pk=1, defaults={"require_two_factor": required})
        # Now, and again after commit: a request reading the old row meanwhile may have cached it again.
        _forget_policy()
        transaction.on_commit(_forget_policy)


def _forget_policy() -> None:
    try:
        cache.delete(_POLICY_CACHE_KEY)
    except Exception:
        logger.warning("could not clear the cached security policy; it expires on its own", exc_info=True)


# --- sessions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionRow:
    public_id: str
    device: str
    ip: str | None
    created_at: Any
    last_seen_at: Any
    current: bool


def _clean_user_agent(value: Any) -> str:
    return value[:300] if isinstance(value, str) else ""


def do_register_session(agent_id: int, session_key: str, user_agent: str, ip: str) -> str:
    """Record a signed-in session (at sign-in, or the first request of one signed in before sessions
    were listed); returns its public id. Sessions not seen for longer than a session lives are pruned."""
    now = timezone.now()
    public_id = secrets.token_hex(16)
    with transaction.atomic():
        AgentSession.objects.filter(
            agent_id=agent_id, last_seen_at__lt=now - timedelta(seconds=settings.SESSION_COOKIE_AGE)
        ).delete()
        AgentSession.objects.filter(session_key=session_key).delete()
        AgentSession.objects.create(
            agent_id=agent_id,
            public_id=public_id,
            session_key=session_key,
            user_agent=_clean_user_agent(user_agent),
            ip=ip or None,
            created_at=now,
            last_seen_at=now,
        )
    return public_id


def do_rekey_session(public_id: str, session_key: str) -> bool:
    """Django gave the session a new key (a password change keeps the session under a new key): the row
    follows, so revoking it still deletes the right one. False when the row is gone (revoked)."""
    return AgentSession.objects.filter(public_id=public_id).update(session_key=session_key) == 1


def do_touch_session(public_id: str, user_agent: str, ip: str) -> bool:
    """Last seen, address and browser of a session, at most every ``SEEN_EVERY_SECONDS``. An update
    only: it never brings back the row of a session revoked meanwhile. False when the row is gone."""
    updated = AgentSession.objects.filter(public_id=public_id).update(
        last_seen_at=timezone.now(), ip=ip or None, user_agent=_clean_user_agent(user_agent)
    )
    return updated == 1


def do_end_session(public_id: Any) -> None:
    """The agent signed out of this session: forget its row."""
    if isinstance(public_id, str):
        AgentSession.objects.filter(public_id=public_id).delete()


def sessions_of(agent: Agent, current_public_id: str | None) -> list[SessionRow]:
    """The agent's signed-in sessions, most recently seen first, this one marked."""
    horizon = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    rows = AgentSession.objects.filter(agent=agent, last_seen_at__gte=horizon).order_by("-last_seen_at", "-pk")
    return [
        SessionRow(
            public_id=row.public_id,
            device=describe_user_agent(row.user_agent),
            ip=row.ip,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=row.public_id == current_public_id,
        )
        for row in rows
    ]


def do_revoke_session(agent: Agent, public_id: Any) -> None:
    """Sign out one of the agent's own sessions. Raises ``ValidationError`` for an id that is not one."""
    if not isinstance(public_id, str) or not re.fullmatch(r"[0-9a-f]{32}", public_id):
        raise ValidationError("no such session")
    with transaction.atomic():
        rows = list(AgentSession.objects.select_for_update().filter(agent=agent, public_id=public_id))
        if not rows:
            raise ValidationError("no such session")
        _revoke(agent.pk, rows, everywhere=False, keep=None)


def do_revoke_sessions(agent_id: int, *, keep: str | None) -> None:
    """Sign the agent out everywhere except the session ``keep`` (None: everywhere). For "sign out
    everywhere else", a password change and a deactivation. Every console socket of the agent closes,
    also those of sessions signed in before sessions were listed."""
    with transaction.atomic():
        rows = list(AgentSession.objects.select_for_update().filter(agent_id=agent_id).exclude(public_id=keep or ""))
        _revoke(agent_id, rows, everywhere=True, keep=keep)


def _revoke(agent_id: int, rows: list[AgentSession], *, everywhere: bool, keep: str | None) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for row in rows:
        store(session_key=row.session_key).delete()
    public_ids = [row.public_id for row in rows]
    AgentSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    transaction.on_commit(lambda: _mark_revoked(public_ids))
    event = {"type": SESSION_REVOKED, "sessions": public_ids, "everywhere": everywhere, "keep": keep}
    send_event_on_commit(event, [recipients.agent_group(agent_id)])


def _mark_revoked(public_ids: list[str]) -> None:
    try:
        cache.set_many({f"{_REVOKED_PREFIX}:{public_id}": 1 for public_id in public_ids}, _REVOKED_TTL)
    except Exception:
        logger.warning("could not mark revoked sessions; their sockets rely on the event", exc_info=True)


def session_revoked(public_id: str | None) -> bool:
    """Whether the session ``public_id`` was revoked: one cache read, for console sockets every
    ``SESSION_CHECK_SECONDS``. An unreachable cache answers no (the event may still close them)."""
    if not public_id:
        return False
    try:
        return cache.get(f"{_REVOKED_PREFIX}:{public_id}") is not None
    except Exception:
        return False


def revoked_sessions(public_ids: Iterable[str | None]) -> set[str]:
    """Which of the sessions ``public_ids`` were revoked: one cache read for them all, the check of every
    console socket of a process (contact_center/console_sockets.py). An unreachable cache answers none."""
    keys = {f"{_REVOKED_PREFIX}:{public_id}": public_id for public_id in public_ids if public_id}
    if not keys:
        return set()
    try:
        return {keys[key] for key in cache.get_many(list(keys))}
    except Exception:
        return set()


def revokes(event: dict, public_id: str | None) -> bool:
    """Whether a ``session.revoked`` event ends the socket of session ``public_id`` (None: a session
    signed in before sessions were listed, which only an "everywhere" revocation reaches)."""
    if event.get("everywhere"):
        return public_id is None or public_id != event.get("keep")
    return public_id is not None and public_id in (event.get("sessions") or ())


def session_public_id(session: Any) -> str | None:
    """The public id stored in a Django session (a socket's ``scope["session"]``), or None."""
    try:
        info = session.get(SESSION_INFO)
    except Exception:
        return None
    value = info.get("id") if isinstance(info, dict) else None
    return value if isinstance(value, str) else None


_BROWSERS = [("Edge", "Edg/"), ("Opera", "OPR/"), ("Firefox", "Firefox/"), ("Chrome", "Chrome/"), ("Safari", "Safari/")]
_SYSTEMS = [
    ("iOS", "iPhone"),
    ("iOS", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("macOS", "Mac OS X"),
    ("ChromeOS", "CrOS"),
    ("Linux", "Linux"),
]


def describe_user_agent(user_agent: str) -> str:
    """A label such as "Firefox on macOS" from a User-Agent header; "Unknown browser" when nothing is recognised."""
    browser = next((name for name, token in _BROWSERS if token in user_agent), None)
    system = next((name for name, token in _SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


def now_epoch() -> float:
    return time.time()
