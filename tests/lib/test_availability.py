"""contact_center.lib.availability: business hours, open or closed, and the next opening."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from contact_center.lib.availability import check_business_hours, is_open, next_opening

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
OFFICE = {"timezone": "Europe/Berlin", "days": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}


def at(text: str, zone=BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def test_it_is_open_inside_a_range_and_closed_outside_it():
    hours = check_business_hours(OFFICE)
    # 2026-11-30 is a Monday.
    assert is_open(hours, at("2026-11-30 09:00"))
    assert is_open(hours, at("2026-11-30 16:59"))
    assert not is_open(hours, at("2026-11-30 17:00"))
    assert not is_open(hours, at("2026-11-30 08:59"))


def test_it_reads_the_moment_in_the_inbox_timezone():
    hours = check_business_hours(OFFICE)
    # 08:30 UTC is 09:30 in Berlin in winter, 10:30 in summer.
    assert is_open(hours, at("2026-11-30 08:30", UTC))
    assert not is_open(hours, at("2026-11-30 16:30", UTC))
    assert is_open(hours, at("2026-07-06 07:30", UTC))
    assert not is_open(hours, at("2026-07-06 15:30", UTC))


def test_it_is_closed_on_days_without_hours():
    hours = check_business_hours(OFFICE)
    assert not is_open(hours, at("2026-12-05 12:00"))  # Saturday
    assert not is_open(hours, at("2026-12-06 12:00"))  # Sunday


def test_it_keeps_a_range_across_midnight_open_into_the_next_day():
    hours = check_business_hours({"timezone": "UTC", "days": {"fri": [["22:00", "02:00"]]}})
    assert not is_open(hours, at("2026-12-04 21:59", UTC))
    assert is_open(hours, at("2026-12-04 23:30", UTC))
    assert is_open(hours, at("2026-12-05 01:59", UTC))  # Saturday, still Friday's shift
    assert not is_open(hours, at("2026-12-05 02:00", UTC))
    assert not is_open(hours, at("2026-12-05 23:00", UTC))


def test_it_ends_a_range_at_midnight_with_24_00():
    hours = check_business_hours({"timezone": "UTC", "days": {"mon": [["20:00", "24:00"]]}})
    assert is_open(hours, at("2026-11-30 23:59", UTC))
    assert not is_open(hours, at("2026-12-01 00:00", UTC))


def test_it_is_always_open_without_hours():
    assert check_business_hours(None) is None
    assert is_open(None, at("2026-12-06 03:00"))
    assert next_opening(None, at("2026-12-06 03:00")) is None


def test_it_finds_the_next_opening_after_a_weekend():
    hours = check_business_hours(OFFICE)
    opening = next_opening(hours, at("2026-12-04 18:00"))  # Friday evening
    assert opening == at("2026-12-07 09:00")
    assert opening.weekday() == 0


def test_it_finds_the_next_opening_later_the_same_day():
    hours = check_business_hours(
        {"timezone": "Europe/Berlin", "days": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}}
    )
    assert next_opening(hours, at("2026-11-30 12:30")) == at("2026-11-30 13:00")
    assert next_opening(hours, at("2026-11-30 07:00")) == at("2026-11-30 09:00")


def test_it_finds_the_next_opening_a_week_ahead_and_none_without_ranges():
    hours = check_business_hours({"timezone": "UTC", "days": {"mon": [["09:00", "10:00"]]}})
    assert next_opening(hours, at("2026-11-30 10:00", UTC)) == at("2026-12-07 09:00", UTC)
    assert next_opening(check_business_hours({"timezone": "UTC", "days": {}}), at("2026-11-30 10:00", UTC)) is None


@pytest.mark.parametrize(
    "config",
    [
        "9 to 5",
        {"timezone": "Mars/Olympus", "days": {}},
        {"timezone": "UTC", "days": {"monday": [["09:00", "17:00"]]}},
        {"timezone": "UTC", "days": {"mon": [["9:00", "17:00"]]}},
        {"timezone": "UTC", "days": {"mon": [["09:00", "25:00"]]}},
        {"timezone": "UTC", "days": {"mon": [["09:00"]]}},
        {"timezone": "UTC", "days": {"mon": [["09:00", "09:00"]]}},
        {"timezone": "UTC", "days": {"mon": [["24:00", "09:00"]]}},
        {"timezone": "UTC", "days": [["09:00", "17:00"]]},
    ],
)
def test_it_refuses_malformed_business_hours(config):
    with pytest.raises(ValidationError):
        check_business_hours(config)
