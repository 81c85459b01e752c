"""Response-time targets: how long a customer may wait for an agent's answer in an inbox.

An inbox sets them in ``config["sla"]``: ``{"first_response_minutes": 60, "next_response_minutes":
240}`` (either may be left out: no target). The first applies until the conversation's first reply,
the next to every later wait. Time counts on the calendar, nights and weekends included, as in
Chatwoot; business-hours targets are not built.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError

# Longer than this is not a target but a typo: a month.
MAX_MINUTES = 31 * 24 * 60
KEYS = ("first_response_minutes", "next_response_minutes")


def check_sla(config: Any) -> dict[str, int] | None:
    """``config`` (an inbox's ``config.get("sla")``) checked; None when absent. Raises ValidationError."""
    if config is None:
        return None
    if not isinstance(config, dict) or set(config) - set(KEYS):
        raise ValidationError(f"sla is an object with {' and/or '.join(KEYS)}")
    for key, minutes in config.items():
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
            raise ValidationError(f"sla.{key} is a whole number of minutes from 1 to {MAX_MINUTES}")
    return dict(config)


def due_at(inbox_config: dict, waiting_since: datetime, *, first: bool) -> datetime | None:
    """When a wait that began at ``waiting_since`` misses the inbox's target; None without one.

    A malformed setting counts as no target: it must not stop messages from being stored (it is
    refused where it is set).
    """
    try:
        sla = check_sla(inbox_config.get("sla"))
    except ValidationError:
        return None
    minutes = (sla or {}).get("first_response_minutes" if first else "next_response_minutes")
    return waiting_since + timedelta(minutes=minutes) if minutes else None
