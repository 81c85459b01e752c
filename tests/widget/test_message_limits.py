"""POST /widget/api/messages/ under the socket's budget: a visitor gains nothing by switching to HTTP."""

from __future__ import annotations

import io
import json

import pytest
from django.test import override_settings

from contact_center.actions.attachments import do_store_upload
from contact_center.models import TimelineEntry
from widget.tokens import issue_visitor_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("whole_rate_window")]

SHOP = "https://shop.example"
NO_LIMITS = {
    "messages_per_visitor": None,
    "messages_per_ip": None,
    "uploads_per_visitor": None,
    "uploads_per_ip": None,
    "conversations_per_ip": None,
}


def send(client, inbox, client_id: str, visitor="vera", ip="203.0.113.9", **fields):
    body = {"token": issue_visitor_token(inbox.public_key, visitor), "client_id": client_id, "body": "hi", **fields}
    return client.post(
        "/widget/api/messages/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Origin": SHOP},
        REMOTE_ADDR=ip,
    )


@override_settings(PARLEY_RATE_LIMITS={**NO_LIMITS, "messages_per_visitor": (1, 60)})
def test_it_answers_429_with_retry_after_past_the_visitors_limit(client, website):
    assert send(client, website, "client-0001").status_code == 200

    refused = send(client, website, "client-0002")

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["retry_after"] == int(refused["Retry-After"])
    assert TimelineEntry.objects.count() == 1


@override_settings(PARLEY_RATE_LIMITS={**NO_LIMITS, "conversations_per_ip": (1, 3600)})
def test_it_limits_new_conversations_per_address(client, website):
    assert send(client, website, "client-0001", visitor="vera").status_code == 200
    assert send(client, website, "client-0002", visitor="vera").status_code == 200

    assert send(client, website, "client-0003", visitor="victor").status_code == 429
    assert send(client, website, "client-0004", visitor="victor", ip="198.51.100.7").status_code == 200


def test_it_binds_the_visitors_upload_and_refuses_someone_elses(client, website, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    own = do_store_upload(website, "visitor:vera", io.BytesIO(b"notes"), "notes.txt", "")
    theirs = do_store_upload(website, "visitor:victor", io.BytesIO(b"theirs"), "theirs.txt", "")

    accepted = send(client, website, "client-0001", body="", attachments=[own.pk])
    refused = send(client, website, "client-0002", attachments=[theirs.pk])

    assert [a["filename"] for a in accepted.json()["message"]["attachments"]] == ["notes.txt"]
    assert refused.status_code == 400
    assert "not available" in refused.json()["error"]
