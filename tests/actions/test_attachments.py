"""Attachments: a visitor's upload is bound to their message, once, and to nobody else's."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from contact_center.actions.attachments import clean_filename, do_store_upload
from contact_center.actions.inbound import do_receive_inbound
from contact_center.lib.filetypes import sniff_content_type
from contact_center.models import Attachment, Conversation, Customer, TimelineEntry
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(inbox, by="visitor:vera", content=PNG, name="photo.png", declared="") -> Attachment:
    return do_store_upload(inbox, by, io.BytesIO(content), name, declared)


def test_it_binds_the_senders_own_uploads_to_the_message(website, published, django_capture_on_commit_callbacks):
    photo, notes = upload(website), upload(website, content=b"size 46", name="notes.txt")

    with django_capture_on_commit_callbacks(execute=True):
        entry = do_receive_inbound(visitor_envelope(website, body="", attachment_ids=(photo.pk, notes.pk))).entry

    assert {a.pk for a in entry.attachments.all()} == {photo.pk, notes.pk}
    assert entry.body == ""
    [agent_event, visitor_event] = [event for event, _ in published]
    for listed in (agent_event["entry"]["attachments"], visitor_event["message"]["attachments"]):
        assert [(a["id"], a["filename"], a["content_type"], a["is_image"]) for a in listed] == [
            (photo.pk, "photo.png", "image/png", True),
            (notes.pk, "notes.txt", "text/plain", False),
        ]
        assert all(a["url"].startswith("http://127.0.0.1:8000/files/") for a in listed)


def test_it_refuses_someone_elses_upload_and_stores_nothing(website):
    victors = upload(website, by="visitor:victor")

    with pytest.raises(ValidationError, match="not available"):
        do_receive_inbound(visitor_envelope(website, visitor="vera", attachment_ids=(victors.pk,)))

    victors.refresh_from_db()
    assert victors.entry is None
    # A refused message leaves no trace: no customer, no conversation, no entry.
    assert (Customer.objects.count(), Conversation.objects.count(), TimelineEntry.objects.count()) == (0, 0, 0)


def test_it_refuses_an_upload_made_to_another_inbox(website, other_inbox):
    elsewhere = upload(other_inbox)

    with pytest.raises(ValidationError):
        do_receive_inbound(visitor_envelope(website, attachment_ids=(elsewhere.pk,)))


def test_it_binds_an_upload_once(website):
    photo = upload(website)
    first = do_receive_inbound(visitor_envelope(website, external_id="m1", attachment_ids=(photo.pk,))).entry

    with pytest.raises(ValidationError):
        do_receive_inbound(visitor_envelope(website, external_id="m2", attachment_ids=(photo.pk,)))

    photo.refresh_from_db()
    assert photo.entry_id == first.pk
    assert TimelineEntry.objects.count() == 1


def test_it_returns_the_stored_message_for_a_resend_that_names_its_attachments_again(website):
    photo = upload(website)
    envelope = visitor_envelope(website, attachment_ids=(photo.pk,))
    first = do_receive_inbound(envelope)

    again = do_receive_inbound(envelope)

    assert (again.created, again.entry.pk) == (False, first.entry.pk)


def test_it_refuses_an_unknown_attachment_id(website):
    with pytest.raises(ValidationError):
        do_receive_inbound(visitor_envelope(website, attachment_ids=(987654,)))


@pytest.mark.parametrize(
    ("head", "declared", "expected"),
    [
        (PNG, "", "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "application/octet-stream", "image/jpeg"),
        (b"GIF89a....", "text/plain", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "", "image/webp"),
        (b"%PDF-1.7", "", "application/pdf"),
        (b"<svg onload=alert(1)>", "image/svg+xml", "application/octet-stream"),
        (b"<b>not a pdf</b>", "application/pdf", "application/octet-stream"),
        ("Grüße\n".encode(), "", "text/plain"),
        (b"<html></html>", "text/html", "text/html"),
        (b"\x00\x01\x02binary", "", "application/octet-stream"),
    ],
)
def test_it_sniffs_the_type_from_the_bytes(head, declared, expected):
    assert sniff_content_type(head, declared) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\v\\cv.pdf", "cv.pdf"),
        ("a\x00b\u202ec.txt", "abc.txt"),
        ("", "file"),
    ],
)
def test_it_keeps_only_a_plain_file_name(name, expected):
    assert clean_filename(name) == expected
