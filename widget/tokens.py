"""Signed visitor tokens: the widget's proof of which visitor of which inbox it speaks for.

A token is issued once per browser and kept in the widget frame's storage. It names an inbox and an
opaque visitor id; it carries no customer id, so a leaked or forged-looking token can claim nothing
but its own visitor's history.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

_SALT = "parley.widget.visitor"


@dataclass(frozen=True)
class VisitorClaim:
    inbox_key: str
    visitor_id: str


def new_visitor_id() -> str:
    return secrets.token_urlsafe(18)


def issue_visitor_token(inbox_key: str, visitor_id: str) -> str:
    return signing.dumps({"i": inbox_key, "v": visitor_id}, salt=_SALT, compress=True)


def check_visitor_token(token: str) -> VisitorClaim:
    """The claim in ``token``; raises ``signing.BadSignature`` (or its ``SignatureExpired``)."""
    data = signing.loads(token, salt=_SALT, max_age=settings.PARLEY_VISITOR_TOKEN_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("i"), str) or not isinstance(data.get("v"), str):
        raise signing.BadSignature("malformed visitor token")
    return VisitorClaim(inbox_key=data["i"], visitor_id=data["v"])
