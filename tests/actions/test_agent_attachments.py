"""Files agents send: their own uploads, bound to a reply or a note (``attachments=[ids]``), and carried
by the outbound message the worker hands to the transport."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from contact_center.actions.attachments import MAX_PER_MESSAGE, do_store_upload
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.outbox import load_outbound
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.lib import payloads
from contact_center.models import Attachment, Delivery, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WRITERS = [do_send_reply, do_add_note]


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def chat(website):
    return do_receive_inbound(visitor_envelope(website, visitor="vera", body="Which size?")).entry.conversation


def upload(inbox, by, content=PNG, name="size-chart.png") -> Attachment:
    return do_store_upload(inbox, by, io.BytesIO(content), name, "")


def agent_entries():
    return TimelineEntry.objects.exclude(direction=TimelineEntry.Direction.IN)


def test_it_binds_the_agents_uploads_to_the_reply(chat, alice, website, published, django_capture_on_commit_callbacks):
    chart, guide = upload(website, f"agent:{alice.pk}"), upload(website, f"agent:{alice.pk}", b"Sizes", "guide.txt")

    with django_capture_on_commit_callbacks(execute=True):
        entry = do_send_reply(alice, chat.pk, "Here is our chart.", attachments=[chart.pk, guide.pk])

    assert sorted(a.pk for a in entry.attachments.all()) == [chart.pk, guide.pk]
    assert entry.payload["attachments"] == [chart.pk, guide.pk]
    [(event, _)] = published
    assert [(a["id"], a["filename"], a["is_image"]) for a in event["entry"]["attachments"]] == [
        (chart.pk, "size-chart.png", True),
        (guide.pk, "guide.txt", False),
    ]
    # What the widget shows the visitor: the same files, with signed links.
    shown = payloads.entry_for_visitor(entry)["attachments"]
    assert [a["id"] for a in shown] == [chart.pk, guide.pk]
    assert all(a["url"].startswith("http://127.0.0.1:8000/files/") for a in shown)


def test_a_reply_may_be_files_alone(chat, alice, website):
    chart = upload(website, f"agent:{alice.pk}")

    entry = do_send_reply(alice, chat.pk, "   ", attachments=[chart.pk])

    assert (entry.body, entry.delivery_status) == ("", "queued")
    assert Delivery.objects.filter(entry=entry).exists()


def test_a_note_carries_files_for_colleagues_only(chat, alice, website):
    chart = upload(website, f"agent:{alice.pk}")

    note = do_add_note(alice, chat.pk, "The chart she asked about", attachments=[chart.pk])

    assert (note.kind, note.public_seq) == ("note", None)
    assert [a["id"] for a in payloads.entry_for_agent(note)["attachments"]] == [chart.pk]
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("write", WRITERS)
def test_it_refuses_an_empty_message_without_files(chat, alice, write):
    with pytest.raises(ValidationError, match="cannot be empty"):
        write(alice, chat.pk, "", attachments=[])


@pytest.mark.parametrize(
    "whose",
    [
        pytest.param("visitor:vera", id="the visitor's"),
        pytest.param("agent:charlie", id="another agent's"),
    ],
)
@pytest.mark.parametrize("write", WRITERS)
def test_it_refuses_an_upload_that_is_not_the_agents_own(chat, alice, charlie, website, whose, write):
    theirs = upload(website, whose.replace("charlie", str(charlie.pk)))

    with pytest.raises(ValidationError, match="not available"):
        write(alice, chat.pk, "Here", attachments=[theirs.pk])

    theirs.refresh_from_db()
    assert theirs.entry is None
    assert not agent_entries().exists()
    assert not Delivery.objects.exists()


def test_it_refuses_an_upload_made_to_another_inbox(chat, alice, other_inbox):
    elsewhere = upload(other_inbox, f"agent:{alice.pk}")

    with pytest.raises(ValidationError, match="not available"):
        do_send_reply(alice, chat.pk, "Here", attachments=[elsewhere.pk])


def test_it_binds_an_upload_once(chat, alice, website):
    chart = upload(website, f"agent:{alice.pk}")
    do_send_reply(alice, chat.pk, "Here", attachments=[chart.pk])

    with pytest.raises(ValidationError, match="not available"):
        do_add_note(alice, chat.pk, "Again", attachments=[chart.pk])


def test_a_resend_returns_the_stored_reply_with_its_files(chat, alice, website):
    chart = upload(website, f"agent:{alice.pk}")
    first = do_send_reply(alice, chat.pk, "Here", attachments=[chart.pk], client_id="c-files-01")

    again = do_send_reply(alice, chat.pk, "Here", attachments=[chart.pk], client_id="c-files-01")

    assert again.pk == first.pk
    assert Attachment.objects.get().entry_id == first.pk


@pytest.mark.parametrize("attachments", ["12", [1, "2"], [True], list(range(MAX_PER_MESSAGE + 1))])
def test_it_refuses_attachments_that_are_not_a_short_list_of_ids(chat, alice, attachments):
    with pytest.raises(ValidationError):
        do_send_reply(alice, chat.pk, "Here", attachments=attachments)


def test_the_outbound_message_carries_the_files_with_links_and_stored_names(chat, alice, website):
    chart = upload(website, f"agent:{alice.pk}")
    guide = upload(website, f"agent:{alice.pk}", b"Sizes", "guide.txt")
    entry = do_send_reply(alice, chat.pk, "Here is our chart.", attachments=[chart.pk, guide.pk])

    message = load_outbound(Delivery.objects.get(entry=entry).pk)

    assert [(f.filename, f.content_type, f.size, f.path) for f in message.attachments] == [
        ("size-chart.png", "image/png", len(PNG), chart.file.name),
        ("guide.txt", "text/plain", 5, guide.file.name),
    ]
    assert all(f.url.startswith("http://127.0.0.1:8000/files/") for f in message.attachments)
    # What a text-only channel (SMS) sends: the text, then a line per file.
    assert message.text_with_links() == "\n".join(
        ["Here is our chart.", "", *(f"{f.filename}: {f.url}" for f in message.attachments)]
    )


def test_a_message_without_files_costs_no_attachment_query(chat, alice, django_assert_num_queries):
    entry = do_send_reply(alice, chat.pk, "Plain")
    delivery = Delivery.objects.get(entry=entry)

    # The delivery with entry, author, conversation, inbox and identity joined in: nothing else.
    with django_assert_num_queries(1):
        message = load_outbound(delivery.pk)
    assert message.attachments == ()
