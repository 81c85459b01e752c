"""What a connect costs: one hop to a database thread for either socket, and a widget inbox read once per
process and ``widget.inboxes.TTL_SECONDS`` (forgotten at once when the inbox is saved in this process).

The sockets' refusals and what they hear after connecting are specified in test_visitor_socket.py and
test_agent_socket.py; here, only that they get there cheaply and that the cache never keeps out an
origin that is allowed now.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from contact_center import database_threads, history
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_send_reply
from contact_center.models import Conversation, Identity, Inbox
from tests.conftest import visitor_envelope
from tests.consumers import (
    close_code,
    deliver_outbox,
    hello,
    open_agent,
    open_visitor,
    receive_until,
    send,
    visitor_socket,
)
from widget import inboxes
from widget.tokens import issue_visitor_token

pytestmark = pytest.mark.django_db(transaction=True)

CLOSE_BAD_ORIGIN = 4403
ELSEWHERE = "https://elsewhere.example"


@pytest.fixture
def hops(monkeypatch):
    """The functions each db_call ran, in order (a hop each to a database thread)."""
    called = []
    real = database_threads.db_call

    async def counted(function, *args, **kwargs):
        called.append(getattr(function, "__name__", repr(function)))
        return await real(function, *args, **kwargs)

    import contact_center.consumers
    import widget.consumers

    monkeypatch.setattr(widget.consumers, "db_call", counted)
    monkeypatch.setattr(contact_center.consumers, "db_call", counted)
    return called


@pytest.fixture
def inbox_reads(monkeypatch):
    """Public keys read from the database by widget.inboxes (its cache missed)."""
    read = []
    real = inboxes.widget_inbox
    monkeypatch.setattr(inboxes, "widget_inbox", lambda key: read.append(key) or real(key))
    import widget.consumers

    monkeypatch.setattr(widget.consumers, "widget_inbox", inboxes.widget_inbox)
    return read


async def test_a_returning_visitors_connect_is_one_database_hop_and_hears_their_conversation(website, alice, hops):
    first = await open_visitor(website, "v-returning")
    await hello(first)
    message = (await send(first, "client-0001", "Hello"))["message"]
    await first.disconnect()
    hops.clear()

    again = await open_visitor(website, "v-returning")

    assert hops == ["_connect_facts"]
    await hello(again)
    await database_sync_to_async(do_send_reply)(alice, message["conversation"], "Welcome back")
    assert await deliver_outbox() == 1  # replies reach the widget through the outbox
    reply, _ = await receive_until(again, "message")
    assert reply["message"]["body"] == "Welcome back"


async def test_a_consoles_connect_is_one_database_hop(alice, hops):
    await open_agent(alice)

    assert hops == ["_console_inboxes"]


async def test_it_reads_a_widget_inbox_once_for_many_connects(website, inbox_reads):
    for i in range(5):
        await open_visitor(website, f"v-{i}")

    assert inbox_reads == [website.public_key]


async def test_an_inbox_saved_in_this_process_is_read_again_and_a_removed_origin_refused_at_once(website, inbox_reads):
    await open_visitor(website, "v-1")
    # As the settings pages and the admin do: a save, which forgets the cached inbox (widget.apps).
    await database_sync_to_async(_set_origins)(website, [ELSEWHERE], save=True)

    refused = visitor_socket(issue_visitor_token(website.public_key, "v-2"))

    assert await close_code(refused) == CLOSE_BAD_ORIGIN
    assert inbox_reads == [website.public_key, website.public_key]


async def test_an_origin_added_elsewhere_is_let_in_at_once_despite_the_cache(website, inbox_reads):
    await open_visitor(website, "v-1")
    # Another process (a second web node, manage.py shell) changed it: this process heard nothing.
    await database_sync_to_async(_set_origins)(website, [ELSEWHERE], save=False)

    let_in = await open_visitor(website, "v-2", origin=ELSEWHERE)

    # Accepted then closed with 4403 is refused: only an answered hello says the socket was let in.
    _, ready = await hello(let_in)
    assert ready["type"] == "ready"
    assert inbox_reads == [website.public_key, website.public_key]


def _set_origins(inbox: Inbox, origins: list[str], *, save: bool) -> None:
    if save:
        inbox.allowed_origins = origins
        inbox.save(update_fields=["allowed_origins"])
    else:
        Inbox.objects.filter(pk=inbox.pk).update(allowed_origins=origins)


def test_the_visitors_conversation_is_one_query_with_the_answers_of_the_two_step_lookup(
    website, other_inbox, django_assert_num_queries
):
    vera = do_receive_inbound(visitor_envelope(website, visitor="vera", external_id="w1")).entry.conversation
    newer = Conversation.objects.create(customer=vera.customer, inbox=website, last_activity_at=vera.last_activity_at)
    cases = [(website.pk, "vera"), (other_inbox.pk, "vera"), (website.pk, "nobody")]

    for inbox_id, visitor_id in cases:
        with django_assert_num_queries(1):
            found = history.visitor_conversation(inbox_id, visitor_id)
        assert found == _two_step(inbox_id, visitor_id)
    assert history.visitor_conversation(website.pk, "vera") == (newer.pk, vera.customer_id)
    assert history.visitor_conversation(other_inbox.pk, "vera") == (None, vera.customer_id)
    assert history.visitor_conversation(website.pk, "nobody") is None


def _two_step(inbox_id: int, visitor_id: str):
    """The lookup as the ORM says it plainly: the visitor's customer, then their latest unmerged conversation."""
    customer_id = (
        Identity.objects.filter(kind="visitor", value=visitor_id).values_list("customer_id", flat=True).first()
    )
    if customer_id is None:
        return None
    latest = (
        Conversation.objects.filter(inbox_id=inbox_id, customer_id=customer_id, merged_into__isnull=True)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return latest, customer_id
