"""Strict parsers for settings that come from the environment.

Every value may also come from a file named by ``NAME_FILE`` (Docker and Kubernetes secrets). A value
that does not parse raises ``ImproperlyConfigured`` naming the variable, so a typo stops the process at
start-up instead of surfacing as odd behaviour later.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def get_str(name: str, default: str | None = None) -> str | None:
    """The raw value of ``name``, read from ``name`` or from the file ``name_FILE`` points at."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def get_bool(name: str, default: bool) -> bool:
    raw = get_str(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def get_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = get_str(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}")
    return value


def get_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    raw = get_str(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def get_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``; case-insensitive, returned as spelled in ``choices``."""
    raw = get_str(name)
    if raw is None or raw.strip() == "":
        return default
    for choice in choices:
        if raw.strip().lower() == choice.lower():
            return choice
    raise ImproperlyConfigured(f"{name}={raw!r} is not one of {', '.join(choices)}")


_RATE_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def get_rate(name: str, default: str) -> tuple[int, int] | None:
    """A rate limit as ``(count, seconds)``, written ``COUNT/UNIT`` (``20/minute``, ``5/hour``) or
    ``COUNT/NUNIT`` (``5/15minute``: a window of N units), or None for ``off``. Units: second, minute,
    hour, day (or s, m, h, d)."""
    raw = get_str(name)
    text = (default if raw is None or raw.strip() == "" else raw).strip().lower()
    if text == "off":
        return None
    count, _, unit = text.partition("/")
    digits = len(unit) - len(unit.lstrip("0123456789"))
    times, unit = (int(unit[:digits]) if digits else 1), unit[digits:]
    seconds = _RATE_UNITS.get(unit) or next((v for k, v in _RATE_UNITS.items() if k[0] == unit), None)
    if not count.strip().isdigit() or int(count) < 1 or seconds is None or times < 1:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate; write COUNT/UNIT or COUNT/NUNIT (20/minute, 5/hour, 5/15minute; "
            "units second, minute, hour, day) or off"
        )
    return int(count), seconds * times
