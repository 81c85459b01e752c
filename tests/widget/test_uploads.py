"""POST /widget/api/uploads/: a visitor's file, stored unbound until a message carries it."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from contact_center.models import Attachment
from widget.tokens import issue_visitor_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("whole_rate_window")]

URL = "/widget/api/uploads/"
SHOP = "https://shop.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def post_file(client, inbox, content: bytes, name="photo.png", content_type="image/png", *, visitor="vera", **kw):
    token = kw.pop("token", None) or issue_visitor_token(inbox.public_key, visitor)
    headers = {"Origin": kw.pop("origin", SHOP), **kw.pop("headers", {})}
    data = {"file": SimpleUploadedFile(name, content, content_type=content_type)}
    if kw.pop("token_in_field", False):
        data["token"] = token
    else:
        headers["X-Parley-Token"] = token
    return client.post(URL, data=data, headers=headers, REMOTE_ADDR=kw.pop("ip", "203.0.113.9"))


def test_it_stores_an_image_unbound_with_its_sniffed_type_and_hash(client, website):
    response = post_file(client, website, PNG, name="../../etc/photo.png")

    assert response.status_code == 201
    stored = Attachment.objects.get()
    assert response.json() == {
        "id": stored.pk,
        "filename": "photo.png",
        "content_type": "image/png",
        "size": len(PNG),
        "is_image": True,
    }
    assert (stored.entry, stored.inbox, stored.uploaded_by) == (None, website, "visitor:vera")
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest()
    # Stored under a random name of Parley's choosing, not the visitor's.
    assert "photo" not in stored.file.name
    assert stored.file.read() == PNG


def test_it_takes_the_token_from_a_form_field_too(client, website):
    assert post_file(client, website, PDF, name="invoice.pdf", content_type="", token_in_field=True).status_code == 201
    assert Attachment.objects.get().content_type == "application/pdf"


def test_it_judges_an_image_by_its_bytes_not_by_what_the_client_says(client, website):
    html = b"<html><script>alert(1)</script></html>"

    response = post_file(client, website, html, name="cat.png", content_type="image/png")

    assert response.status_code == 415
    assert "application/octet-stream" in response.json()["error"]
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "x.svg", "image/svg+xml"),
        (b"<h1>hi</h1>", "page.html", "text/html"),
        (b"PK\x03\x04" + b"\x00" * 40, "a.zip", "application/zip"),
    ],
)
def test_it_refuses_a_type_the_inbox_does_not_accept_with_415(client, website, content, name, content_type):
    response = post_file(client, website, content, name=name, content_type=content_type)

    assert response.status_code == 415
    assert response.json()["error"].startswith("files of this type")
    assert not Attachment.objects.exists()


def test_it_refuses_a_file_over_the_inbox_limit_with_413(client, website):
    website.config = {"attachments": {"max_bytes": 1000}}
    website.save()

    response = post_file(client, website, b"x" * 1001, name="notes.txt", content_type="text/plain")

    assert response.status_code == 413
    assert response.json() == {"error": "this file is too big: files are at most 1000 bytes here"}
    assert not Attachment.objects.exists()


def test_it_refuses_a_request_announcing_too_much_before_reading_it(client, website):
    response = post_file(client, website, PNG, headers={"Content-Length": str(50 * 1024 * 1024)})

    assert response.status_code == 413
    assert not Attachment.objects.exists()


def test_it_follows_the_inbox_list_of_types(client, website):
    website.config = {"attachments": {"types": ["text/plain"]}}
    website.save()

    assert post_file(client, website, PNG).status_code == 415
    assert post_file(client, website, b"hello", name="a.txt", content_type="text/plain").status_code == 201


def test_it_refuses_a_foreign_origin(client, website):
    response = post_file(client, website, PNG, origin="https://evil.example")

    assert response.status_code == 403
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("token", ["nonsense", "eyJpIjoiYSIsInYiOiJiIn0:1abc:forged"])
def test_it_refuses_a_bad_token_with_401(client, website, token):
    assert post_file(client, website, PNG, token=token).status_code == 401
    assert not Attachment.objects.exists()


def test_it_refuses_a_token_of_another_kind_of_inbox(client, website):
    website.kind = "email"
    website.save()

    assert post_file(client, website, PNG).status_code == 401


def test_it_answers_a_request_without_a_file_with_400(client, website):
    token = issue_visitor_token(website.public_key, "vera")
    response = client.post(URL, data={}, headers={"Origin": SHOP, "X-Parley-Token": token})

    assert response.status_code == 400
    assert "file" in response.json()["error"]


def test_it_refuses_an_empty_file(client, website):
    assert post_file(client, website, b"", name="empty.txt", content_type="text/plain").status_code == 400


@override_settings(
    PARLEY_RATE_LIMITS={
        "messages_per_visitor": None,
        "messages_per_ip": None,
        "uploads_per_visitor": (2, 60),
        "uploads_per_ip": (3, 60),
        "conversations_per_ip": None,
    }
)
def test_it_limits_uploads_per_visitor_and_per_address_with_429(client, website):
    assert [post_file(client, website, PNG).status_code for _ in range(2)] == [201, 201]

    refused = post_file(client, website, PNG)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["retry_after"] == int(refused["Retry-After"])
    # Another visitor at the same address has one upload left of the address's three.
    assert post_file(client, website, PNG, visitor="victor").status_code == 201
    assert post_file(client, website, PNG, visitor="victor").status_code == 429
    # A visitor at another address is not held back by this one.
    assert post_file(client, website, PNG, visitor="walter", ip="198.51.100.7").status_code == 201
    assert Attachment.objects.count() == 4
