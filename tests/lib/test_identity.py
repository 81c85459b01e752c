"""lib.identity.normalize_identity: one address, one stored form, so one customer."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contact_center.lib.identity import MAX_VISITOR_ID, normalize_identity


@pytest.mark.parametrize("raw", ["vera@example.com", "Vera@Example.COM", "  vera@example.com\n", "\tVERA@EXAMPLE.COM "])
def test_it_lowercases_and_trims_email_addresses(raw):
    assert normalize_identity("email", raw) == "vera@example.com"


@pytest.mark.parametrize("raw", ["", "   ", "vera", "vera@", "@example.com", "vera@@example.com", "ve ra@example.com"])
def test_it_refuses_what_is_not_an_email_address(raw):
    with pytest.raises(ValidationError):
        normalize_identity("email", raw)


@pytest.mark.parametrize(
    "raw", ["+14155552671", "+1 415 555 2671", "+1 (415) 555-2671", "+1.415.555.2671", "  +1-415-555-2671 "]
)
def test_it_writes_phone_numbers_in_e164(raw):
    assert normalize_identity("phone", raw) == "+14155552671"


def test_it_keeps_the_country_of_an_international_number():
    assert normalize_identity("phone", "+44 20 7946 0958") == "+442079460958"
    assert normalize_identity("phone", "+33 1 23 45 67 89") == "+33123456789"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "4155552671",  # no country: a national number is ambiguous across inboxes
        "(415) 555-2671",
        "+1 12",  # too short to be a number anywhere
        "call me",
    ],
)
def test_it_refuses_what_is_not_an_international_phone_number(raw):
    with pytest.raises(ValidationError):
        normalize_identity("phone", raw)


@pytest.mark.parametrize("raw", ["vera", "a", "visitor_123-ABC", "x" * MAX_VISITOR_ID])
def test_it_keeps_visitor_ids_as_they_are(raw):
    assert normalize_identity("visitor", raw) == raw


def test_it_trims_a_visitor_id():
    assert normalize_identity("visitor", " vera ") == "vera"


@pytest.mark.parametrize("raw", ["", "x" * (MAX_VISITOR_ID + 1), "vera smith", "vera/../admin", "vera;", "vera\x00"])
def test_it_refuses_a_visitor_id_outside_letters_digits_dash_and_underscore(raw):
    with pytest.raises(ValidationError):
        normalize_identity("visitor", raw)


@pytest.mark.parametrize("kind", ["fax", "", "EMAIL"])
def test_it_refuses_an_unknown_kind(kind):
    with pytest.raises(ValidationError):
        normalize_identity(kind, "vera@example.com")
