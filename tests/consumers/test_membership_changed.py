"""An admin changes what an agent may see: the agent's console sockets close with 4001 and reconnect
with the new set of inbox groups (docs/protocols/console-socket.md, "Refusals and close codes")."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from contact_center.actions.settings_admin import do_save_inbox
from contact_center.consumers import CLOSE_MEMBERSHIP_CHANGED, CLOSE_UNAUTHENTICATED
from tests.conftest import save_agent
from tests.consumers import WAIT, close_code, console_socket, receive_until, session_cookie
from tests.consumers.test_conversation_actions import QUIET, console_of, vera_writes

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def set_members(admin, inbox, agents):
    do_save_inbox(admin, inbox.pk, name=inbox.name, team_id=None, member_ids=[a.pk for a in agents])


async def closed_with(socket) -> int:
    message = await socket.receive_output(timeout=WAIT)
    assert message["type"] == "websocket.close", message
    return message["code"]


async def test_an_agent_removed_from_an_inbox_is_told_and_their_socket_closes(website, alice, charlie):
    alices, charlies = await console_of(alice), await console_of(charlie)

    await set_members(charlie, website, [])

    frame, _ = await receive_until(alices, "membership.changed")
    assert frame == {"type": "membership.changed"}
    assert await closed_with(alices) == CLOSE_MEMBERSHIP_CHANGED
    # Nobody else's membership changed: the admin's console stays as it was.
    assert await charlies.receive_nothing(timeout=QUIET)


async def test_the_console_that_reconnects_after_the_removal_hears_nothing_of_the_inbox(website, alice, bob, charlie):
    await set_members(charlie, website, [bob])
    alices, bobs = await console_of(alice), await console_of(bob)

    await vera_writes(website)

    heard, _ = await receive_until(bobs, "entry.created")
    assert heard["conversation"]["inbox"]["id"] == website.pk
    assert await alices.receive_nothing(timeout=QUIET)


async def test_a_deactivated_agent_is_disconnected_and_cannot_reconnect(website, alice, charlie):
    alices = await console_of(alice)
    cookie = await session_cookie(alice)

    await database_sync_to_async(save_agent)(charlie, alice, [website.pk], is_active=False)

    await receive_until(alices, "membership.changed")
    assert await closed_with(alices) == CLOSE_MEMBERSHIP_CHANGED
    assert await close_code(console_socket(cookie)) == CLOSE_UNAUTHENTICATED
