"""Which origins may talk to an inbox's widget endpoints (docs/protocols/widget-socket.md, section 2)."""

from __future__ import annotations

from contact_center.lib.origins import is_parley_origin, parse_origin


def origin_allowed(origin: str | None, allowed_origins: list[str]) -> bool:
    """True for Parley's own origin (the widget frame lives there) and the inbox's allowed origins.

    Scheme, host and port must all match (``http://shop.example`` is not ``https://shop.example``);
    ``"*"`` allows any well-formed http(s) origin. A missing, ``null`` or malformed Origin is refused,
    never an error: every browser sends a well-formed one on WebSocket handshakes and cross-origin
    requests, so anything else is a non-browser client, which must then send an allowed origin.
    """
    theirs = parse_origin(origin)
    if theirs is None:
        return False
    if is_parley_origin(origin) or "*" in allowed_origins:
        return True
    return any(parse_origin(allowed) == theirs for allowed in allowed_origins)
