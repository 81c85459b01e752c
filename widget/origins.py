"""Which origins may talk to an inbox's widget endpoints."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def own_origin() -> str:
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    return f"{parts.scheme}://{parts.netloc}"


def origin_allowed(origin: str | None, allowed_origins: list[str]) -> bool:
    """True for Parley's own origin (the widget frame lives there) and the inbox's allowed origins.

    A missing Origin header is refused: every browser sends one on WebSocket handshakes, so its
    absence means a non-browser client, which must then come through an allowed origin explicitly.
    """
    if not origin:
        return False
    origin = origin.rstrip("/").lower()
    if origin == own_origin().lower() or _same_host_loopback(origin):
        return True
    return origin in {o.rstrip("/").lower() for o in allowed_origins} or "*" in allowed_origins


def _same_host_loopback(origin: str) -> bool:
    # The embedded default is reached as 127.0.0.1 or localhost interchangeably; both are Parley.
    loopback = {"127.0.0.1", "localhost", "::1"}
    theirs, own = urlsplit(origin), urlsplit(settings.PUBLIC_BASE_URL)
    return (theirs.hostname or "") in loopback and (own.hostname or "") in loopback and theirs.port == own.port
