"""Business hours: is an inbox open at a given moment, and when does it open next. Pure: no ORM, no clock.

An inbox's ``config["business_hours"]`` reads::

    {"timezone": "Europe/Berlin", "days": {"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]]}}

Days not listed are closed. A range whose end is not after its start runs past midnight
(``["22:00", "02:00"]`` on Friday covers Friday 22:00 to Saturday 02:00); ``"24:00"`` ends a range at
midnight. Times are wall-clock times in ``timezone``, so opening hours follow daylight saving time.
An inbox without ``business_hours`` is always open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
MAX_RANGES_PER_DAY = 8


@dataclass(frozen=True)
class BusinessHours:
    """Checked business hours: a zone and, per weekday (0 = Monday), ranges of minutes since midnight.
    An end at or before its start means the range ends that many minutes into the next day."""

    zone: ZoneInfo
    days: tuple[tuple[tuple[int, int], ...], ...]


def check_business_hours(config: Any) -> BusinessHours | None:
    """``config`` (an inbox's ``config.get("business_hours")``) checked; None when it is absent.

    Raises ``ValidationError`` naming the first problem: an unknown zone or day, a malformed time.
    """
    if config is None:
        return None
    if not isinstance(config, dict):
        raise ValidationError("business_hours is an object with timezone and days")
    try:
        zone = ZoneInfo(str(config.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown timezone {config.get('timezone')!r}") from None
    days = config.get("days")
    if not isinstance(days, dict):
        raise ValidationError('business_hours.days is an object like {"mon": [["09:00", "17:00"]]}')
    unknown = set(days) - set(DAYS)
    if unknown:
        raise ValidationError(f"unknown day {sorted(unknown)[0]!r}: use {', '.join(DAYS)}")
    parsed = []
    for day in DAYS:
        ranges = days.get(day) or []
        if not isinstance(ranges, list) or len(ranges) > MAX_RANGES_PER_DAY:
            raise ValidationError(f"{day}: a list of at most {MAX_RANGES_PER_DAY} [start, end] pairs")
        day_ranges = []
        for pair in ranges:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValidationError(f"{day}: each range is a [start, end] pair")
            start, end = (_minutes(day, value) for value in pair)
            if start == 24 * 60:
                raise ValidationError(f"{day}: a range cannot start at 24:00")
            if start == end:
                raise ValidationError(f"{day}: the range {pair[0]}-{pair[1]} is empty")
            day_ranges.append((start, end))
        parsed.append(tuple(day_ranges))
    return BusinessHours(zone=zone, days=tuple(parsed))


def is_open(hours: BusinessHours | None, at: datetime) -> bool:
    """Whether ``at`` (an aware datetime) falls inside ``hours``; always True without hours."""
    if hours is None:
        return True
    local = at.astimezone(hours.zone)
    minute = local.hour * 60 + local.minute
    today, yesterday = local.weekday(), (local.weekday() - 1) % 7
    for start, end in hours.days[today]:
        if start <= minute < (end if end > start else 24 * 60):
            return True
    # The tail of yesterday's range that runs past midnight.
    return any(end <= start and minute < end for start, end in hours.days[yesterday])


def next_opening(hours: BusinessHours | None, at: datetime) -> datetime | None:
    """The next moment after ``at`` when ``hours`` open (in the hours' zone), or None if they never do
    (no ranges at all) or there are no hours. When ``at`` is inside opening hours, the answer is the
    next time they open after closing."""
    if hours is None:
        return None
    local = at.astimezone(hours.zone)
    for offset in range(8):
        day: date = local.date() + timedelta(days=offset)
        for start, _end in sorted(hours.days[day.weekday()]):
            # Fold 0 picks the first of two repeated wall-clock times; a time skipped by a DST jump
            # normalises forward, which is what a clock on the wall would show.
            candidate = datetime.combine(day, time(start // 60, start % 60), tzinfo=hours.zone)
            candidate = candidate.astimezone(hours.zone)
            if candidate > local and not is_open(hours, candidate - timedelta(minutes=1)):
                return candidate
    return None


def _minutes(day: str, value: Any) -> int:
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValidationError(f"{day}: {value!r} is not a time like 09:00")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)
