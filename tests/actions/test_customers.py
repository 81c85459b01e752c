"""actions.customers: what a widget visitor says about themselves, and what the site vouches for."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contact_center.actions.customers import (
    MAX_ATTRIBUTES,
    check_attributes,
    check_identity_claims,
    check_prechat,
    do_identify_visitor,
    do_set_visitor_attributes,
    do_submit_prechat,
)
from contact_center.actions.inbound import do_receive_inbound
from contact_center.history import public_entries_after, visitor_conversation
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.lib.identity import claim_hash, user_hash
from contact_center.models import Conversation, Customer, Identity, Inbox, TimelineEntry
from tests.conftest import visitor_envelope

PRECHAT = {
    "enabled": True,
    "phone_region": "NO",
    "fields": [
        {"name": "name", "label": "Your name", "required": True},
        {"name": "email", "label": "Email", "required": True, "type": "email"},
        {"name": "phone", "label": "Phone", "type": "tel"},
        {"name": "order_number", "label": "Order number"},
    ],
}


def signed(inbox, user_id=None, **claims) -> dict:
    """An identify call whose user id, email and phone the site signed (name is never signed)."""
    data = dict(claims)
    if user_id is not None:
        data.update(user_id=user_id, user_hash=user_hash(inbox.secret, user_id))
    for kind in ("email", "phone"):
        if kind in claims:
            data[f"{kind}_hash"] = claim_hash(inbox.secret, kind, claims[kind])
    return data


def identify(inbox, visitor, data):
    return do_identify_visitor(inbox.pk, visitor, check_identity_claims(inbox, data))


def write(inbox, visitor, body, external_id):
    return do_receive_inbound(visitor_envelope(inbox, visitor=visitor, body=body, external_id=external_id)).entry


def bodies_seen_by(inbox, visitor) -> list[str]:
    """What the visitor's widget would replay on hello 0."""
    known = visitor_conversation(inbox.pk, visitor)
    if known is None or known[0] is None:
        return []
    return [item["body"] for item in public_entries_after(known[0], 0)]


@pytest.fixture
def mailbox(db):
    return Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@parley.example")


# --- Verified identify ------------------------------------------------------------------------------------


def test_it_attaches_a_verified_visitor_to_the_customer_of_that_site_user(website):
    # User 42 chatted last week from their laptop (visitor "laptop"); today they log in on their phone.
    identify(website, "laptop", signed(website, "42", email="Pat@Shop.example", name="Pat"))
    write(website, "laptop", "Where is my order?", "m1")

    result = identify(website, "phone", signed(website, "42"))

    laptop = Identity.objects.get(kind="visitor", value="laptop")
    assert result.customer_id == laptop.customer_id
    assert bodies_seen_by(website, "phone") == ["Where is my order?"]
    customer = Customer.objects.get(pk=result.customer_id)
    assert customer.name == "Pat"
    assert customer.identities.get(kind="email").value == "pat@shop.example"
    assert customer.identities.get(kind="email").verified
    assert customer.identities.get(kind="site_user").value == f"{website.pk}:42"


def test_it_merges_what_an_anonymous_visitor_wrote_into_the_user_they_log_in_as(website):
    identify(website, "laptop", signed(website, "42"))
    earlier = write(website, "laptop", "Earlier question", "m1")
    anonymous = write(website, "phone", "Asked before logging in", "m2")
    anonymous_customer = anonymous.customer_id

    result = identify(website, "phone", signed(website, "42"))

    assert result.customer_id == earlier.customer_id
    assert result.previous_customer_id == anonymous_customer
    assert not Customer.objects.filter(pk=anonymous_customer).exists()
    moved = TimelineEntry.objects.get(pk=anonymous.pk)
    assert moved.customer_id == earlier.customer_id
    # Whole conversations move: seqs are untouched, so no resume position changes meaning.
    assert (moved.seq, moved.public_seq) == (anonymous.seq, anonymous.public_seq)
    assert Conversation.objects.filter(customer_id=earlier.customer_id).count() == 2
    assert result.conversation_id == anonymous.conversation_id  # the newest conversation continues


def test_it_joins_the_customer_who_owns_the_verified_email(website):
    # Pat logged in on the laptop as user 42, and the shop vouched for the address then.
    identify(website, "laptop", signed(website, "42", email="pat@shop.example"))
    first = write(website, "laptop", "Where is my order?", "m1")

    # The shop's app identifies Pat by the signed address alone.
    result = identify(website, "phone", signed(website, email="PAT@shop.example"))

    assert result.customer_id == first.customer_id
    assert bodies_seen_by(website, "phone") == ["Where is my order?"]


def test_a_signed_email_does_not_join_one_that_mail_came_from(website, mailbox):
    # Mail from an address proves nothing about who holds a browser: the sender could be anyone.
    mail = do_receive_inbound(
        InboundEnvelope(
            inbox_id=mailbox.pk,
            external_id="<a@mail>",
            sender=Sender(kind="email", value="pat@shop.example"),
            body="My invoice",
        )
    ).entry

    result = identify(website, "vera", signed(website, "42", email="pat@shop.example"))

    assert result.customer_id != mail.customer_id
    held = Identity.objects.get(kind="email", value="pat@shop.example")
    assert (held.customer_id, held.verified) == (mail.customer_id, False)


def test_it_moves_a_visitor_of_another_user_alone_and_leaves_that_user_whole(website):
    # A shared computer: user 42 logs out, user 43 logs in with the same browser.
    identify(website, "kiosk", signed(website, "42"))
    first = write(website, "kiosk", "I am 42", "m1")

    result = identify(website, "kiosk", signed(website, "43"))

    assert result.customer_id != first.customer_id
    assert Customer.objects.get(pk=first.customer_id).conversations.count() == 1
    assert bodies_seen_by(website, "kiosk") == []


def test_it_scopes_site_user_ids_to_their_inbox(website, other_inbox):
    identify(website, "vera", signed(website, "42"))
    write(website, "vera", "Website's user 42", "m1")

    result = identify(other_inbox, "victor", signed(other_inbox, "42"))

    assert result.customer_id != Identity.objects.get(kind="visitor", value="vera").customer_id


def test_it_publishes_the_updated_customer_to_the_agents_of_the_inbox(
    website, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = identify(website, "vera", signed(website, "42", name="Pat"))

    assert published == [
        (
            {
                "type": "customer.updated",
                "customer": {"id": result.customer_id, "name": "Pat", "attributes": {}, "verified": True},
                "merged_from": None,
            },
            [f"inbox.{website.pk}"],
        )
    ]


def test_it_is_idempotent(website):
    first = identify(website, "vera", signed(website, "42", email="pat@shop.example"))
    again = identify(website, "vera", signed(website, "42", email="pat@shop.example"))

    assert again.customer_id == first.customer_id
    assert not again.moved
    assert Identity.objects.count() == 3


# --- Refusals ----------------------------------------------------------------------------------------------


def test_it_refuses_a_hash_that_does_not_match(website):
    with pytest.raises(ValidationError) as refused:
        check_identity_claims(website, {"user_id": "42", "user_hash": user_hash(website.secret, "43")})
    assert refused.value.code == "unverified"


def test_it_refuses_a_hash_signed_with_another_inbox_secret(website, other_inbox):
    with pytest.raises(ValidationError) as refused:
        check_identity_claims(website, signed(other_inbox, "42"))
    assert refused.value.code == "unverified"


def test_it_refuses_unverified_claims_when_the_inbox_requires_verification(website):
    website.config = {"require_identity_verification": True}
    website.save()
    with pytest.raises(ValidationError) as refused:
        check_identity_claims(website, {"email": "pat@shop.example"})
    assert refused.value.code == "verification_required"
    assert check_identity_claims(website, signed(website, "42")).verified


def test_it_refuses_a_malformed_email(website):
    with pytest.raises(ValidationError, match="not a valid email"):
        check_identity_claims(website, {"email": "not an address"})


# --- Unverified claims never reach anyone else ---------------------------------------------------------


def test_an_unverified_email_never_joins_the_customer_who_owns_it(website, mailbox):
    identify(website, "pat", signed(website, "42", email="pat@shop.example"))
    write(website, "pat", "My secret order", "m1")
    pat = Identity.objects.get(kind="email", value="pat@shop.example").customer_id

    result = identify(website, "mallory", {"email": "pat@shop.example", "name": "Pat"})

    assert result.customer_id != pat
    assert bodies_seen_by(website, "mallory") == []
    assert Identity.objects.filter(kind="email").count() == 1
    assert Customer.objects.get(pk=result.customer_id).attributes == {"email": "pat@shop.example"}


def test_an_unverified_email_is_no_identity_a_later_verified_user_could_be_merged_into(website):
    # Mallory types Pat's address before Pat ever wrote; Pat logs in later.
    identify(website, "mallory", {"email": "pat@shop.example"})
    write(website, "mallory", "Mallory's bait", "m1")

    identify(website, "pat", signed(website, "42", email="pat@shop.example"))

    assert bodies_seen_by(website, "pat") == []
    assert Identity.objects.get(kind="email").customer_id == Identity.objects.get(value="pat").customer_id


def test_an_unverified_name_does_not_replace_a_known_one(website):
    identify(website, "vera", signed(website, "42", name="Pat"))

    result = identify(website, "vera", {"name": "Someone else"})

    assert Customer.objects.get(pk=result.customer_id).name == "Pat"


# --- Pre-chat form -----------------------------------------------------------------------------------------


def test_it_stores_prechat_answers_on_the_visitors_own_customer(website):
    website.config = {"prechat": PRECHAT}
    website.save()
    answers = check_prechat(
        website, {"name": " Vera ", "email": "Vera@Example.com", "phone": "22 22 55 55", "order_number": "A-1"}
    )

    result = do_submit_prechat(website.pk, "vera", answers)

    customer = Customer.objects.get(pk=result.customer_id)
    assert customer.name == "Vera"
    assert customer.attributes == {"email": "vera@example.com", "phone": "+4722225555", "order_number": "A-1"}
    assert list(customer.identities.values_list("kind", flat=True)) == ["visitor"]


def test_it_names_every_bad_prechat_field(website):
    website.config = {"prechat": PRECHAT}
    website.save()
    with pytest.raises(ValidationError) as refused:
        check_prechat(website, {"email": "nope", "phone": "12", "shoe_size": "44"})
    assert set(refused.value.message_dict) == {"name", "email", "phone", "shoe_size"}
    assert refused.value.message_dict["name"] == ["this field is required"]


def test_it_refuses_prechat_answers_when_the_form_is_off(website):
    with pytest.raises(ValidationError, match="no pre-chat form"):
        check_prechat(website, {"name": "Vera"})


def test_a_prechat_email_of_another_customer_reveals_nothing(website):
    identify(website, "pat", signed(website, "42", email="pat@shop.example"))
    write(website, "pat", "My secret order", "m1")
    website.config = {"prechat": PRECHAT}
    website.save()

    do_submit_prechat(website.pk, "mallory", check_prechat(website, {"name": "Pat", "email": "pat@shop.example"}))
    write(website, "mallory", "Show me my orders", "m2")

    assert bodies_seen_by(website, "mallory") == ["Show me my orders"]


# --- Attributes --------------------------------------------------------------------------------------------


def test_it_merges_attributes_and_a_null_removes_one(website):
    do_set_visitor_attributes(website.pk, "vera", check_attributes({"plan": "pro", "seats": 3, "trial": True}))

    result = do_set_visitor_attributes(website.pk, "vera", check_attributes({"seats": 5, "trial": None}))

    assert Customer.objects.get(pk=result.customer_id).attributes == {"plan": "pro", "seats": 5}


@pytest.mark.parametrize(
    "attributes",
    [
        {"_internal": 1},
        {"": 1},
        {"k" * 65: 1},
        {"nested": {"a": 1}},
        {"list": [1]},
        {"long": "x" * 1001},
        {"nan": float("nan")},
        {f"k{i}": i for i in range(MAX_ATTRIBUTES + 1)},
        ["not", "an", "object"],
    ],
)
def test_it_refuses_attributes_out_of_bounds(attributes):
    with pytest.raises(ValidationError):
        check_attributes(attributes)


def test_it_bounds_the_attributes_a_customer_accumulates(website):
    do_set_visitor_attributes(website.pk, "vera", check_attributes({f"a{i}": i for i in range(MAX_ATTRIBUTES)}))

    with pytest.raises(ValidationError, match="at most"):
        do_set_visitor_attributes(website.pk, "vera", check_attributes({"one_more": 1}))
