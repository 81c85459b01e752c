"""The visitor socket's identify, attributes and prechat frames (docs/protocols/widget-socket.md)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import override_settings

from contact_center.actions.replies import do_send_reply
from contact_center.lib.identity import claim_hash, user_hash
from contact_center.models import Customer, Identity
from tests.consumers import WAIT, deliver_outbox, hello, open_agent, open_visitor, receive_until, send, visitor_socket
from widget.tokens import issue_visitor_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("whole_rate_window")]


def signed(inbox, user_id, **claims) -> dict:
    return {"type": "identify", "user_id": user_id, "user_hash": user_hash(inbox.secret, user_id), **claims}


@database_sync_to_async
def configure(inbox, **config):
    inbox.config = {**inbox.config, **config}
    inbox.save(update_fields=["config"])


@database_sync_to_async
def customer_of(visitor: str) -> Customer:
    return Customer.objects.get(identities__kind="visitor", identities__value=visitor)


async def test_it_shows_a_verified_visitor_their_history_and_follows_their_replies(website, alice):
    laptop = await open_visitor(website, "laptop")
    await laptop.send_json_to(signed(website, "42"))
    await receive_until(laptop, "identified")
    ack = await send(laptop, "client-0001", "Where is my order?")
    await laptop.disconnect()

    phone = await open_visitor(website, "phone")
    await hello(phone)
    await phone.send_json_to(signed(website, "42"))
    assert await phone.receive_json_from(timeout=WAIT) == {"type": "identified", "verified": True}
    reset = await phone.receive_json_from(timeout=WAIT)
    assert reset == {"type": "reset", "conversation": ack["message"]["conversation"]}
    replayed, ready = await hello(phone)
    assert [m["body"] for m in replayed] == ["Where is my order?"]
    assert ready["conversation"] == ack["message"]["conversation"]

    await database_sync_to_async(do_send_reply)(alice, ack["message"]["conversation"], "On its way", client_id="r-001")
    await deliver_outbox()
    live, _ = await receive_until(phone, "message")
    assert live["message"]["body"] == "On its way"
    await phone.disconnect()


async def test_it_moves_the_visitors_other_tabs_along(website):
    laptop = await open_visitor(website, "laptop")
    await laptop.send_json_to(signed(website, "42"))
    await receive_until(laptop, "identified")
    ack = await send(laptop, "client-0001", "Earlier")
    await laptop.disconnect()

    first_tab = await open_visitor(website, "phone")
    second_tab = await open_visitor(website, "phone")
    await hello(first_tab)
    await hello(second_tab)
    await first_tab.send_json_to(signed(website, "42"))

    reset, _ = await receive_until(second_tab, "reset")
    assert reset["conversation"] == ack["message"]["conversation"]
    replayed, _ = await hello(second_tab)
    assert [m["body"] for m in replayed] == ["Earlier"]
    await first_tab.disconnect()
    await second_tab.disconnect()


async def test_it_refuses_a_bad_hash_and_keeps_the_socket_open(website):
    socket = await open_visitor(website, "vera")
    await socket.send_json_to({"type": "identify", "user_id": "42", "user_hash": "0" * 64})

    error = await socket.receive_json_from(timeout=WAIT)
    assert error == {
        "type": "error",
        "code": "unverified",
        "message": "user_hash does not match user_id",
        "for": "identify",
    }
    assert await database_sync_to_async(Identity.objects.count)() == 0
    await hello(socket)
    await socket.disconnect()


async def test_it_refuses_an_unverified_identify_when_the_inbox_requires_verification(website):
    await configure(website, require_identity_verification=True)
    socket = await open_visitor(website, "vera")
    await socket.send_json_to({"type": "identify", "email": "vera@example.com"})

    error = await socket.receive_json_from(timeout=WAIT)
    assert (error["code"], error["for"]) == ("verification_required", "identify")
    await socket.disconnect()


async def test_a_signed_user_id_with_someone_elses_unsigned_email_takes_over_nothing(website):
    # Pat's shop account vouches for Pat's address; Pat writes something private.
    pat = await open_visitor(website, "pat")
    await pat.send_json_to(
        signed(
            website, "42", email="pat@shop.example", email_hash=claim_hash(website.secret, "email", "pat@shop.example")
        )
    )
    await receive_until(pat, "identified")
    secret = await send(pat, "client-0001", "My secret order")
    await pat.disconnect()

    # Mallory is a user of the same shop: her own id and hash are genuine, Pat's address is not hers.
    mallory = await open_visitor(website, "mallory")
    await mallory.send_json_to(signed(website, "666", email="pat@shop.example"))
    assert await mallory.receive_json_from(timeout=WAIT) == {"type": "identified", "verified": True}
    replayed, ready = await hello(mallory)
    assert (replayed, ready["conversation"]) == ([], None)
    ack = await send(mallory, "client-0002", "Hello?")
    assert ack["message"]["conversation"] != secret["message"]["conversation"]
    await mallory.disconnect()


async def test_an_unverified_email_shows_nothing_of_its_owner(website):
    pat = await open_visitor(website, "pat")
    await pat.send_json_to(
        signed(
            website, "42", email="pat@shop.example", email_hash=claim_hash(website.secret, "email", "pat@shop.example")
        )
    )
    await receive_until(pat, "identified")
    await send(pat, "client-0001", "My secret order")
    await pat.disconnect()

    mallory = await open_visitor(website, "mallory")
    await mallory.send_json_to({"type": "identify", "email": "pat@shop.example"})
    assert await mallory.receive_json_from(timeout=WAIT) == {"type": "identified", "verified": False}
    replayed, ready = await hello(mallory)
    assert (replayed, ready["conversation"]) == ([], None)
    await mallory.disconnect()


async def test_it_answers_prechat_field_errors_by_field(website):
    await configure(
        website,
        prechat={"enabled": True, "fields": [{"name": "email", "label": "Email", "type": "email", "required": True}]},
    )
    socket = await open_visitor(website, "vera")

    await socket.send_json_to({"type": "prechat", "fields": {"email": "nope"}})
    error = await socket.receive_json_from(timeout=WAIT)
    assert (error["code"], error["for"], error["fields"]) == (
        "invalid",
        "prechat",
        {"email": "not a valid email address"},
    )

    await socket.send_json_to({"type": "prechat", "fields": {"email": "Vera@Example.com"}})
    assert await socket.receive_json_from(timeout=WAIT) == {"type": "prechat.saved"}
    await send(socket, "client-0001", "Hello")
    assert (await customer_of("vera")).attributes == {"email": "vera@example.com"}
    await socket.disconnect()


async def test_it_stores_attributes_and_tells_the_agents(website, alice):
    agent = await open_agent(alice)
    socket = await open_visitor(website, "vera")

    await socket.send_json_to({"type": "attributes", "attributes": {"plan": "pro", "seats": 3}})
    assert await socket.receive_json_from(timeout=WAIT) == {"type": "attributes.saved"}
    updated, _ = await receive_until(agent, "customer.updated")
    assert updated["customer"]["attributes"] == {"plan": "pro", "seats": 3}

    await socket.send_json_to({"type": "attributes", "attributes": {"_secret": 1}})
    error = await socket.receive_json_from(timeout=WAIT)
    assert (error["code"], error["for"]) == ("invalid", "attributes")
    await socket.disconnect()
    await agent.disconnect()


# --- Limits: what a stranger can repeat ---------------------------------------------------------------------


def limits(**changed):
    return override_settings(PARLEY_RATE_LIMITS={**settings.PARLEY_RATE_LIMITS, **changed})


async def open_from(inbox, visitor: str, ip: str):
    communicator = visitor_socket(issue_visitor_token(inbox.public_key, visitor))
    communicator.scope["client"] = (ip, 50000)
    connected, code = await communicator.connect(timeout=WAIT)
    assert connected, code
    return communicator


@pytest.mark.parametrize(
    ("kind", "frame"),
    [
        ("identify", {"type": "identify", "name": "Vera"}),
        ("attributes", {"type": "attributes", "attributes": {"plan": "pro"}}),
    ],
)
async def test_it_limits_what_a_visitor_says_about_themselves_and_keeps_the_socket_open(website, kind, frame):
    with limits(profile_per_visitor=(3, 60)):
        socket = await open_from(website, "vera", "203.0.113.9")
        for _ in range(3):
            await socket.send_json_to(frame)
            assert (await socket.receive_json_from(timeout=WAIT))["type"] != "error"

        await socket.send_json_to(frame)
        refused = await socket.receive_json_from(timeout=WAIT)

        assert (refused["type"], refused["code"], refused["for"]) == ("error", "rate_limited", kind)
        assert 1 <= refused["retry_after"] <= 60
        await hello(socket)  # still open, still answering
        await socket.disconnect()


async def test_it_limits_the_customers_one_address_can_create(website):
    with limits(customers_per_ip=(2, 3600)):
        answers = []
        for n in range(3):
            socket = await open_from(website, f"minted-{n}", "2001:db8::1" if n < 2 else "2001:db8::2")
            await socket.send_json_to({"type": "attributes", "attributes": {"n": n}})
            answers.append(await socket.receive_json_from(timeout=WAIT))
            await socket.disconnect()
        # Another address of the same IPv6 /64 is the same client.
        assert [answer.get("code") for answer in answers] == [None, None, "rate_limited"]
        assert await database_sync_to_async(Customer.objects.count)() == 2

        elsewhere = await open_from(website, "honest", "198.51.100.7")
        await elsewhere.send_json_to({"type": "attributes", "attributes": {"n": 9}})
        assert await elsewhere.receive_json_from(timeout=WAIT) == {"type": "attributes.saved"}
        await elsewhere.disconnect()


async def test_repeating_a_frame_that_changes_nothing_tells_no_console(website, alice):
    agent = await open_agent(alice)
    visitor = await open_visitor(website, "vera")
    for _ in range(5):
        await visitor.send_json_to({"type": "attributes", "attributes": {"plan": "pro"}})
        assert await visitor.receive_json_from(timeout=WAIT) == {"type": "attributes.saved"}

    updates, _ = await receive_until(agent, "customer.updated")
    assert updates["customer"]["attributes"] == {"plan": "pro"}
    assert await agent.receive_nothing(timeout=0.3)
    await visitor.disconnect()
    await agent.disconnect()
