"""Normalising identity values, so one address always maps to one customer."""

from __future__ import annotations

import hashlib
import hmac

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_VISITOR_ID = 64
MAX_SITE_USER_ID = 200


def normalize_identity(kind: str, value: str) -> str:
    """The canonical form of ``value`` for ``kind``; raises ``ValidationError`` if it is not one.

    Email addresses are compared case-insensitively (every mainstream provider treats the local part
    so, and support desks that do not end up with duplicate customers). Phone numbers become E.164.
    """
    value = (value or "").strip()
    if kind == "email":
        value = value.lower()
        validate_email(value)
        return value
    if kind == "phone":
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(f"not a phone number in international form: {value!r}") from exc
        if not phonenumbers.is_possible_number(number):
            raise ValidationError(f"not a possible phone number: {value!r}")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == "visitor":
        if not value or len(value) > MAX_VISITOR_ID or not value.replace("-", "").replace("_", "").isalnum():
            raise ValidationError("visitor ids are 1-64 characters of letters, digits, - and _")
        return value
    if kind == "site_user":
        inbox_id, _, user_id = value.partition(":")
        if not inbox_id.isdigit() or not user_id:
            raise ValidationError("site user identities are <inbox id>:<user id>")
        return value
    raise ValidationError(f"unknown identity kind {kind!r}")


def site_user_value(inbox_id: int, user_id: str) -> str:
    """The identity value of a site's logged-in user: user ids mean something only to the site that
    issued them (two shops both have a user 42), so they are scoped to the inbox whose secret signs them."""
    user_id = (user_id or "").strip()
    if not user_id or len(user_id) > MAX_SITE_USER_ID:
        raise ValidationError(f"user_id is 1 to {MAX_SITE_USER_ID} characters")
    return f"{inbox_id}:{user_id}"


def user_hash(secret: str, user_id: str) -> str:
    """What a site sends as ``user_hash`` to vouch for ``user_id``: hex HMAC-SHA256 keyed by the inbox secret."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def claim_hash(secret: str, kind: str, value: str) -> str:
    """What a site sends to vouch for an identity field: ``user_hash`` for ``user_id``, else ``<kind>_hash``.

    ``user_hash`` signs the bare user id (the original, documented form). The other fields sign
    ``"<kind>\n<value>"``: user ids may not contain control characters, so no user id the site signs can
    double as a signed email or phone number (a site that lets people pick their user name would
    otherwise hand out a valid ``email_hash`` for anyone's address).
    """
    message = value if kind == "user_id" else f"{kind}\n{value}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def claim_hash_matches(secret: str, kind: str, value: str, claimed: str) -> bool:
    # Constant time: a comparison that stops at the first wrong byte lets a patient caller guess a hash.
    return hmac.compare_digest(claim_hash(secret, kind, value).encode(), claimed.strip().lower().encode())
