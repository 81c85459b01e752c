"""POST /console/api/uploads/: an agent's file, stored unbound in the conversation's inbox until a reply
or a note names it."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from contact_center.actions.inbound import do_receive_inbound
from contact_center.models import Attachment
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

URL = "/console/api/uploads/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def chat(website):
    return do_receive_inbound(visitor_envelope(website, visitor="vera")).entry.conversation


def post_file(client, conversation_id, content=PNG, name="chart.png", content_type="image/png", **headers):
    data = {"conversation": str(conversation_id), "file": SimpleUploadedFile(name, content, content_type=content_type)}
    return client.post(URL, data=data, headers=headers)


def test_it_stores_the_agents_file_unbound_in_the_conversations_inbox(client, chat, alice, website):
    client.force_login(alice)

    response = post_file(client, chat.pk, name="C:\\Users\\alice\\chart.png")

    assert response.status_code == 201
    stored = Attachment.objects.get()
    assert response.json() == {
        "id": stored.pk,
        "filename": "chart.png",
        "content_type": "image/png",
        "size": len(PNG),
        "is_image": True,
    }
    assert (stored.entry, stored.inbox, stored.uploaded_by) == (None, website, f"agent:{alice.pk}")
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest()


def test_it_sends_a_logged_out_visitor_to_the_login_page(client, chat):
    response = post_file(client, chat.pk)

    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/?next=")
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("conversation", ["mine-not", "999999", ""])
def test_it_answers_404_for_a_conversation_it_cannot_find(client, alice, conversation):
    client.force_login(alice)

    response = post_file(client, conversation)

    assert (response.status_code, response.json()) == (404, {"error": "no such conversation"})


def test_it_answers_404_for_a_conversation_the_agent_may_not_see(client, chat, bob):
    client.force_login(bob)

    assert post_file(client, chat.pk).status_code == 404
    assert not Attachment.objects.exists()


def test_it_refuses_a_post_without_the_pages_csrf_token(chat, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert post_file(client, chat.pk).status_code == 403
    assert not Attachment.objects.exists()


def test_it_takes_the_csrf_token_from_the_header_the_console_sends(chat, alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    token = client.get("/console/").context["csrf_token"]

    assert post_file(client, chat.pk, **{"X-CSRFToken": str(token)}).status_code == 201


def test_it_applies_the_inboxs_size_limit(client, chat, alice, website):
    website.config = {"attachments": {"max_bytes": 32}}
    website.save(update_fields=["config"])
    client.force_login(alice)

    response = post_file(client, chat.pk)

    assert response.status_code == 413
    assert response.json() == {"error": "this file is too big: files are at most 32 bytes here"}
    assert not Attachment.objects.exists()


def test_it_applies_the_inboxs_types(client, chat, alice):
    client.force_login(alice)

    response = post_file(client, chat.pk, b"<html><script>alert(1)</script>", "page.html", "text/html")

    assert (response.status_code, response.json()) == (
        415,
        {"error": "files of this type (text/html) cannot be sent here"},
    )


def test_it_refuses_a_post_without_a_file(client, chat, alice):
    client.force_login(alice)

    response = client.post(URL, {"conversation": str(chat.pk)})

    assert (response.status_code, response.json()) == (400, {"error": "send the file in a multipart field named file"})


def test_it_refuses_an_empty_file(client, chat, alice):
    client.force_login(alice)

    assert post_file(client, chat.pk, b"", "empty.txt", "text/plain").json() == {"error": "the file is empty"}


def test_it_only_takes_posts(client, alice):
    client.force_login(alice)

    assert client.get(URL).status_code == 405
