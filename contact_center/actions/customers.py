"""What a widget visitor tells about themselves: who they are, the pre-chat form, custom attributes.

Trust is the point of this module. Only what the site signs can join a visitor to an existing customer,
and so show them that customer's history: ``user_id`` with ``user_hash``, ``email`` with
``email_hash``, ``phone`` with ``phone_hash`` (hex HMAC-SHA256 keyed by the inbox secret,
``lib.identity.claim_hash``). A signed email or phone joins only an identity that is itself verified
(vouched for by a site's signature before): an address an agent typed, or one a channel saw a message
from, proves nothing about who holds this browser. Everything unsigned (an identify field without its
hash, the pre-chat form, ``Parley.setAttributes``) is the visitor's own word: it lands on the visitor's
own customer as ``Customer.attributes`` (and its name) and never creates an ``Identity``. Identities are
unique and decide whose timeline a message joins, so an unverified email there would let anyone who
types an address claim that person's mail, or later be merged with them. docs/security.md has the
threat model.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from contact_center.actions.events import send_event_on_commit
from contact_center.lib import recipients
from contact_center.lib.identity import claim_hash_matches, normalize_identity, site_user_value
from contact_center.models import (
    Agent,
    Conversation,
    Customer,
    Identity,
    Inbox,
    SatisfactionRating,
    TimelineEntry,
)

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 200
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_CHARS = 64
MAX_ATTRIBUTE_VALUE_CHARS = 1000
MAX_PRECHAT_VALUE_CHARS = 500
# Keys are identifiers a console can show and a report can group by; a leading "_" is Parley's own.
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PRECHAT_TYPES = {"text", "email", "tel"}
# Two sockets of one visitor identifying at once race on the unique (kind, value) of a new identity.
_ATTEMPTS = 3


@dataclass(frozen=True)
class IdentityClaims:
    """What ``check_identity_claims`` accepted. ``user_id`` is kept only when signed; ``email`` and
    ``phone`` (normalised) come with whether the site signed them."""

    user_id: str = ""
    email: str = ""
    email_signed: bool = False
    phone: str = ""
    phone_signed: bool = False
    name: str = ""

    @property
    def verified(self) -> bool:
        """The site vouched for at least one identity field."""
        return bool(self.user_id) or self.email_signed or self.phone_signed


@dataclass(frozen=True)
class VisitorCustomer:
    """The customer a visitor speaks for after an action, and their latest conversation in the inbox.

    ``previous_customer_id`` is who they were before (None for a visitor who had not written yet): when
    the two differ, the visitor's sockets must follow the new customer's group and replay from scratch.
    """

    customer_id: int
    conversation_id: int | None
    previous_customer_id: int | None

    @property
    def moved(self) -> bool:
        return self.customer_id != self.previous_customer_id


def check_identity_claims(inbox: Inbox, data: dict[str, Any]) -> IdentityClaims:
    """Validate an identify call: ``user_id``, ``email``, ``phone``, ``name`` and the hashes
    ``user_hash``, ``email_hash``, ``phone_hash``, all optional.

    Each hash signs the field it is named for, exactly as sent (surrounding spaces aside). Raises
    ``ValidationError`` with code ``"invalid"`` for a malformed field or a hash without its field,
    ``"unverified"`` when a hash does not match (never downgraded to an unverified claim: the site meant to
    vouch and got it wrong), and ``"verification_required"`` when the inbox sets
    ``config["require_identity_verification"]`` and an identity field (user id, email, phone) comes
    without its hash. An unsigned ``user_id`` is dropped: it proves nothing and would only mislead agents.
    """
    user_id = data.get("user_id")
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)  # sites pass numeric ids; the hash is over their decimal form
    user_id = _optional_text(user_id, "user_id", 200)
    if any(ord(char) < 32 for char in user_id):
        # Keeps user ids apart from the "<kind>\n<value>" the other hashes sign (lib.identity.claim_hash).
        raise ValidationError("user_id may not contain control characters", code="invalid")
    email = _optional_text(data.get("email"), "email", 254)
    phone = _optional_text(data.get("phone"), "phone", 64)
    name = _optional_text(data.get("name"), "name", MAX_NAME_CHARS)
    signed = {
        kind: _signature(inbox, kind, value, data.get("user_hash" if kind == "user_id" else f"{kind}_hash"))
        for kind, value in (("user_id", user_id), ("email", email), ("phone", phone))
    }
    if inbox.config.get("require_identity_verification"):
        unsigned = [
            kind
            for kind, value in (("user_id", user_id), ("email", email), ("phone", phone))
            if value and not signed[kind]
        ]
        if unsigned or not any(signed.values()):
            raise ValidationError(
                "this widget accepts only verified identities: each of user_id, email and phone with its hash",
                code="verification_required",
            )
    if email:
        email = _email(email)
    if phone:
        region = (inbox.config.get("prechat") or {}).get("phone_region") or None
        try:
            phone = _phone(phone, region)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0], code="invalid") from exc
    return IdentityClaims(
        user_id=user_id if signed["user_id"] else "",
        email=email,
        email_signed=signed["email"],
        phone=phone,
        phone_signed=signed["phone"],
        name=name,
    )


def _signature(inbox: Inbox, kind: str, value: str, claimed: Any) -> bool:
    """Whether the site signed ``value``: False without a hash, True with the right one, else refused."""
    hash_name = "user_hash" if kind == "user_id" else f"{kind}_hash"
    if claimed in (None, ""):
        return False
    if not isinstance(claimed, str) or len(claimed) > 128:
        raise ValidationError(f"{hash_name} is a hex string", code="invalid")
    if not value:
        raise ValidationError(f"{hash_name} signs {kind}, which is missing", code="invalid")
    if not claim_hash_matches(inbox.secret, kind, value, claimed):
        raise ValidationError(f"{hash_name} does not match {kind}", code="unverified")
    return True


def do_identify_visitor(inbox_id: int, visitor_id: str, claims: IdentityClaims) -> VisitorCustomer:
    """Apply ``claims`` (from ``check_identity_claims``) to widget visitor ``visitor_id`` of the inbox.

    With a signed field the visitor joins, in this order, the customer who is the signed user id of this
    inbox, the one holding the signed email as a *verified* identity, or the one holding the signed phone
    as a verified identity; with none of those, their own anonymous customer becomes that person (or, if
    their customer is already someone else, a new customer does). An anonymous customer the visitor
    leaves is merged into the one they join (conversations, entries, ratings, attributes), so what they
    wrote before logging in stays theirs. A visitor whose customer is already someone (another user of
    the site, on a shared computer) moves alone; that customer keeps everything. A signed email or phone
    nobody holds becomes a verified identity of the customer; one an agent typed or a channel saw on
    another customer never causes a join and stays where it is.
    Unsigned fields (and all of them without any signature) land on the customer the visitor speaks for
    as claims only: name (if the customer has none), and the attributes ``email`` and ``phone``.
    Publishes ``customer.updated`` to the agents of the inbox.
    """
    visitor_id = normalize_identity("visitor", visitor_id)
    apply = _attach_verified if claims.verified else _note_unverified
    return _with_retries(lambda inbox: apply(inbox, visitor_id, claims), inbox_id)


def check_attributes(data: Any) -> dict[str, Any]:
    """Custom attributes from ``Parley.setAttributes``: at most 50 keys, values JSON scalars (None deletes).

    Raises ``ValidationError`` naming the first bad key.
    """
    if not isinstance(data, dict):
        raise ValidationError("attributes are an object of key: value")
    if len(data) > MAX_ATTRIBUTES:
        raise ValidationError(f"at most {MAX_ATTRIBUTES} attributes")
    cleaned = {}
    for key, value in data.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_ATTRIBUTE_KEY_CHARS or not _ATTRIBUTE_KEY.match(key):
            raise ValidationError(
                f"attribute names are 1 to {MAX_ATTRIBUTE_KEY_CHARS} letters, digits, _ . or -, "
                f"not starting with _ ({key!r})"
            )
        if isinstance(value, str):
            if len(value) > MAX_ATTRIBUTE_VALUE_CHARS:
                raise ValidationError(f"attribute {key!r} is longer than {MAX_ATTRIBUTE_VALUE_CHARS} characters")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValidationError(f"attribute {key!r} is not a finite number")
        elif value is not None and not isinstance(value, bool | int):
            raise ValidationError(f"attribute {key!r} must be text, a number, true/false or null")
        cleaned[key] = value
    return cleaned


def do_set_visitor_attributes(inbox_id: int, visitor_id: str, attributes: dict[str, Any]) -> VisitorCustomer:
    """Merge checked ``attributes`` into the visitor's own customer (created if they have none yet).

    A ``None`` value removes the key. Raises ``ValidationError`` if the customer would hold more than
    ``MAX_ATTRIBUTES`` keys. Publishes ``customer.updated``.
    """
    visitor_id = normalize_identity("visitor", visitor_id)

    def apply(inbox: Inbox) -> VisitorCustomer:
        customer, previous = _own_customer(visitor_id)
        before = _snapshot(customer)
        merged = {**customer.attributes, **attributes}
        merged = {key: value for key, value in merged.items() if value is not None}
        if sum(1 for key in merged if not key.startswith("_")) > MAX_ATTRIBUTES:
            raise ValidationError(f"a customer holds at most {MAX_ATTRIBUTES} attributes")
        customer.attributes = merged
        customer.save(update_fields=["attributes"])
        return _done(inbox, customer, previous, before=before)

    return _with_retries(apply, inbox_id)


def prechat_config(inbox: Inbox) -> dict[str, Any] | None:
    """The inbox's pre-chat form as the frame renders it, or None when it is off or misconfigured."""
    config = inbox.config.get("prechat")
    if not isinstance(config, dict) or not config.get("enabled"):
        return None
    fields = []
    for field in config.get("fields") or []:
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            continue
        name = field["name"]
        if name not in ("name", "email", "phone") and not _ATTRIBUTE_KEY.match(name):
            continue
        kind = field.get("type") or {"email": "email", "phone": "tel"}.get(name, "text")
        fields.append(
            {
                "name": name,
                "label": str(field.get("label") or name.replace("_", " ").capitalize()),
                "required": bool(field.get("required")),
                "type": kind if kind in _PRECHAT_TYPES else "text",
            }
        )
    return {"fields": fields} if fields else None


def check_prechat(inbox: Inbox, values: Any) -> dict[str, str]:
    """The pre-chat answers ``values`` ({field name: text}) cleaned against the inbox's form.

    Emails are lower-cased and checked; phone numbers become E.164 (numbers without a country code are
    read in ``config["prechat"]["phone_region"]``, e.g. "NO"). Empty optional fields are left out.
    Raises ``ValidationError`` whose ``message_dict`` maps each bad field to its error (``"__all__"``
    when the form is off or the answers are not an object).
    """
    config = prechat_config(inbox)
    if config is None:
        raise ValidationError("this widget has no pre-chat form")
    if not isinstance(values, dict):
        raise ValidationError("the answers are an object of field: text")
    region = (inbox.config.get("prechat") or {}).get("phone_region") or None
    known = {field["name"]: field for field in config["fields"]}
    errors: dict[str, str] = {}
    for name in values:
        if name not in known:
            errors[str(name)[:64]] = "this form has no such field"
    cleaned = {}
    for name, field in known.items():
        value = values.get(name, "")
        if not isinstance(value, str):
            errors[name] = "must be text"
            continue
        value = value.strip()
        if not value:
            if field["required"]:
                errors[name] = "this field is required"
            continue
        if len(value) > MAX_PRECHAT_VALUE_CHARS:
            errors[name] = f"at most {MAX_PRECHAT_VALUE_CHARS} characters"
            continue
        try:
            if field["type"] == "email":
                value = _email(value)
            elif field["type"] == "tel":
                value = _phone(value, region)
        except ValidationError as exc:
            errors[name] = exc.messages[0]
            continue
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def do_submit_prechat(inbox_id: int, visitor_id: str, answers: dict[str, str]) -> VisitorCustomer:
    """Store checked pre-chat ``answers`` on the visitor's own customer (created if needed).

    ``name`` becomes the customer's name; everything else, email and phone included, goes to
    ``attributes``: what a visitor types is never an identity (module docstring). Publishes
    ``customer.updated``. The form is answered whatever ``require_identity_verification`` says: it is
    data, not a claim to be anyone.
    """
    visitor_id = normalize_identity("visitor", visitor_id)

    def apply(inbox: Inbox) -> VisitorCustomer:
        customer, previous = _own_customer(visitor_id)
        before = _snapshot(customer)
        fields = ["attributes"]
        if answers.get("name"):
            customer.name = answers["name"][:MAX_NAME_CHARS]
            fields.append("name")
        customer.attributes = {**customer.attributes, **{k: v for k, v in answers.items() if k != "name"}}
        customer.save(update_fields=fields)
        return _done(inbox, customer, previous, before=before)

    return _with_retries(apply, inbox_id)


def _with_retries(apply, inbox_id: int) -> VisitorCustomer:
    for attempt in range(_ATTEMPTS):
        try:
            with transaction.atomic():
                inbox = Inbox.objects.get(pk=inbox_id, kind=Inbox.Kind.WIDGET)
                return apply(inbox)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
            logger.info("identifying a visitor of inbox %s lost a race; retrying", inbox_id)
    raise AssertionError("unreachable")


def _attach_verified(inbox: Inbox, visitor_id: str, claims: IdentityClaims) -> VisitorCustomer:
    visitor = Identity.objects.filter(kind=Identity.Kind.VISITOR, value=visitor_id).first()
    site_user = None
    if claims.user_id:
        site_user = Identity.objects.filter(
            kind=Identity.Kind.SITE_USER, value=site_user_value(inbox.pk, claims.user_id)
        ).first()
    held = {
        kind: Identity.objects.filter(kind=kind, value=value).first()
        for kind, value, signed in (
            (Identity.Kind.EMAIL, claims.email, claims.email_signed),
            (Identity.Kind.PHONE, claims.phone, claims.phone_signed),
        )
        if value and signed
    }
    previous_id = visitor.customer_id if visitor else None
    previous_anonymous = previous_id is not None and _anonymous(previous_id)

    # Only a signed field meeting an identity a signature made before may join: an address an agent typed
    # or a channel saw proves nothing about whoever holds this browser (docs/security.md).
    joinable = [identity for identity in (site_user, *held.values()) if identity is not None and identity.verified]
    if joinable:
        target_id = joinable[0].customer_id
    elif previous_anonymous:
        target_id = previous_id
    else:
        target_id = Customer.objects.create().pk
    # Lock in id order: a concurrent message of this visitor locks its customer too (inbound.py).
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in={target_id, previous_id} - {None})}
    customer = locked[target_id]
    before = _snapshot(customer)

    if claims.user_id and site_user is None:
        Identity.objects.create(
            customer=customer,
            kind=Identity.Kind.SITE_USER,
            value=site_user_value(inbox.pk, claims.user_id),
            verified=True,
        )
    for kind, value in ((Identity.Kind.EMAIL, claims.email), (Identity.Kind.PHONE, claims.phone)):
        if kind in held:
            _vouch(customer, kind, value, held[kind])

    merged_from = None
    if visitor is None:
        Identity.objects.create(customer=customer, kind=Identity.Kind.VISITOR, value=visitor_id)
    elif previous_id != customer.pk:
        if previous_anonymous:
            _merge(locked[previous_id], into=customer)
            merged_from = previous_id
        else:
            visitor.customer = customer
            visitor.save(update_fields=["customer"])
    if claims.name:
        customer.name = claims.name
    _note_claims(customer, claims)
    customer.save(update_fields=["name", "attributes", "last_seen_at"])
    return _done(inbox, customer, previous_id, merged_from=merged_from, before=before)


def _vouch(customer: Customer, kind: str, value: str, held: Identity | None) -> None:
    """The site signed ``value``: a verified identity of ``customer``, unless another customer holds it."""
    if held is None:
        Identity.objects.create(customer=customer, kind=kind, value=value, verified=True)
    elif held.customer_id == customer.pk:
        if not held.verified:
            held.verified = True
            held.save(update_fields=["verified"])
    else:
        # Held unverified by another customer (an agent typed it, or mail or a text came from it): that
        # customer's history is not this visitor's to see. Joining the two is an agent's call (merge).
        logger.info("signed %s of customer %s is held by customer %s; left there", kind, customer.pk, held.customer_id)


def _note_unverified(inbox: Inbox, visitor_id: str, claims: IdentityClaims) -> VisitorCustomer:
    customer, previous = _own_customer(visitor_id)
    before = _snapshot(customer)
    # A name the site vouched for (or an agent typed) outranks one the visitor typed.
    if claims.name and not customer.name:
        customer.name = claims.name
    if _note_claims(customer, claims) or claims.name:
        customer.save(update_fields=["name", "attributes"])
    return _done(inbox, customer, previous, before=before)


def _note_claims(customer: Customer, claims: IdentityClaims) -> bool:
    """Unsigned email and phone become the attributes ``email`` and ``phone`` of ``customer``: what
    agents see as the visitor's word, never an identity. True if an attribute changed."""
    noted = {
        kind: value
        for kind, value, signed in (
            ("email", claims.email, claims.email_signed),
            ("phone", claims.phone, claims.phone_signed),
        )
        if value and not signed and customer.attributes.get(kind) != value
    }
    if noted:
        customer.attributes = {**customer.attributes, **noted}
    return bool(noted)


def _own_customer(visitor_id: str) -> tuple[Customer, int | None]:
    """The visitor's customer, locked, created with their identity if they have none; and its previous id."""
    visitor = Identity.objects.filter(kind=Identity.Kind.VISITOR, value=visitor_id).first()
    if visitor is None:
        customer = Customer.objects.create()
        Identity.objects.create(customer=customer, kind=Identity.Kind.VISITOR, value=visitor_id)
        return customer, None
    return Customer.objects.select_for_update().get(pk=visitor.customer_id), visitor.customer_id


def _anonymous(customer_id: int) -> bool:
    # Anonymous: known only by widget visitor ids, so only whoever holds those visitors' tokens wrote there.
    return not Identity.objects.filter(customer_id=customer_id).exclude(kind=Identity.Kind.VISITOR).exists()


def _merge(source: Customer, into: Customer) -> None:
    """Move everything of ``source`` to ``into`` and delete it. Conversations move whole, keeping their
    seqs, so no entry is renumbered and every client's resume position stays meaningful."""
    Identity.objects.filter(customer=source).update(customer=into)
    Conversation.objects.filter(customer=source).update(customer=into)
    TimelineEntry.objects.filter(customer=source).update(customer=into)
    SatisfactionRating.objects.filter(customer=source).update(customer=into)
    into.attributes = {**source.attributes, **into.attributes}
    into.name = into.name or source.name
    if source.last_seen_at and (into.last_seen_at is None or source.last_seen_at > into.last_seen_at):
        into.last_seen_at = source.last_seen_at
    source.delete()


def _done(
    inbox: Inbox,
    customer: Customer,
    previous_id: int | None,
    *,
    before: tuple | None,
    merged_from: int | None = None,
) -> VisitorCustomer:
    """The result, and ``customer.updated`` to the agents unless nothing they see changed.

    ``before`` is ``_snapshot`` of the customer as it was locked. Widgets repeat identify and attributes
    on every page load, and a script can repeat them as fast as it likes: a frame that changes nothing
    tells no console (issue 10: 300 frames used to push 300 events to every console).
    """
    conversation_id = (
        Conversation.objects.filter(inbox=inbox, customer=customer)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    unchanged = previous_id == customer.pk and merged_from is None and _snapshot(customer) == before
    if not unchanged:
        publish_customer(customer, merged_from=merged_from, also_inbox_id=inbox.pk)
    return VisitorCustomer(customer_id=customer.pk, conversation_id=conversation_id, previous_customer_id=previous_id)


def _snapshot(customer: Customer) -> tuple:
    """What ``customer.updated`` shows of a customer, to tell whether an action changed any of it."""
    return (str(customer), dict(customer.attributes), customer.identities.filter(verified=True).exists())


def publish_customer(customer: Customer, *, merged_from: int | None = None, also_inbox_id: int | None = None) -> None:
    """Tell the agents of every inbox the customer has conversations in (and ``also_inbox_id``) what the
    customer looks like now: ``customer.updated`` after commit."""
    inbox_ids = set(customer.conversations.values_list("inbox_id", flat=True).distinct())
    if also_inbox_id is not None:
        inbox_ids.add(also_inbox_id)
    send_event_on_commit(
        customer_updated_event(customer, merged_from=merged_from),
        [recipients.inbox_group(inbox_id) for inbox_id in sorted(inbox_ids)],
    )


def customer_updated_event(customer: Customer, *, merged_from: int | None = None) -> dict[str, Any]:
    """The ``customer.updated`` event (docs/protocols/console-socket.md): who the customer is now."""
    return {
        "type": "customer.updated",
        "customer": {
            "id": customer.pk,
            "name": str(customer),
            "attributes": customer.attributes,
            "verified": customer.identities.filter(verified=True).exists(),
        },
        "merged_from": merged_from,
    }


NAME_MAX = 200


def do_rename_customer(agent: Agent, customer_id: int, name) -> Customer:
    """An agent corrects the customer's name (blank: back to "Customer #id"). Publishes ``customer.updated``.

    Raises ``AccessDenied`` when the agent sees none of the customer's conversations and
    ``ValidationError`` for a name that is not text or is too long. The name alone of
    ``customer_profile.do_update_customer``, which imports this module (hence the import here).
    """
    from contact_center.actions.customer_profile import do_update_customer

    return do_update_customer(agent, customer_id, {"name": name}).customer


def _optional_text(value: Any, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{name} is text", code="invalid")
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(f"{name} is at most {limit} characters", code="invalid")
    return value


def _email(value: str) -> str:
    try:
        return normalize_identity("email", value)
    except ValidationError as exc:
        raise ValidationError("not a valid email address", code="invalid") from exc


def _phone(value: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("not a phone number (include the country code, e.g. +47)") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
