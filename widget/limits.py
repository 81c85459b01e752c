"""How much one visitor, and one address, may do through the widget: messages, uploads, conversations,
what they say about themselves.

The limits are settings (``PARLEY_RATE_LIMITS``, docs/configuration.md); the counting is
``contact_center.lib.ratelimit``. Every widget entry point that stores something asks here first, so
the socket and the HTTP endpoints share one budget per visitor and per address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

from contact_center.lib.ratelimit import hit_first_refusal

RATE_LIMITED_MESSAGE = "You are sending too fast. Please wait a moment and try again."


def message_limited(visitor_id: str, ip: str, *, new_conversation: bool) -> int | None:
    """None if the visitor may send a message now, else the seconds to wait. Counts the attempt."""
    limits = settings.PARLEY_RATE_LIMITS
    checks = [
        ("messages:visitor", visitor_id, limits["messages_per_visitor"]),
        ("messages:ip", _ip_key(ip), limits["messages_per_ip"]),
    ]
    if new_conversation:
        checks.append(("conversations:ip", _ip_key(ip), limits["conversations_per_ip"]))
    return _first_refusal(checks)


def upload_limited(visitor_id: str, ip: str) -> int | None:
    """None if the visitor may upload a file now, else the seconds to wait. Counts the attempt."""
    limits = settings.PARLEY_RATE_LIMITS
    return _first_refusal(
        [
            ("uploads:visitor", visitor_id, limits["uploads_per_visitor"]),
            ("uploads:ip", _ip_key(ip), limits["uploads_per_ip"]),
        ]
    )


def selfservice_limited(visitor_id: str, ip: str) -> int | None:
    """None if the visitor may look up, read or judge an article now, else the seconds to wait. Counts it."""
    limits = settings.PARLEY_RATE_LIMITS
    return _first_refusal(
        [
            ("selfservice:visitor", visitor_id, limits["selfservice_per_visitor"]),
            ("selfservice:ip", _ip_key(ip), limits["selfservice_per_ip"]),
        ]
    )


def profile_limited(visitor_id: str, ip: str, *, new_customer: bool) -> int | None:
    """None if the visitor may send an identify, attributes or prechat frame now, else the seconds to wait.

    ``new_customer``: the visitor has no customer yet, so this frame would create one; those are counted
    per address too, so a script minting visitor tokens cannot fill the customer list. Counts the attempt.
    """
    limits = settings.PARLEY_RATE_LIMITS
    checks = [
        ("profile:visitor", visitor_id, limits["profile_per_visitor"]),
        ("profile:ip", _ip_key(ip), limits["profile_per_ip"]),
    ]
    if new_customer:
        checks.append(("customers:ip", _ip_key(ip), limits["customers_per_ip"]))
    return _first_refusal(checks)


def rate_limited_frame(retry_after: int, **about) -> dict:
    """The ``rate_limited`` error frame; ``about`` names what it answers (``client_id=`` or ``for_=``)."""
    frame = {"type": "error", "code": "rate_limited", "message": RATE_LIMITED_MESSAGE, "retry_after": retry_after}
    return {**frame, **{key.rstrip("_"): value for key, value in about.items()}}


def _first_refusal(checks) -> int | None:
    # Stop at the first refusal: a visitor over their own limit does not use up their address's budget.
    # One cache round trip for them all (contact_center/lib/ratelimit.py).
    return hit_first_refusal(checks)


def _ip_key(ip: str) -> str:
    # An IPv6 client usually holds a whole /64 and can pick any address in it: count the network.
    if ":" in ip:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return ip
