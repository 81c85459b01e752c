"""Who an ``identify`` may join: only what the site signed, and only onto identities a signature made.

The attack this guards against (issue 10): a logged-in user of the host site identifies with their own
signed user id and the *victim's* email or phone, unsigned. Before the fix the visitor was moved onto the
victim's customer, so ``hello`` replayed the victim's history and the next message landed in it.

Every combination is tried: the victim's email or phone is held as a verified identity (a signed identify
made it), an unverified one (a channel saw a message from it), one an agent typed, or not at all; the
attacker sends it signed or unsigned, with no user id, their own signed one, or an unsigned one.
"""

from __future__ import annotations

import itertools

import pytest

from contact_center.actions.customer_profile import do_update_customer
from contact_center.actions.customers import check_identity_claims
from contact_center.actions.inbound import do_receive_inbound
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.lib.identity import claim_hash, user_hash
from contact_center.models import Customer, Identity, Inbox
from tests.actions.test_customers import bodies_seen_by, identify
from tests.conftest import visitor_envelope

ADDRESSES = {"email": "victim@shop.example", "phone": "+4791234567"}
HOLDERS = ["verified", "channel", "agent", "nobody"]
CLAIMS = ["signed", "unsigned"]
USER_IDS = ["none", "own signed", "unsigned"]


@pytest.fixture
def texts(db):
    return Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address="+4790000000")


def make_victim(website, texts, alice, kind: str, holder: str) -> int:
    """The victim's customer, with a secret conversation in the website inbox; returns its id."""
    do_receive_inbound(visitor_envelope(website, visitor="victim-laptop", body="My secret order", external_id="v1"))
    victim = Identity.objects.get(kind="visitor", value="victim-laptop").customer_id
    address = ADDRESSES[kind]
    if holder == "verified":
        identify(website, "victim-laptop", {kind: address, f"{kind}_hash": claim_hash(website.secret, kind, address)})
    elif holder == "channel":
        # A text or a mail from the address: Parley saw it, nobody vouched for who holds the browser.
        sender = Sender(kind=kind, value=address)
        inbound = do_receive_inbound(InboundEnvelope(inbox_id=texts.pk, external_id="c1", sender=sender, body="Hi"))
        # Make it the victim's: merge as an agent would after recognising them.
        Identity.objects.filter(kind=kind, value=address).update(customer_id=victim)
        assert inbound.entry.body == "Hi"
    elif holder == "agent":
        do_update_customer(alice, victim, {"identities": {"add": [{"kind": kind, "value": address}]}})
    if holder != "nobody":
        assert Identity.objects.get(kind=kind, value=address).customer_id == victim
    return victim


def attack_frame(website, kind: str, claim: str, user_id: str) -> dict:
    address = ADDRESSES[kind]
    frame = {kind: address}
    if claim == "signed":
        # The host site signs it: in this story the attacker's address on the site *is* the victim's,
        # e.g. the site let them set it without checking it.
        frame[f"{kind}_hash"] = claim_hash(website.secret, kind, address)
    if user_id == "own signed":
        frame.update(user_id="mallory", user_hash=user_hash(website.secret, "mallory"))
    elif user_id == "unsigned":
        frame["user_id"] = "victim"
    return frame


@pytest.mark.parametrize(
    ("kind", "holder", "claim", "user_id"), list(itertools.product(ADDRESSES, HOLDERS, CLAIMS, USER_IDS))
)
def test_only_a_signed_claim_on_a_verified_identity_joins(website, texts, alice, kind, holder, claim, user_id):
    victim = make_victim(website, texts, alice, kind, holder)
    before = set(Identity.objects.filter(customer_id=victim).values_list("kind", "value", "verified"))

    result = identify(website, "mallory-browser", attack_frame(website, kind, claim, user_id))

    joins = claim == "signed" and holder == "verified"
    assert (result.customer_id == victim) is joins
    assert (bodies_seen_by(website, "mallory-browser") == ["My secret order"]) is joins
    # The victim keeps every identity they had, as it was.
    after = set(Identity.objects.filter(customer_id=victim).values_list("kind", "value", "verified"))
    assert before <= after
    if not joins:
        assert not Identity.objects.filter(customer_id=victim, kind="visitor", value="mallory-browser").exists()
        mallory = Customer.objects.get(pk=result.customer_id)
        if claim == "unsigned":
            # The visitor's word, kept on their own customer for agents to read.
            assert mallory.attributes[kind] == ADDRESSES[kind]
            assert not mallory.identities.filter(kind=kind).exists()
        elif holder == "nobody":
            # A signed address nobody holds becomes the visitor's verified identity.
            assert mallory.identities.get(kind=kind).verified


def test_an_unsigned_user_id_never_joins_the_site_user_it_names(website):
    identify(website, "victim-laptop", {"user_id": "victim", "user_hash": user_hash(website.secret, "victim")})
    do_receive_inbound(visitor_envelope(website, visitor="victim-laptop", body="My secret order", external_id="v1"))

    result = identify(website, "mallory-browser", {"user_id": "victim", "name": "Victim"})

    assert result.customer_id != Identity.objects.get(value="victim-laptop").customer_id
    assert bodies_seen_by(website, "mallory-browser") == []


def test_a_signed_user_id_wins_over_a_signed_email_held_by_someone_else(website):
    identify(website, "pat-laptop", {"user_id": "42", "user_hash": user_hash(website.secret, "42")})
    identify(
        website,
        "sam-laptop",
        {"email": "sam@shop.example", "email_hash": claim_hash(website.secret, "email", "sam@shop.example")},
    )
    pat = Identity.objects.get(kind="site_user").customer_id

    result = identify(
        website,
        "pat-phone",
        {
            "user_id": "42",
            "user_hash": user_hash(website.secret, "42"),
            "email": "sam@shop.example",
            "email_hash": claim_hash(website.secret, "email", "sam@shop.example"),
        },
    )

    assert result.customer_id == pat
    assert Identity.objects.get(kind="email").customer_id != pat


def test_a_user_hash_cannot_be_replayed_as_an_email_hash(website):
    # A site that lets people choose their user id signs "victim@shop.example" for whoever picks it.
    forged = user_hash(website.secret, "victim@shop.example")
    with pytest.raises(Exception) as refused:
        check_identity_claims(website, {"email": "victim@shop.example", "email_hash": forged})
    assert refused.value.code == "unverified"


def test_user_ids_with_control_characters_are_refused(website):
    with pytest.raises(Exception) as refused:
        check_identity_claims(website, {"user_id": "email\nvictim@shop.example", "user_hash": "00"})
    assert refused.value.code == "invalid"


@pytest.mark.parametrize("kind", ["email", "phone"])
def test_a_hash_without_its_field_or_for_another_value_is_refused(website, kind):
    good = claim_hash(website.secret, kind, ADDRESSES[kind])
    with pytest.raises(Exception) as missing:
        check_identity_claims(website, {f"{kind}_hash": good})
    assert missing.value.code == "invalid"
    other = {"email": "other@shop.example", "phone": "+4798765432"}[kind]
    with pytest.raises(Exception) as mismatched:
        check_identity_claims(website, {kind: other, f"{kind}_hash": good})
    assert mismatched.value.code == "unverified"


def test_an_inbox_that_requires_verification_refuses_any_unsigned_identity_field(website):
    website.config = {"require_identity_verification": True}
    website.save()
    signed_id = {"user_id": "42", "user_hash": user_hash(website.secret, "42")}
    with pytest.raises(Exception) as refused:
        check_identity_claims(website, {**signed_id, "email": "pat@shop.example"})
    assert refused.value.code == "verification_required"
    claims = check_identity_claims(
        website,
        {
            **signed_id,
            "email": "pat@shop.example",
            "email_hash": claim_hash(website.secret, "email", "pat@shop.example"),
        },
    )
    assert claims.verified and claims.email_signed
