"""POST /widget/api/session/: the widget frame's visitor token, issued only to allowed origins."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from contact_center.models import Inbox
from widget.tokens import check_visitor_token, issue_visitor_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_parley_at_its_own_origin")]

URL = "/widget/api/session/"
OWN_ORIGIN = "https://parley.example"


@pytest.fixture
def _parley_at_its_own_origin():
    with override_settings(PUBLIC_BASE_URL=OWN_ORIGIN):
        yield


def post_session(client, body, origin: str | None = OWN_ORIGIN):
    headers = {"Origin": origin} if origin else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", headers=headers)


def test_it_issues_a_token_to_parleys_own_origin(client, website):
    response = post_session(client, {"inbox": website.public_key})

    assert response.status_code == 200
    data = response.json()
    claim = check_visitor_token(data["token"])
    assert (claim.inbox_key, claim.visitor_id) == (website.public_key, data["visitor_id"])


def test_it_issues_a_token_to_an_allowed_origin_of_the_inbox(client, website):
    response = post_session(client, {"inbox": website.public_key}, origin="https://shop.example")

    assert response.status_code == 200
    assert check_visitor_token(response.json()["token"]).inbox_key == website.public_key


@pytest.mark.parametrize("origin", ["https://evil.example", "https://shop.example.evil.example", None])
def test_it_refuses_a_foreign_or_missing_origin(client, website, origin):
    response = post_session(client, {"inbox": website.public_key}, origin=origin)

    assert response.status_code == 403
    assert "token" not in response.json()


@pytest.mark.parametrize("body", ["{not json", '"a string"', "{}", '{"inbox": 12}'])
def test_it_answers_a_malformed_request_with_400(client, website, body):
    assert post_session(client, body).status_code == 400


def test_it_answers_an_unknown_inbox_with_404(client, website):
    assert post_session(client, {"inbox": "no-such-inbox"}).status_code == 404


def test_it_answers_an_inbox_that_is_not_a_widget_with_404(client, website):
    mailbox = Inbox.objects.create(name="Support mail", kind=Inbox.Kind.EMAIL)
    assert post_session(client, {"inbox": mailbox.public_key}).status_code == 404


def test_it_only_accepts_post(client, website):
    assert client.get(URL, {"inbox": website.public_key}, headers={"Origin": OWN_ORIGIN}).status_code == 405


def test_it_keeps_the_visitor_of_a_valid_token(client, website):
    first = post_session(client, {"inbox": website.public_key}).json()

    again = post_session(client, {"inbox": website.public_key, "token": first["token"]}).json()

    assert again == first


def test_it_gives_a_new_visitor_to_a_token_of_another_inbox(client, website, other_inbox):
    theirs = post_session(client, {"inbox": other_inbox.public_key}).json()

    ours = post_session(client, {"inbox": website.public_key, "token": theirs["token"]}).json()

    assert ours["visitor_id"] != theirs["visitor_id"]
    assert check_visitor_token(ours["token"]).inbox_key == website.public_key


def test_it_gives_a_new_visitor_to_a_tampered_token(client, website):
    token = issue_visitor_token(website.public_key, "vera")

    response = post_session(client, {"inbox": website.public_key, "token": token[:-3] + "xyz"}).json()

    assert response["visitor_id"] != "vera"
    assert check_visitor_token(response["token"]).visitor_id == response["visitor_id"]
