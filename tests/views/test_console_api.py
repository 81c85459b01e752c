"""The console's JSON reads: /console/api/conversations/ and /console/api/conversations/<id>/entries/."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import do_add_note
from contact_center.history import entries_after
from contact_center.lib import payloads
from contact_center.models import Agent, Attachment, Conversation, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

LIST_URL = "/console/api/conversations/"


def entries_url(conversation_id: int) -> str:
    return f"/console/api/conversations/{conversation_id}/entries/"


def conversation_of(inbox, visitor: str, messages: int = 1) -> int:
    """A conversation of ``visitor`` in ``inbox`` with ``messages`` customer messages; returns its id."""
    for n in range(messages):
        entry = do_receive_inbound(
            visitor_envelope(inbox, visitor=visitor, body=f"{visitor} {n + 1}", external_id=f"{visitor}-{n}")
        ).entry
    return entry.conversation_id


def ids(response) -> list[int]:
    return [c["id"] for c in response.json()["conversations"]]


@pytest.mark.parametrize("url", [LIST_URL, entries_url(1)])
def test_it_sends_a_logged_out_visitor_to_the_login_page(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/?next=")


def test_it_lists_only_the_conversations_of_inboxes_the_agent_may_see(
    client, website, other_inbox, alice, bob, charlie
):
    ours = conversation_of(website, "vera")
    theirs = conversation_of(other_inbox, "victor")

    client.force_login(alice)
    assert ids(client.get(LIST_URL)) == [ours]
    client.force_login(bob)
    assert ids(client.get(LIST_URL)) == [theirs]
    client.force_login(charlie)
    assert sorted(ids(client.get(LIST_URL))) == sorted([ours, theirs])


def test_it_lists_the_most_recent_activity_first(client, website, alice):
    older = conversation_of(website, "vera")
    newer = conversation_of(website, "victor")
    client.force_login(alice)
    assert ids(client.get(LIST_URL)) == [newer, older]

    do_receive_inbound(visitor_envelope(website, visitor="vera", body="Still there?", external_id="vera-late"))
    assert ids(client.get(LIST_URL)) == [older, newer]


def test_it_answers_404_for_the_entries_of_a_conversation_the_agent_may_not_see(client, website, bob):
    conversation_id = conversation_of(website, "vera")
    client.force_login(bob)

    assert client.get(entries_url(conversation_id)).status_code == 404
    assert client.get(entries_url(conversation_id + 1000)).status_code == 404


def test_it_pages_back_through_a_timeline_by_seq(client, website, alice):
    conversation_id = conversation_of(website, "vera", messages=60)
    client.force_login(alice)

    newest = client.get(entries_url(conversation_id)).json()
    older = client.get(entries_url(conversation_id), {"before": newest["entries"][0]["seq"]}).json()
    middle = client.get(entries_url(conversation_id), {"before": 30}).json()

    assert [e["seq"] for e in newest["entries"]] == list(range(11, 61))
    assert [e["seq"] for e in older["entries"]] == list(range(1, 11))
    assert [e["body"] for e in older["entries"]] == [f"vera {n}" for n in range(1, 11)]
    assert [e["seq"] for e in middle["entries"]] == list(range(1, 30))
    assert newest["conversation"]["id"] == conversation_id


def test_it_answers_400_for_a_before_that_is_not_a_seq(client, website, alice):
    conversation_id = conversation_of(website, "vera")
    client.force_login(alice)

    assert client.get(entries_url(conversation_id), {"before": "yesterday"}).status_code == 400


def test_its_entries_are_what_every_other_reader_sends(client, website, alice, tmp_path, settings):
    # Pages and replays are read in plain SQL for speed (contact_center/history.py): they must say
    # exactly what entry_for_agent says of the same rows, authors, payloads and files included.
    settings.MEDIA_ROOT = tmp_path
    conversation_id = conversation_of(website, "vera", messages=3)
    note = do_add_note(alice, conversation_id, "A note for @alice")
    TimelineEntry.objects.filter(pk=note.pk).update(payload={"mentions": [alice.pk], "x": [1, 2]})
    with_file = TimelineEntry.objects.filter(conversation_id=conversation_id, seq=2).get()
    attachment = Attachment.objects.create(
        entry=with_file, file=ContentFile(b"x", name="a.txt"), filename="a.txt", content_type="text/plain", size=1
    )
    TimelineEntry.objects.filter(pk=with_file.pk).update(payload={"attachments": [attachment.pk]})
    client.force_login(alice)

    page = client.get(entries_url(conversation_id)).json()["entries"]
    replay = entries_after(conversation_id, 0)

    rows = TimelineEntry.objects.filter(conversation_id=conversation_id).select_related("author")
    expected = [payloads.entry_for_agent(entry) for entry in rows.prefetch_related("attachments").order_by("seq")]
    for entry in [*expected, *page, *replay]:
        for file in entry["attachments"]:
            assert "/files/" in file.pop("url")  # signed afresh on every read
    assert page == expected
    assert replay == expected
    assert page[1]["attachments"][0]["filename"] == "a.txt"
    assert page[3]["author"] == {"id": alice.pk, "name": alice.public_name}


# --- Query counts: a page costs the same whatever its number of rows ----------------------------------


def test_it_offers_no_earlier_history_for_a_customers_first_conversation(client, website, alice):
    conversation_id = conversation_of(website, "vera")
    client.force_login(alice)

    assert client.get(entries_url(conversation_id)).json()["earlier"] is None
    assert client.get(entries_url(conversation_id), {"before": 2}).json()["earlier"] is None


def test_it_offers_earlier_history_only_to_agents_who_may_see_some_of_it(client, website, other_inbox, alice, charlie):
    conversation_of(other_inbox, "vera")  # the same visitor, earlier, on another site
    conversation_id = conversation_of(website, "vera")

    client.force_login(charlie)
    earlier = client.get(entries_url(conversation_id)).json()["earlier"]
    assert earlier is not None
    page = client.get(
        f"/console/api/customers/{Conversation.objects.get(pk=conversation_id).customer_id}/timeline/",
        {"before": earlier},
    ).json()
    assert [e["body"] for e in page["entries"]] == ["vera 1"]
    assert page["entries"][0]["conversation"] != conversation_id
    # Alice is no member of the other site's inbox: nothing earlier she could read.
    client.force_login(alice)
    assert client.get(entries_url(conversation_id)).json()["earlier"] is None


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_it_lists_conversations_in_a_constant_number_of_queries(client, website, alice):
    client.force_login(alice)

    def grow_to(count: int) -> int:
        for n in range(Conversation.objects.count(), count):
            conversation_of(website, f"visitor{n}")
        # Assigned conversations, so the list needs each assignee too.
        Conversation.objects.update(assignee=alice)
        assert len(ids(client.get(LIST_URL))) == count
        return queries_of(client, LIST_URL)

    assert grow_to(2) == grow_to(30)


def test_it_pages_entries_in_a_constant_number_of_queries(client, website, alice):
    conversation_id = conversation_of(website, "vera")
    client.force_login(alice)

    def grow_to(count: int) -> int:
        # Notes by an agent, so each entry needs its author too.
        while len(client.get(entries_url(conversation_id)).json()["entries"]) < count:
            do_add_note(alice, conversation_id, "A note")
        return queries_of(client, entries_url(conversation_id))

    assert grow_to(2) == grow_to(30)


def test_it_offers_as_assignees_everyone_who_can_see_the_inbox(client, website, alice, bob, charlie):
    Agent.objects.create_user("ivan", password="ivan-password", is_active=False).inboxes.add(website)
    conversation_id = conversation_of(website, "vera")
    client.force_login(alice)

    assignees = client.get(entries_url(conversation_id)).json()["assignees"]

    # Alice is a member, Charlie an admin; Bob works elsewhere and Ivan has left.
    assert sorted(a["id"] for a in assignees) == sorted([alice.pk, charlie.pk])
