"""GET /files/<signed token>/<name>: attachments, only through signed links, never as a page of Parley."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import pytest
from django.core import signing

from contact_center.actions.attachments import do_store_upload
from contact_center.actions.inbound import do_receive_inbound
from contact_center.lib.attachment_links import attachment_url
from tests.conftest import visitor_envelope

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"


def sent(inbox, content: bytes, name: str, declared: str = "", external_id="m1"):
    """An attachment the visitor uploaded and sent; returns it."""
    attachment = do_store_upload(inbox, "visitor:vera", io.BytesIO(content), name, declared)
    do_receive_inbound(visitor_envelope(inbox, body="", external_id=external_id, attachment_ids=(attachment.pk,)))
    attachment.refresh_from_db()
    return attachment


def fetch(client, attachment):
    return client.get(urlsplit(attachment_url(attachment)).path)


def test_it_serves_an_image_inline_with_protective_headers(client, website):
    response = fetch(client, sent(website, PNG, "photo.png"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("private")


def test_it_serves_a_pdf_as_a_download_under_its_original_name(client, website):
    response = fetch(client, sent(website, b"%PDF-1.4 ...", "Invoice 12.pdf"))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Invoice 12.pdf"'


def test_it_never_serves_uploaded_html_as_a_page(client, website):
    website.config = {"attachments": {"types": ["text/html"]}}
    website.save()

    response = fetch(client, sent(website, b"<script>alert(1)</script>", "x.html", "text/html"))

    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_it_refuses_a_tampered_link(client, website):
    attachment = sent(website, PNG, "photo.png")
    path = urlsplit(attachment_url(attachment)).path
    token = path.split("/")[2]
    forged = signing.dumps(attachment.pk + 1, salt="parley.attachment", key="not-our-key")

    assert client.get(path.replace(token, token[:-2] + "xx")).status_code == 404
    assert client.get(path.replace(token, forged)).status_code == 404


def test_it_refuses_an_expired_link(client, website, settings):
    attachment = sent(website, PNG, "photo.png")
    url = attachment_url(attachment)
    settings.PARLEY_ATTACHMENT_URL_MAX_AGE = -1

    assert client.get(urlsplit(url).path).status_code == 410


def test_it_serves_no_upload_that_was_never_sent(client, website):
    unsent = do_store_upload(website, "visitor:vera", io.BytesIO(PNG), "photo.png", "")

    assert fetch(client, unsent).status_code == 404


def test_it_does_not_serve_the_media_directory(client, website):
    attachment = sent(website, PNG, "photo.png")

    assert client.get(f"/media/{attachment.file.name}").status_code == 404
