"""Web origins, compared the way browsers compare them: scheme, host and port, all three.

``https://shop.example`` and ``http://shop.example`` are different sites (a network attacker owns the
second), and so are two ports of one host. Default ports are made explicit before comparing, so
``https://shop.example`` and ``https://shop.example:443`` are the same origin.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}
# The embedded default is reached as 127.0.0.1 or localhost interchangeably; both are Parley.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# A browser's Origin is short; anything longer is not one, and is not worth parsing.
MAX_ORIGIN_LENGTH = 512
_HOST_NAME = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?")
_IPV6 = re.compile(r"[0-9a-f:.]+")


def parse_origin(value: object) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an http(s) origin, lower-cased, with its default port made explicit.

    ``None`` for anything that is not one: a missing header, ``null`` (sandboxed frames, ``file:``
    pages), another scheme, a path, query, fragment or user name, a port that is not a number from 1 to
    65535, odd characters in the host. Never raises. A single trailing ``/`` is tolerated (allowed
    origins were once stored with one).
    """
    if not isinstance(value, str) or not value or len(value) > MAX_ORIGIN_LENGTH:
        return None
    if value != value.strip() or re.search(r"[\s\\]", value):
        return None
    value = value.lower().removesuffix("/")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:  # "host:abc", "host:99999", "[::1"
        return None
    if parts.scheme not in DEFAULT_PORTS or parts.path or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    host = parts.hostname or ""
    if ":" in host:
        if not _IPV6.fullmatch(host):
            return None
    elif not _HOST_NAME.fullmatch(host):
        return None
    if port == 0 or parts.netloc.endswith(":"):
        return None
    return parts.scheme, host, port if port is not None else DEFAULT_PORTS[parts.scheme]


def format_origin(origin: tuple[str, str, int]) -> str:
    """``scheme://host[:port]`` as browsers send it: brackets around IPv6, no default port."""
    scheme, host, port = origin
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{netloc}" + ("" if DEFAULT_PORTS[scheme] == port else f":{port}")


def parley_origin() -> tuple[str, str, int]:
    """Parley's own origin, from ``PUBLIC_BASE_URL`` (checked at start-up to be an http(s) URL)."""
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS[scheme]


def is_parley_origin(origin: str | None) -> bool:
    """True when ``origin`` is Parley's own: scheme, host and port of ``PUBLIC_BASE_URL``.

    Loopback names stand for one another (``http://localhost:8000`` is Parley when ``PUBLIC_BASE_URL``
    is ``http://127.0.0.1:8000``), with the same scheme and port: development reaches the embedded
    default by either name, and nothing else can listen on a loopback port Parley holds.
    """
    theirs = parse_origin(origin)
    if theirs is None:
        return False
    own = parley_origin()
    if theirs == own:
        return True
    same_scheme_and_port = theirs[0] == own[0] and theirs[2] == own[2]
    return same_scheme_and_port and theirs[1] in LOOPBACK_HOSTS and own[1] in LOOPBACK_HOSTS
