"""The customer's unified timeline: /console/api/customers/<id>/timeline/.

Every conversation of the customer, on every channel, as one history paged backwards from the newest
entry; only the inboxes the agent may see.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contact_center.lib import payloads
from contact_center.models import Agent, Attachment, Conversation, Customer, Inbox, TimelineEntry

pytestmark = pytest.mark.django_db

START = timezone.now() - timedelta(days=30)


def url(customer_id: int) -> str:
    return f"/console/api/customers/{customer_id}/timeline/"


@pytest.fixture
def mailbox(db, alice):
    inbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL, address="help@shop.example")
    inbox.members.add(alice)
    return inbox


def conversation(customer, inbox, subject="") -> Conversation:
    return Conversation.objects.create(customer=customer, inbox=inbox, subject=subject, last_activity_at=START)


def write(conversation: Conversation, body: str, minute: int, **fields) -> TimelineEntry:
    """An inbound message ``minute`` minutes after START (created_at is auto_now_add: set it after)."""
    conversation.last_seq += 1
    conversation.save(update_fields=["last_seq"])
    entry = TimelineEntry.objects.create(
        conversation=conversation,
        customer_id=conversation.customer_id,
        inbox_id=conversation.inbox_id,
        seq=conversation.last_seq,
        kind="message",
        direction="in",
        body=body,
        **fields,
    )
    TimelineEntry.objects.filter(pk=entry.pk).update(created_at=START + timedelta(minutes=minute))
    return entry


@pytest.fixture
def vera(website, mailbox):
    """Vera: a chat, then an email thread, then another chat, their messages interleaved in time
    (minutes 0..119: entry n belongs to conversation n % 3)."""
    customer = Customer.objects.create(name="Vera")
    threads = [
        conversation(customer, website),
        conversation(customer, mailbox, "Order 1042"),
        conversation(customer, website),
    ]
    for minute in range(120):
        write(threads[minute % 3], f"m{minute}", minute)
    return customer


def pages(client, customer_id: int) -> list[dict]:
    """Every page, newest first, following ``next``."""
    found, before = [], None
    while True:
        response = client.get(url(customer_id), {"before": before} if before else {})
        assert response.status_code == 200
        found.append(response.json())
        before = found[-1]["next"]
        if before is None:
            return found


def test_it_pages_the_whole_history_backwards_from_the_newest_entry_across_conversations(client, vera, alice):
    client.force_login(alice)

    found = pages(client, vera.pk)

    # 50 a page, newest page first, each page oldest first: read backwards, it is the whole history once.
    assert [len(page["entries"]) for page in found] == [50, 50, 20]
    bodies = [e["body"] for page in reversed(found) for e in page["entries"]]
    assert bodies == [f"m{minute}" for minute in range(120)]
    assert {e["conversation"] for e in found[0]["entries"]} == set(vera.conversations.values_list("pk", flat=True))


def test_each_page_names_the_conversations_its_entries_belong_to(client, vera, alice):
    client.force_login(alice)

    page = client.get(url(vera.pk)).json()

    headings = page["conversations"]
    assert set(headings) == {str(e["conversation"]) for e in page["entries"]}
    email = next(h for h in headings.values() if h["inbox"]["kind"] == "email")
    assert email["subject"] == "Order 1042" and email["status"] == "open"


def test_an_agent_sees_only_the_entries_of_inboxes_they_may_see(client, vera, bob, mailbox):
    mailbox.members.add(bob)
    client.force_login(bob)

    bodies = [e["body"] for page in pages(client, vera.pk) for e in page["entries"]]

    assert sorted(bodies) == sorted(f"m{minute}" for minute in range(1, 120, 3))


def test_it_hides_a_customer_the_agent_has_nothing_of(client, vera, bob):
    client.force_login(bob)

    assert client.get(url(vera.pk)).status_code == 404
    assert client.get(url(999_999)).status_code == 404


def test_a_visible_customer_without_entries_has_an_empty_history(client, website, alice):
    customer = Customer.objects.create(name="New")
    conversation(customer, website)
    client.force_login(alice)

    assert client.get(url(customer.pk)).json() == {"entries": [], "conversations": {}, "next": None}


def test_entries_written_in_the_same_instant_are_neither_skipped_nor_repeated(client, website, alice):
    customer = Customer.objects.create(name="Burst")
    thread = conversation(customer, website)
    for n in range(75):
        write(thread, f"b{n}", minute=0)
    client.force_login(alice)

    bodies = [e["body"] for page in reversed(pages(client, customer.pk)) for e in page["entries"]]

    assert bodies == [f"b{n}" for n in range(75)]


@pytest.mark.parametrize("cursor", ["yesterday", "WzEsMl0", "bm90IGpzb24"])
def test_it_refuses_a_cursor_it_did_not_give_out(client, vera, alice, cursor):
    client.force_login(alice)

    response = client.get(url(vera.pk), {"before": cursor})

    assert response.status_code == 400
    assert response.json() == {"error": "cursor is not one this list gave out"}


def queries(client, path, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path, params or {}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("who", ["alice", "charlie"])
def test_any_page_costs_the_same_few_queries(client, vera, who, request, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    # One entry deep in the history carries a file: its page pays one query for attachments.
    with_file = TimelineEntry.objects.filter(customer=vera, body="m5").get()
    Attachment.objects.create(
        entry=with_file, file=ContentFile(b"x", name="a.txt"), filename="a.txt", content_type="text/plain", size=1
    )
    TimelineEntry.objects.filter(pk=with_file.pk).update(payload={"attachments": [with_file.pk]})
    client.force_login(request.getfixturevalue(who))
    newest, middle, oldest = pages(client, vera.pk)

    # The user (the session comes from the cache), the entries with their authors, their conversations.
    assert queries(client, url(vera.pk)) == 3
    assert queries(client, url(vera.pk), {"before": newest["next"]}) == 3
    # ... and the attachments of the one entry that has any.
    assert queries(client, url(vera.pk), {"before": middle["next"]}) == 4
    assert oldest["entries"][5]["attachments"][0]["filename"] == "a.txt"


def test_its_entries_and_headings_are_what_every_other_reader_sends(client, vera, alice, tmp_path, settings):
    # The page is read in plain SQL for speed: it must still say exactly what entry_for_agent and
    # conversation_heading say of the same rows, on both backends.
    settings.MEDIA_ROOT = tmp_path
    named = Agent.objects.create_user("named", first_name="Nora", last_name="Named")
    bare = Agent.objects.create_user("bare")
    entries = list(TimelineEntry.objects.filter(customer=vera).order_by("-created_at")[:6])
    for entry, author in zip(entries, [alice, named, bare], strict=False):
        TimelineEntry.objects.filter(pk=entry.pk).update(author=author, direction="out", delivery_status="read")
    TimelineEntry.objects.filter(pk=entries[3].pk).update(kind="note", payload={"mentions": [alice.pk], "x": [1, 2]})
    attachment = Attachment.objects.create(
        entry=entries[4], file=ContentFile(b"x", name="a.txt"), filename="a.txt", content_type="text/plain", size=1
    )
    TimelineEntry.objects.filter(pk=entries[4].pk).update(payload={"attachments": [attachment.pk]})
    client.force_login(alice)

    page = client.get(url(vera.pk)).json()

    rows = TimelineEntry.objects.filter(pk__in=[e["id"] for e in page["entries"]]).select_related("author")
    expected = {entry.pk: payloads.entry_for_agent(entry) for entry in rows.prefetch_related("attachments")}
    for entry in [*expected.values(), *page["entries"]]:
        for file in entry["attachments"]:
            assert "/files/" in file.pop("url")  # signed afresh on every read
    assert page["entries"] == [expected[e["id"]] for e in page["entries"]]
    assert {e["author"]["name"] for e in page["entries"] if e["author"]} == {"Alice", "Nora Named", "bare"}
    headings = {str(c.pk): payloads.conversation_heading(c) for c in vera.conversations.select_related("inbox")}
    assert page["conversations"] == headings
