"""do_update_customer: what agents record about a customer in the console's customer panel."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from contact_center.access import AccessDenied
from contact_center.actions.customer_profile import ANOTHER_CUSTOMERS, do_update_customer
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.labels import do_save_label
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Agent, Company, Customer, Identity, Inbox
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def vera(website) -> Customer:
    """Vera chatted on the website; Alice (and Charlie, an admin) can see her, Bob cannot."""
    return do_receive_inbound(visitor_envelope(website, visitor="vera")).entry.conversation.customer


@pytest.fixture
def victor(website) -> Customer:
    """Another customer, who wrote by email."""
    mailbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    envelope = InboundEnvelope(
        inbox_id=mailbox.pk,
        external_id="<v1@work.example>",
        sender=Sender(kind="email", value="victor@work.example"),
        body="Hello",
    )
    return do_receive_inbound(envelope).entry.conversation.customer


@pytest.fixture
def labels(charlie) -> dict[str, int]:
    return {name: do_save_label(charlie, name, color).pk for name, color in [("vip", "purple"), ("b2b", "teal")]}


@pytest.fixture
def update(published, django_capture_on_commit_callbacks):
    """``update(agent, customer, changes)``: the action, with what it publishes run on commit."""
    published.clear()

    def run(agent, customer, changes):
        with django_capture_on_commit_callbacks(execute=True):
            return do_update_customer(agent, customer.pk, changes)

    return run


def refused(agent, customer, changes) -> dict[str, list[str]]:
    """The field errors of a refused update."""
    with pytest.raises(ValidationError) as caught:
        do_update_customer(agent, customer.pk, changes)
    return caught.value.message_dict


def identities_of(customer: Customer) -> list[tuple[str, str, bool]]:
    return sorted(customer.identities.exclude(kind="visitor").values_list("kind", "value", "verified"))


# --- Each field --------------------------------------------------------------------------------------


def test_it_sets_every_field_at_once_and_every_console_of_theirs_hears_it_once(
    update, published, vera, alice, labels, website
):
    result = update(
        alice,
        vera,
        {
            "name": " Vera  Nowak ",
            "company": "Acme Outdoor",
            "account_owner": alice.pk,
            "labels": [labels["vip"]],
            "attributes": {"set": {"plan": "pro", "seats": 12, "trial": False}},
            "identities": {"add": [{"kind": "email", "value": "Vera@Acme.example"}]},
        },
    )

    vera.refresh_from_db()
    assert result.changed == ("name", "company", "account_owner", "labels", "attributes", "identities")
    assert vera.name == "Vera Nowak"
    assert vera.company.name == "Acme Outdoor"
    assert vera.account_owner == alice
    assert list(vera.labels.values_list("name", flat=True)) == ["vip"]
    assert vera.attributes == {"plan": "pro", "seats": 12, "trial": False}
    assert identities_of(vera) == [("email", "vera@acme.example", False)]
    [(event, groups)] = published
    assert event == {
        "type": "customer.updated",
        "customer": {"id": vera.pk, "name": "Vera Nowak", "attributes": vera.attributes, "verified": False},
        "merged_from": None,
    }
    assert groups == [f"inbox.{website.pk}"]


def test_it_finds_a_company_by_name_whatever_its_case_and_creates_one_only_when_there_is_none(
    update, vera, victor, charlie
):
    acme = Company.objects.create(name="Acme Outdoor", domain="Acme.Example")
    assert acme.domain == "acme.example"  # stored lower-case

    update(charlie, vera, {"company": "acme   outdoor"})
    update(charlie, victor, {"company": "Birch & Co"})

    vera.refresh_from_db()
    victor.refresh_from_db()
    assert vera.company == acme
    assert victor.company.name == "Birch & Co"
    assert Company.objects.count() == 2


def test_it_sets_a_company_by_id_and_clears_it_with_null_or_an_empty_name(update, vera, alice):
    acme = Company.objects.create(name="Acme")

    update(alice, vera, {"company": acme.pk})
    assert Customer.objects.get(pk=vera.pk).company == acme
    update(alice, vera, {"company": ""})
    assert Customer.objects.get(pk=vera.pk).company is None
    update(alice, vera, {"company": acme.pk})
    update(alice, vera, {"company": None})
    assert Customer.objects.get(pk=vera.pk).company is None


@pytest.mark.parametrize(
    "company, message",
    [(999_999, "no such company: 999999"), (["Acme"], "company is a company id"), ("x" * 201, "at most 200")],
)
def test_it_refuses_a_company_that_is_no_company(vera, alice, company, message):
    errors = refused(alice, vera, {"company": company})
    assert list(errors) == ["company"] and message in errors["company"][0]


def test_the_account_owner_is_any_active_agent_and_can_be_cleared(update, vera, alice, bob):
    # Bob cannot see Vera's conversations, but may own her account: ownership is not access.
    update(alice, vera, {"account_owner": bob.pk})
    assert Customer.objects.get(pk=vera.pk).account_owner == bob
    update(alice, vera, {"account_owner": None})
    assert Customer.objects.get(pk=vera.pk).account_owner is None


@pytest.mark.parametrize("owner", ["inactive", 999_999, "7", True])
def test_it_refuses_an_owner_who_is_not_an_active_agent(vera, alice, owner):
    if owner == "inactive":
        owner = Agent.objects.create_user("gone", password="x", is_active=False).pk
    errors = refused(alice, vera, {"account_owner": owner})
    assert list(errors) == ["account_owner"]


def test_labels_are_the_whole_set_and_the_same_labels_conversations_carry(update, vera, alice, labels):
    update(alice, vera, {"labels": [labels["vip"], labels["b2b"], labels["vip"]]})
    assert sorted(vera.labels.values_list("name", flat=True)) == ["b2b", "vip"]
    update(alice, vera, {"labels": [labels["b2b"]]})
    assert list(vera.labels.values_list("name", flat=True)) == ["b2b"]
    update(alice, vera, {"labels": []})
    assert not vera.labels.exists()


@pytest.mark.parametrize("wanted", [[999_999], "vip", [True], None])
def test_it_refuses_labels_that_are_not_a_list_of_known_ids(vera, alice, labels, wanted):
    errors = refused(alice, vera, {"labels": wanted})
    assert list(errors) == ["labels"]
    assert not vera.labels.exists()


def test_it_sets_and_removes_attributes_keeping_the_others(update, vera, alice):
    Customer.objects.filter(pk=vera.pk).update(attributes={"Plan.Type": "from the site", "city": "Leeds"})

    update(alice, vera, {"attributes": {"set": {"plan": "pro", "city": "York"}, "remove": ["Plan.Type"]}})

    assert Customer.objects.get(pk=vera.pk).attributes == {"city": "York", "plan": "pro"}


@pytest.mark.parametrize(
    "attributes, message",
    [
        ({"set": {"Plan": "pro"}}, "lower-case letters"),
        ({"set": {"plan-type": "pro"}}, "lower-case letters"),
        ({"set": {"_internal": "x"}}, "not starting with _"),
        ({"set": {"k" * 65: "x"}}, "1 to 64"),
        ({"set": {"note": "x" * 501}}, "longer than 500 characters"),
        ({"set": {"note": "   "}}, "give attribute 'note' a value"),
        ({"set": {"tags": ["a", "b"]}}, "text, a number or true/false"),
        ({"set": {"gone": None}}, "text, a number or true/false"),
        ({"set": {"ratio": float("nan")}}, "not a finite number"),
        ({"set": {"plan": "pro"}, "remove": ["plan"]}, "both set and removed"),
        ({"remove": ["_parley"]}, "list of their keys"),
        ({"plan": "pro"}, '{"set"'),
        ({"set": {f"k{n}": n for n in range(51)}}, "at most 50"),
    ],
)
def test_it_refuses_attributes_outside_the_rules(vera, alice, attributes, message):
    errors = refused(alice, vera, {"attributes": attributes})
    assert list(errors) == ["attributes"]
    assert message in errors["attributes"][0]


def test_a_customer_holds_at_most_fifty_attributes_in_all(update, vera, alice):
    update(alice, vera, {"attributes": {"set": {f"k{n}": n for n in range(50)}}})

    errors = refused(alice, vera, {"attributes": {"set": {"one_more": 1}}})

    assert "at most 50" in errors["attributes"][0]
    # Replacing one is fine: the count is of what the customer would hold.
    update(alice, vera, {"attributes": {"set": {"one_more": 1}, "remove": ["k0"]}})
    assert len(Customer.objects.get(pk=vera.pk).attributes) == 50


def test_it_adds_an_email_and_a_phone_normalised_and_unverified(update, vera, alice):
    update(
        alice,
        vera,
        {
            "identities": {
                "add": [
                    {"kind": "email", "value": "  Vera.Nowak@Home.Example "},
                    {"kind": "phone", "value": "+44 20 7946 0018"},
                ]
            }
        },
    )

    assert identities_of(vera) == [("email", "vera.nowak@home.example", False), ("phone", "+442079460018", False)]


@pytest.mark.parametrize(
    "address, message",
    [
        ({"kind": "email", "value": "not-an-address"}, "not a valid email address"),
        ({"kind": "phone", "value": "020 7946 0018"}, "country code"),
        ({"kind": "phone", "value": "+44 12"}, "not a valid phone number"),
        ({"kind": "visitor", "value": "abc"}, "an email or a phone number"),
        ({"kind": "email"}, "an address is"),
    ],
)
def test_it_refuses_an_address_that_is_not_an_email_or_a_phone_number(vera, alice, address, message):
    errors = refused(alice, vera, {"identities": {"add": [address]}})
    assert list(errors) == ["identities"] and message in errors["identities"][0]
    assert identities_of(vera) == []


def test_it_refuses_an_address_that_belongs_to_another_customer(vera, victor, alice):
    errors = refused(alice, vera, {"identities": {"add": [{"kind": "email", "value": "VICTOR@work.example"}]}})

    assert errors == {"identities": [ANOTHER_CUSTOMERS]}
    assert ANOTHER_CUSTOMERS == "that address belongs to another customer"
    assert identities_of(vera) == []
    assert identities_of(victor) == [("email", "victor@work.example", False)]


def test_adding_an_address_they_already_have_changes_nothing(update, published, vera, alice):
    update(alice, vera, {"identities": {"add": [{"kind": "email", "value": "vera@home.example"}]}})
    published.clear()

    result = update(alice, vera, {"identities": {"add": [{"kind": "email", "value": "Vera@home.example"}]}})

    assert result.changed == ()
    assert published == []


def test_it_removes_an_unverified_address_an_agent_added(update, vera, alice):
    update(alice, vera, {"identities": {"add": [{"kind": "phone", "value": "+442079460018"}]}})

    update(alice, vera, {"identities": {"remove": [{"kind": "phone", "value": "+44 20 7946 0018"}]}})

    assert identities_of(vera) == []


def test_it_keeps_verified_addresses_those_they_wrote_from_and_refuses_what_is_not_theirs(vera, victor, alice, charlie):
    Identity.objects.create(customer=vera, kind="email", value="vera@site.example", verified=True)

    def remove(agent, customer, value):
        return refused(agent, customer, {"identities": {"remove": [{"kind": "email", "value": value}]}})

    assert "is verified" in remove(alice, vera, "vera@site.example")["identities"][0]
    # Victor's email conversation replies to the address he wrote from.
    assert "they wrote from it" in remove(charlie, victor, "victor@work.example")["identities"][0]
    assert "not one of this customer's addresses" in remove(alice, vera, "victor@work.example")["identities"][0]
    assert identities_of(vera) == [("email", "vera@site.example", True)]
    assert identities_of(victor) == [("email", "victor@work.example", False)]


# --- Permission, atomicity, events --------------------------------------------------------------------


def test_an_agent_who_sees_none_of_their_conversations_changes_nothing(vera, bob):
    with pytest.raises(AccessDenied):
        do_update_customer(bob, vera.pk, {"company": "Spies Inc"})
    with pytest.raises(AccessDenied):
        do_update_customer(bob, 999_999, {"company": "Spies Inc"})
    assert not Company.objects.exists()


def test_an_admin_changes_any_customer(update, vera, charlie):
    update(charlie, vera, {"account_owner": charlie.pk})
    assert Customer.objects.get(pk=vera.pk).account_owner == charlie


def test_one_bad_field_applies_nothing_and_publishes_nothing(update, published, vera, victor, alice, labels):
    with pytest.raises(ValidationError) as caught:
        update(
            alice,
            vera,
            {
                "name": "Vera Nowak",
                "company": "Acme",
                "labels": [labels["vip"]],
                "attributes": {"set": {"plan": "pro"}},
                "identities": {
                    "add": [
                        {"kind": "phone", "value": "+442079460018"},
                        {"kind": "email", "value": "victor@work.example"},
                    ]
                },
            },
        )

    assert caught.value.message_dict == {"identities": [ANOTHER_CUSTOMERS]}
    vera.refresh_from_db()
    assert (vera.name, vera.company, vera.attributes) == ("", None, {})
    assert not vera.labels.exists()
    assert identities_of(vera) == []
    assert not Company.objects.exists()
    assert published == []


def test_the_same_values_again_write_and_publish_nothing(update, published, vera, alice, labels):
    changes = {"company": "Acme", "account_owner": alice.pk, "labels": [labels["b2b"]], "attributes": {"set": {"a": 1}}}
    update(alice, vera, changes)
    published.clear()

    result = update(alice, vera, {**changes, "company": "ACME", "attributes": {"set": {"a": 1}, "remove": ["zz"]}})

    assert result.changed == ()
    assert published == []


@pytest.mark.parametrize("changes", [{"colour": "red"}, ["name"], "name"])
def test_it_refuses_changes_that_are_not_an_object_of_known_fields(vera, alice, changes):
    with pytest.raises(ValidationError) as caught:
        do_update_customer(alice, vera.pk, changes)
    assert not hasattr(caught.value, "error_dict")  # about the whole frame, not one field


def test_deleting_a_company_or_the_owner_leaves_the_customer_without_one(update, vera, alice):
    owner = Agent.objects.create_user("leaver", password="x")
    update(alice, vera, {"company": "Acme", "account_owner": owner.pk})

    Company.objects.get(name="Acme").delete()
    owner.delete()

    vera.refresh_from_db()
    assert (vera.company, vera.account_owner) == (None, None)
