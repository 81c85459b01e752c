"""Opaque keyset cursors: the sort key of the last row a page showed, as a URL-safe token.

Clients hand the token back unchanged; nothing in it is secret (it holds ids and times the client
already saw), it only has to be unambiguous and to fail cleanly when tampered with.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from django.core.exceptions import ValidationError

from contact_center.lib.schema import parse_json


def encode(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> list[Any]:
    """The list ``encode`` was given; ValidationError for anything else."""
    try:
        # The schema layer's parser: a forged cursor may nest, overflow or carry NUL like any input.
        key = parse_json(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise invalid() from None
    if not isinstance(key, list):
        raise invalid()
    return key


def invalid() -> ValidationError:
    return ValidationError("cursor is not one this list gave out")
