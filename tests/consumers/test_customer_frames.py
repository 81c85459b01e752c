"""The console socket's ``customer`` frame: editing a customer's profile
(docs/protocols/console-socket.md, "customer")."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from contact_center.actions.labels import do_save_label
from contact_center.models import Customer
from tests.consumers import receive_until
from tests.consumers.test_conversation_actions import QUIET, console_of, row, vera_writes

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def profile(customer_id: int) -> dict:
    customer = Customer.objects.select_related("company", "account_owner").get(pk=customer_id)
    return {
        "company": customer.company.name if customer.company else None,
        "account_owner": customer.account_owner_id,
        "labels": sorted(customer.labels.values_list("name", flat=True)),
        "attributes": customer.attributes,
        "emails": sorted(customer.identities.filter(kind="email").values_list("value", flat=True)),
    }


async def vera_and_consoles(website, *agents):
    vera, conversation = await vera_writes(website)
    customer_id = (await row(conversation)).customer_id
    return vera, customer_id, [await console_of(agent) for agent in agents]


async def test_it_edits_the_profile_and_every_console_of_their_inboxes_hears_it(website, alice, charlie, bob):
    vera, customer_id, (alices, charlies, bobs) = await vera_and_consoles(website, alice, charlie, bob)
    vip = (await database_sync_to_async(do_save_label)(charlie, "vip", "purple")).pk

    await alices.send_json_to(
        {
            "type": "customer",
            "customer": customer_id,
            "company": "Acme Outdoor",
            "account_owner": alice.pk,
            "labels": [vip],
            "attributes": {"set": {"plan": "pro"}},
            "identities": {"add": [{"kind": "email", "value": "Vera@Acme.example"}]},
        }
    )

    for console in (alices, charlies):
        updated, _ = await receive_until(console, "customer.updated")
        assert updated["customer"]["id"] == customer_id
        assert updated["customer"]["attributes"] == {"plan": "pro"}
    assert await profile(customer_id) == {
        "company": "Acme Outdoor",
        "account_owner": alice.pk,
        "labels": ["vip"],
        "attributes": {"plan": "pro"},
        "emails": ["vera@acme.example"],
    }
    assert await bobs.receive_nothing(timeout=QUIET)
    # Agents' notes on a customer are not the customer's business.
    assert await vera.receive_nothing(timeout=QUIET)


async def test_a_change_to_what_is_already_set_is_answered_to_the_sender_alone(website, alice, charlie):
    _, customer_id, (alices, charlies) = await vera_and_consoles(website, alice, charlie)
    frame = {"type": "customer", "customer": customer_id, "account_owner": charlie.pk}
    await alices.send_json_to(frame)
    await receive_until(alices, "customer.updated")
    await receive_until(charlies, "customer.updated")

    await alices.send_json_to(frame)

    updated, _ = await receive_until(alices, "customer.updated")
    assert updated["customer"]["id"] == customer_id
    assert await charlies.receive_nothing(timeout=QUIET)


async def test_a_refused_field_is_named_in_the_error_and_nothing_is_applied(website, alice):
    _, customer_id, (console,) = await vera_and_consoles(website, alice)

    await console.send_json_to(
        {
            "type": "customer",
            "customer": customer_id,
            "company": "Acme",
            "attributes": {"set": {"Bad Key": "x"}},
        }
    )

    error = await console.receive_json_from()
    assert (error["type"], error["code"], error["customer"], error["field"]) == (
        "error",
        "invalid",
        customer_id,
        "attributes",
    )
    assert "lower-case letters" in error["message"]
    assert (await profile(customer_id))["company"] is None


async def test_an_unknown_field_is_invalid_without_a_field(website, alice):
    _, customer_id, (console,) = await vera_and_consoles(website, alice)

    await console.send_json_to({"type": "customer", "customer": customer_id, "colour": "red"})

    error = await console.receive_json_from()
    assert (error["code"], error["field"]) == ("invalid", None)
    assert "no such field: colour" in error["message"]


async def test_an_agent_who_cannot_see_the_customer_edits_nothing(website, bob):
    _, customer_id, (console,) = await vera_and_consoles(website, bob)

    await console.send_json_to({"type": "customer", "customer": customer_id, "company": "Spies Inc"})

    error = await console.receive_json_from()
    assert (error["code"], error["customer"]) == ("not_found", customer_id)
    assert (await profile(customer_id))["company"] is None
