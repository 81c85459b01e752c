"""Normalising identity values, so one address always maps to one customer."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

MAX_VISITOR_ID = 64


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
    raise ValidationError(f"unknown identity kind {kind!r}")
