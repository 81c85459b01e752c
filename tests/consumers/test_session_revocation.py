"""A revoked session's console sockets close with 4403 (docs/protocols/console-socket.md, "Refusals and
close codes"): at once on the ``session.revoked`` event, and from the socket's own check of its session
when the channel layer dropped that event. Sockets of the agent's other sessions stay open."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from contact_center.actions import agent_security, events
from contact_center.consumers import CLOSE_SESSION_REVOKED, CLOSE_UNAUTHENTICATED
from tests.consumers import WAIT, close_code, console_socket

pytestmark = pytest.mark.django_db(transaction=True)

QUIET = 0.3


def _browser(agent) -> tuple[str, str]:
    """Sign in through the sign-in page; the cookie header and the session's public id."""
    client = Client()
    response = client.post("/console/login/", {"username": agent.username, "password": f"{agent.username}-password"})
    assert response.status_code == 302
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return cookie, client.session[agent_security.SESSION_INFO]["id"]


browser = database_sync_to_async(_browser)


async def open_socket(cookie: str):
    socket = console_socket(cookie)
    connected, code = await socket.connect(timeout=WAIT)
    assert connected, code
    return socket


async def closed_with(socket) -> int:
    while True:
        message = await socket.receive_output(timeout=WAIT)
        if message["type"] == "websocket.close":
            return message["code"]


@pytest.fixture
def only_the_event(monkeypatch):
    """Sockets check their session too rarely to matter: what closes them is the event."""
    monkeypatch.setattr(agent_security, "SESSION_CHECK_SECONDS", 600)


async def test_the_socket_of_a_revoked_session_closes_with_4403_and_others_stay_open(alice, only_the_event):
    (laptop, _), (phone, phone_id) = await browser(alice), await browser(alice)
    laptops, phones = await open_socket(laptop), await open_socket(phone)

    await database_sync_to_async(agent_security.do_revoke_session)(alice, phone_id)

    assert await closed_with(phones) == CLOSE_SESSION_REVOKED
    assert await laptops.receive_nothing(timeout=QUIET)
    assert await close_code(console_socket(phone)) == CLOSE_UNAUTHENTICATED


async def test_signing_out_everywhere_else_closes_every_other_socket_of_the_agent(alice, bob, only_the_event):
    (here, here_id), (there, _) = await browser(alice), await browser(alice)
    (bobs_cookie, _) = await browser(bob)
    heres, theres, bobs = await open_socket(here), await open_socket(there), await open_socket(bobs_cookie)

    await database_sync_to_async(agent_security.do_revoke_sessions)(alice.pk, keep=here_id)

    assert await closed_with(theres) == CLOSE_SESSION_REVOKED
    assert await heres.receive_nothing(timeout=QUIET)
    assert await bobs.receive_nothing(timeout=QUIET)


async def test_the_socket_closes_even_when_the_event_was_dropped(alice, monkeypatch):
    # The channel layer is at-most-once: here it loses every event, so only the socket's own check is left.
    monkeypatch.setattr(events, "publish", lambda event, groups: None)
    monkeypatch.setattr(agent_security, "SESSION_CHECK_SECONDS", 0.05)
    (laptop, _), (phone, phone_id) = await browser(alice), await browser(alice)
    laptops, phones = await open_socket(laptop), await open_socket(phone)

    await database_sync_to_async(agent_security.do_revoke_session)(alice, phone_id)

    assert await closed_with(phones) == CLOSE_SESSION_REVOKED
    assert await laptops.receive_nothing(timeout=QUIET)


async def test_the_revocation_event_is_never_forwarded_to_a_socket_it_does_not_close(alice):
    (laptop, _), (_, phone_id) = await browser(alice), await browser(alice)
    laptops = await open_socket(laptop)

    await database_sync_to_async(agent_security.do_revoke_session)(alice, phone_id)

    assert await laptops.receive_nothing(timeout=QUIET)


async def test_a_session_held_for_two_factor_set_up_gets_no_socket(alice, charlie):
    # Admins require two-factor; Alice has not set it up, so her pages are held at the set-up page.
    await database_sync_to_async(agent_security.do_set_require_two_factor)(charlie, True)
    cookie, _ = await browser(alice)

    socket = console_socket(cookie)
    connected, _ = await socket.connect(timeout=WAIT)

    assert connected
    assert await closed_with(socket) == CLOSE_UNAUTHENTICATED
