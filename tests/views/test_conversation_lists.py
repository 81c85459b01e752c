"""Console lists: /console/api/conversations/?view=&status=&inbox=&sort=&cursor= and .../counts/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contact_center import lists
from contact_center.actions.conversations import do_mark_read
from contact_center.actions.inbound import do_receive_inbound
from contact_center.models import Conversation, Inbox, Team
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

LIST_URL = "/console/api/conversations/"
COUNTS_URL = "/console/api/conversations/counts/"


def conversation_of(inbox, visitor: str, **fields) -> Conversation:
    """A conversation of ``visitor`` in ``inbox``, with ``fields`` set on it afterwards."""
    conversation = do_receive_inbound(
        visitor_envelope(inbox, visitor=visitor, body="Hi", external_id=f"{visitor}-1")
    ).entry.conversation
    if fields:
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
        conversation.refresh_from_db()
    return conversation


def listed(client, **params) -> list[int]:
    response = client.get(LIST_URL, params)
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["conversations"]]


def every_page(client, **params) -> tuple[list[int], int]:
    """Follow the cursors to the end; returns every id listed, in order, and how many pages it took."""
    seen, pages, cursor = [], 0, None
    while True:
        response = client.get(LIST_URL, {**params, **({"cursor": cursor} if cursor else {})}).json()
        seen += [c["id"] for c in response["conversations"]]
        pages += 1
        cursor = response["next"]
        if cursor is None:
            return seen, pages


@pytest.fixture
def board(website, other_inbox, alice, charlie):
    """Four conversations in the website inbox and one elsewhere, spread over an hour of activity."""
    now = timezone.now()
    return {
        "mine_open": conversation_of(website, "v1", assignee=alice, last_activity_at=now - timedelta(minutes=1)),
        "unassigned_urgent": conversation_of(
            website, "v2", priority=Conversation.Priority.URGENT, last_activity_at=now - timedelta(minutes=30)
        ),
        "charlies_pending": conversation_of(
            website, "v3", assignee=charlie, status="pending", last_activity_at=now - timedelta(minutes=10)
        ),
        "unassigned_resolved": conversation_of(
            website, "v4", status="resolved", last_activity_at=now - timedelta(minutes=60)
        ),
        "elsewhere": conversation_of(other_inbox, "v5", last_activity_at=now),
    }


def ids_of(board, *names) -> list[int]:
    return [board[name].pk for name in names]


def test_it_lists_the_views_of_an_agent_most_recent_activity_first(client, board, alice):
    client.force_login(alice)

    assert listed(client) == ids_of(board, "mine_open", "charlies_pending", "unassigned_urgent", "unassigned_resolved")
    assert listed(client, view="mine") == ids_of(board, "mine_open")
    assert listed(client, view="unassigned") == ids_of(board, "unassigned_urgent", "unassigned_resolved")


def test_it_narrows_a_view_to_a_status_and_an_inbox(client, board, alice, charlie, other_inbox):
    client.force_login(alice)
    assert listed(client, status="open") == ids_of(board, "mine_open", "unassigned_urgent")
    assert listed(client, view="unassigned", status="resolved") == ids_of(board, "unassigned_resolved")

    client.force_login(charlie)
    assert listed(client, inbox=other_inbox.pk) == ids_of(board, "elsewhere")


def test_it_never_lists_a_conversation_of_an_inbox_the_agent_may_not_see(client, board, bob):
    client.force_login(bob)
    assert listed(client) == ids_of(board, "elsewhere")
    assert listed(client, inbox=board["mine_open"].inbox_id) == []
    assert client.get(COUNTS_URL).json()["open"] == {"all": 1, "mine": 0, "unassigned": 1, "mentions": 0}


def test_it_sorts_by_priority_then_activity_and_by_age(client, board, alice):
    client.force_login(alice)
    assert listed(client, sort="priority", status="open") == ids_of(board, "unassigned_urgent", "mine_open")
    assert listed(client, sort="oldest") == sorted(listed(client))


def test_it_counts_the_open_conversations_of_each_view(client, board, alice):
    client.force_login(alice)
    assert client.get(COUNTS_URL).json()["open"] == {"all": 2, "mine": 1, "unassigned": 1, "mentions": 0}


@pytest.mark.parametrize("sort", list(lists.SORTS))
def test_it_pages_through_every_conversation_once_even_when_keys_tie(client, website, alice, sort, monkeypatch):
    at = timezone.now()
    made = [
        # Ties in time and priority; every other one has nobody waiting (and so no SLA due).
        conversation_of(
            website,
            f"visitor-{n}",
            last_activity_at=at,
            priority=n % 3,
            waiting_since=at if n % 2 else None,
            sla_due_at=at if n % 2 else None,
        ).pk
        for n in range(7)
    ]
    client.force_login(alice)

    monkeypatch.setattr(lists, "PAGE_SIZE", 3)
    seen, pages = every_page(client, sort=sort)

    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    assert pages == 3
    expected = Conversation.objects.annotate(**lists.KEYS).order_by(*lists.order_of(sort))
    assert seen == list(expected.values_list("pk", flat=True))


def test_it_sorts_by_the_longest_wait_and_by_the_target_that_runs_out_first(client, board, alice):
    now = timezone.now()
    for name, waited, due in [("mine_open", 5, 55), ("unassigned_urgent", 50, 10), ("charlies_pending", None, None)]:
        Conversation.objects.filter(pk=board[name].pk).update(
            waiting_since=now - timedelta(minutes=waited) if waited else None,
            sla_due_at=now + timedelta(minutes=due) if due else None,
        )
    client.force_login(alice)

    # The resolved one still waits since its "Hi" (moments ago, set by the fixture's update of the
    # status, not by resolving); nobody waits in the pending one: it comes after every wait.
    assert listed(client, sort="waiting", status="") == ids_of(
        board, "unassigned_urgent", "mine_open", "unassigned_resolved", "charlies_pending"
    )
    assert listed(client, sort="sla", status="")[:2] == ids_of(board, "unassigned_urgent", "mine_open")


def test_it_narrows_a_view_to_a_team_and_a_channel(client, board, alice, website):
    team = Team.objects.create(name="Returns")
    Conversation.objects.filter(pk=board["mine_open"].pk).update(team=team)
    mailbox = Inbox.objects.create(name="Mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    mailbox.members.add(alice)
    email = Conversation.objects.create(
        customer=board["mine_open"].customer, inbox=mailbox, last_activity_at=timezone.now()
    )
    client.force_login(alice)

    assert listed(client, team=team.pk) == ids_of(board, "mine_open")
    assert listed(client, channel="email") == [email.pk]
    assert email.pk not in listed(client, channel="widget")


def test_the_channel_filter_offers_only_channels_with_an_inbox_the_agent_sees(client, alice, website):
    # WhatsApp and voice cannot receive or send yet: a filter for them would only ever list nothing.
    mailbox = Inbox.objects.create(name="Mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    mailbox.members.add(alice)
    Inbox.objects.create(name="Texts", kind=Inbox.Kind.SMS, address="+14155550100")  # not alice's
    client.force_login(alice)

    page = client.get("/console/").content.decode()
    channel_filter = page.split('<select id="view-channel">', 1)[1].split("</select>", 1)[0]

    assert 'value="widget"' in channel_filter and 'value="email"' in channel_filter
    for kind in ("sms", "whatsapp", "voice"):
        assert f'value="{kind}"' not in channel_filter


def test_it_counts_unread_conversations_per_view_until_an_agent_reads_them(client, board, alice):
    client.force_login(alice)
    assert client.get(COUNTS_URL).json()["unread"] == {"all": 2, "mine": 1, "unassigned": 1, "mentions": 0}

    do_mark_read(alice, board["mine_open"].pk, board["mine_open"].last_seq)

    assert client.get(COUNTS_URL).json()["unread"] == {"all": 1, "mine": 0, "unassigned": 1, "mentions": 0}
    assert [c["unread"] for c in client.get(LIST_URL, {"view": "mine"}).json()["conversations"]] == [False]


@pytest.mark.parametrize(
    "params, problem",
    [
        ({"view": "everything"}, "view is one of"),
        ({"status": "closed"}, "status is one of"),
        ({"inbox": "website"}, "inbox is an inbox id"),
        ({"team": "returns"}, "team is a team id"),
        ({"channel": "fax"}, "channel is one of"),
        ({"sort": "random"}, "sort is one of"),
        ({"cursor": "not-a-cursor"}, "cursor is not one this list gave out"),
    ],
)
def test_it_answers_400_naming_what_is_wrong(client, alice, params, problem):
    client.force_login(alice)
    response = client.get(LIST_URL, params)
    assert response.status_code == 400
    assert problem in response.json()["error"]


def test_it_refuses_a_cursor_of_another_sort_order(client, website, alice):
    for n in range(3):
        conversation_of(website, f"visitor-{n}")
    client.force_login(alice)
    rows, _ = lists.conversation_page(alice, lists.ListQuery(sort="priority"), limit=1)
    cursor = lists._encode_cursor("priority", rows[0])

    assert client.get(LIST_URL, {"sort": "activity", "cursor": cursor}).status_code == 400


def test_a_deep_page_costs_the_queries_of_the_first(client, website, alice, monkeypatch):
    for n in range(12):
        conversation_of(website, f"visitor-{n}", assignee=alice)
    client.force_login(alice)
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    deep = client.get(LIST_URL).json()
    for _ in range(4):
        deep = client.get(LIST_URL, {"cursor": deep["next"]}).json()
    with CaptureQueriesContext(connection) as on_first:
        client.get(LIST_URL)
    with CaptureQueriesContext(connection) as on_deep:
        client.get(LIST_URL, {"cursor": deep["next"]})

    assert len(on_deep) == len(on_first)
