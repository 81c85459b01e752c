"""What agents record about a customer in the console's customer panel: name, company, account owner,
labels, attributes, and the addresses they can be reached at.

One call, ``do_update_customer``, takes any of these at once and applies all of them or none (one
transaction, the customer's row locked so two agents editing at once are serialised, the later one
winning field by field). Every console of the customer's inboxes hears ``customer.updated`` after the
commit and reloads the panel.

Addresses an agent adds are unverified identities: an agent typing an address vouches for nothing
(contact_center/actions/customers.py explains why identities are trusted). An address that already
belongs to another customer is refused: joining two customers is a merge, not an edit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from contact_center.access import access_customer
from contact_center.actions.customers import NAME_MAX, publish_customer
from contact_center.actions.labels import check_label_ids
from contact_center.models import Agent, Company, Customer, Identity, Label
from contact_center.models.company import NAME_MAX as COMPANY_NAME_MAX

FIELDS = ("name", "company", "account_owner", "labels", "attributes", "identities")
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_CHARS = 64
MAX_ATTRIBUTE_VALUE_CHARS = 500
# Agents' keys are identifiers a report can group by. A leading "_" is Parley's own (customers.py).
_ATTRIBUTE_KEY = re.compile(r"^[a-z0-9][a-z0-9_]*$")
# More at once is a client bug, not an edit.
MAX_IDENTITY_CHANGES = 20
EDITABLE_KINDS = (Identity.Kind.EMAIL, Identity.Kind.PHONE)
ANOTHER_CUSTOMERS = "that address belongs to another customer"


@dataclass(frozen=True)
class ProfileUpdate:
    """The customer as saved, and which of ``FIELDS`` actually changed (empty: nothing was written)."""

    customer: Customer
    changed: tuple[str, ...]


def do_update_customer(agent: Agent, customer_id: int, changes: Any) -> ProfileUpdate:
    """Apply ``changes`` to the customer, all or nothing, and publish ``customer.updated`` if anything changed.

    ``changes`` holds any of:

    - ``name``: text (whitespace collapsed, at most 200 characters; empty: "Customer #id");
    - ``company``: a company id, a name (an existing company whatever its case, else a new one), or
      ``None`` / ``""`` for none;
    - ``account_owner``: an active agent's id, or ``None``;
    - ``labels``: the whole set of label ids (``[]``: none);
    - ``attributes``: ``{"set": {key: value}, "remove": [key]}``; keys ``[a-z0-9_]``, at most 64
      characters; values text (at most 500 characters), numbers or true/false; at most 50 keys in all;
    - ``identities``: ``{"add": [{"kind": "email"|"phone", "value": ...}], "remove": [{"kind", "value"}]}``;
      emails are lower-cased, phone numbers become E.164 (with their country code); added ones are
      unverified; only unverified ones no conversation replies to can be removed.

    Raises ``AccessDenied`` when the agent sees none of the customer's conversations and
    ``ValidationError`` whose ``message_dict`` names the field at fault (``"__all__"`` for a bad shape).
    """
    if not isinstance(changes, dict):
        raise ValidationError("changes are an object of field: value")
    unknown = sorted(str(key) for key in changes if key not in FIELDS)
    if unknown:
        raise ValidationError(f"no such field: {', '.join(unknown)[:100]}")
    # What can be checked without the database is, before anything is locked.
    checked = {}
    for field in FIELDS:
        if field in changes:
            with _field(field):
                checked[field] = _CHECKS[field](changes[field])
    customer = access_customer(agent, customer_id)
    changed = []
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        for field, value in checked.items():
            with _field(field):
                if _APPLY[field](customer, value):
                    changed.append(field)
        row_fields = [field for field in changed if field in ("name", "company", "account_owner", "attributes")]
        if row_fields:
            customer.save(update_fields=row_fields)
        if changed:
            publish_customer(customer)
    return ProfileUpdate(customer=customer, changed=tuple(changed))


def account_owners() -> list[Agent]:
    """Who the account-owner menu offers: every active agent (the action's rule), by the name shown."""
    # Sorted here: the shown name falls back from display name to full name to username.
    return sorted(Agent.objects.filter(is_active=True), key=lambda agent: (agent.public_name.lower(), agent.pk))


class _field:
    """Re-raise a plain ValidationError as one about ``field``, so the console shows it next to it."""

    def __init__(self, field: str):
        self.field = field

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, traceback):
        if isinstance(exc, ValidationError) and not hasattr(exc, "error_dict"):
            raise ValidationError({self.field: exc.messages}) from None
        return False


# --- Checks: shape and syntax, no database -------------------------------------------------------------


def check_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("name is text")
    value = " ".join(value.split())
    if len(value) > NAME_MAX:
        raise ValidationError(f"name is at most {NAME_MAX} characters")
    return value


def _check_company(value: Any) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValidationError("company is a company id, a name, or null")
    value = " ".join(value.split())
    if len(value) > COMPANY_NAME_MAX:
        raise ValidationError(f"a company's name is at most {COMPANY_NAME_MAX} characters")
    return value or None


def _check_owner(value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValidationError("account_owner is an agent id, or null")


def _check_attributes(value: Any) -> tuple[dict[str, Any], set[str]]:
    if not isinstance(value, dict) or set(value) - {"set", "remove"}:
        raise ValidationError('attributes are {"set": {key: value}, "remove": [key]}')
    to_set, to_remove = value.get("set", {}), value.get("remove", [])
    if not isinstance(to_set, dict) or not isinstance(to_remove, list):
        raise ValidationError('attributes are {"set": {key: value}, "remove": [key]}')
    if len(to_set) > MAX_ATTRIBUTES or len(to_remove) > MAX_ATTRIBUTES:
        raise ValidationError(f"a customer holds at most {MAX_ATTRIBUTES} attributes")
    cleaned = {}
    for key, item in to_set.items():
        if not isinstance(key, str) or len(key) > MAX_ATTRIBUTE_KEY_CHARS or not _ATTRIBUTE_KEY.match(key):
            raise ValidationError(
                f"an attribute's key is 1 to {MAX_ATTRIBUTE_KEY_CHARS} lower-case letters, digits or _, "
                f"not starting with _ ({str(key)[:70]!r})"
            )
        cleaned[key] = _attribute_value(key, item)
    # Removing takes any key the customer holds, also one a site set in another style ("Plan.Type").
    if any(not isinstance(key, str) or not key or key.startswith("_") for key in to_remove):
        raise ValidationError("attributes to remove are a list of their keys")
    both = sorted(set(cleaned) & set(to_remove))
    if both:
        raise ValidationError(f"attribute {both[0]!r} is both set and removed")
    return cleaned, set(to_remove)


def _attribute_value(key: str, value: Any) -> str | int | float | bool:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValidationError(f"give attribute {key!r} a value, or remove it")
        if len(value) > MAX_ATTRIBUTE_VALUE_CHARS:
            raise ValidationError(f"attribute {key!r} is longer than {MAX_ATTRIBUTE_VALUE_CHARS} characters")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"attribute {key!r} is not a finite number")
    if isinstance(value, bool | int | float):
        return value
    raise ValidationError(f"attribute {key!r} is text, a number or true/false")


def _check_identities(value: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    if not isinstance(value, dict) or set(value) - {"add", "remove"}:
        raise ValidationError('identities are {"add": [{"kind", "value"}], "remove": [{"kind", "value"}]}')
    add, remove = value.get("add", []), value.get("remove", [])
    if not isinstance(add, list) or not isinstance(remove, list):
        raise ValidationError('identities are {"add": [{"kind", "value"}], "remove": [{"kind", "value"}]}')
    if len(add) + len(remove) > MAX_IDENTITY_CHANGES:
        raise ValidationError(f"at most {MAX_IDENTITY_CHANGES} address changes at once")
    return [check_address(item) for item in add], [check_address(item) for item in remove]


def check_address(item: Any) -> tuple[str, str]:
    """``{"kind": "email"|"phone", "value": text}`` as (kind, normalised value). Raises ValidationError."""
    if not isinstance(item, dict) or not isinstance(item.get("value"), str):
        raise ValidationError('an address is {"kind": "email" or "phone", "value": text}')
    kind, value = item.get("kind"), item["value"].strip()
    if kind == Identity.Kind.EMAIL:
        value = value.lower()
        try:
            validate_email(value)
        except ValidationError:
            raise ValidationError(f"not a valid email address: {value[:254]!r}") from None
        return kind, value
    if kind == Identity.Kind.PHONE:
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            raise ValidationError(
                f"not a phone number: {value[:40]!r} (write it with its country code, e.g. +47 21 00 00 00)"
            ) from None
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(f"not a valid phone number: {value[:40]!r}")
        return kind, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValidationError("an address is an email or a phone number")


# --- Applying: each returns whether it changed anything; the customer's row is locked -------------------


def _apply_name(customer: Customer, name: str) -> bool:
    if customer.name == name:
        return False
    customer.name = name
    return True


def _apply_company(customer: Customer, wanted: int | str | None) -> bool:
    if wanted is None:
        company = None
    elif isinstance(wanted, int):
        company = Company.objects.filter(pk=wanted).first()
        if company is None:
            raise ValidationError(f"no such company: {wanted}")
    else:
        company = _company_named(wanted)
    if customer.company_id == (company.pk if company else None):
        return False
    customer.company = company
    return True


def _company_named(name: str) -> Company:
    """The company of that name whatever its case, created if there is none."""
    found = Company.objects.filter(name__iexact=name).first()
    if found is not None:
        return found
    try:
        # A savepoint: another agent creating the same company right now fails only this, and theirs is used.
        with transaction.atomic():
            return Company.objects.create(name=name)
    except IntegrityError:
        return Company.objects.get(name__iexact=name)


def _apply_owner(customer: Customer, owner_id: int | None) -> bool:
    if owner_id is not None and not Agent.objects.filter(pk=owner_id, is_active=True).exists():
        raise ValidationError(f"no such active agent: {owner_id}")
    if customer.account_owner_id == owner_id:
        return False
    customer.account_owner_id = owner_id
    return True


def _apply_labels(customer: Customer, wanted: set[int]) -> bool:
    # Locked, as conversations' labels are (actions/labels.py): a label deleted meanwhile is gone here or after.
    found = set(Label.objects.select_for_update().filter(pk__in=wanted).order_by("pk").values_list("pk", flat=True))
    unknown = wanted - found
    if unknown:
        raise ValidationError(f"no such label: {', '.join(str(i) for i in sorted(unknown))}")
    held = set(customer.labels.values_list("pk", flat=True))
    if held == wanted:
        return False
    customer.labels.set(wanted)
    return True


def _apply_attributes(customer: Customer, value: tuple[dict[str, Any], set[str]]) -> bool:
    to_set, to_remove = value
    merged = {key: item for key, item in {**customer.attributes, **to_set}.items() if key not in to_remove}
    if sum(1 for key in merged if not key.startswith("_")) > MAX_ATTRIBUTES:
        raise ValidationError(f"a customer holds at most {MAX_ATTRIBUTES} attributes: remove some first")
    if merged == customer.attributes:
        return False
    customer.attributes = merged
    return True


def _apply_identities(customer: Customer, value: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> bool:
    add, remove = value
    changed = False
    for kind, address in remove:
        identity = Identity.objects.filter(customer=customer, kind=kind, value=address).first()
        if identity is None:
            raise ValidationError(f"{address} is not one of this customer's addresses")
        if identity.verified:
            raise ValidationError(f"{address} is verified (a site or channel vouched for it): it stays")
        if customer.conversations.filter(identity=identity).exists():
            raise ValidationError(f"{address} stays: they wrote from it, and replies go to it")
        identity.delete()
        changed = True
    for kind, address in add:
        held_by = Identity.objects.filter(kind=kind, value=address).values_list("customer_id", flat=True).first()
        if held_by == customer.pk:
            continue
        if held_by is not None:
            raise ValidationError(ANOTHER_CUSTOMERS)
        try:
            # A savepoint: an email from that address arriving right now may create it first.
            with transaction.atomic():
                Identity.objects.create(customer=customer, kind=kind, value=address, verified=False)
        except IntegrityError:
            raise ValidationError(ANOTHER_CUSTOMERS) from None
        changed = True
    return changed


_CHECKS = {
    "name": check_name,
    "company": _check_company,
    "account_owner": _check_owner,
    "labels": check_label_ids,
    "attributes": _check_attributes,
    "identities": _check_identities,
}
_APPLY = {
    "name": _apply_name,
    "company": _apply_company,
    "account_owner": _apply_owner,
    "labels": _apply_labels,
    "attributes": _apply_attributes,
    "identities": _apply_identities,
}
