"""/widget/frame/<key>/ (the conversation UI, framed by the customer's site) and /widget/loader.js."""

from __future__ import annotations

import json
import re

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def frame_ancestors(response) -> list[str]:
    [directive] = [d.strip() for d in response["Content-Security-Policy"].split(";") if "frame-ancestors" in d]
    return directive.split()[1:]


def test_it_lets_the_inbox_allowed_origins_frame_the_widget(client, website):
    response = client.get(f"/widget/frame/{website.public_key}/")

    assert response.status_code == 200
    assert set(frame_ancestors(response)) == {"'self'", "https://shop.example"}
    # X-Frame-Options cannot name origins: any value would block the customer's site.
    assert "X-Frame-Options" not in response


def test_it_lets_only_parley_frame_the_widget_of_an_inbox_without_allowed_origins(client, other_inbox):
    response = client.get(f"/widget/frame/{other_inbox.public_key}/")

    assert response.status_code == 200
    assert frame_ancestors(response) == ["'self'"]


def test_it_names_the_inbox_in_the_frame(client, website):
    response = client.get(f"/widget/frame/{website.public_key}/")

    assert website.public_key in response.content.decode()
    assert "Website" in response.content.decode()


def frame_config(response) -> dict:
    found = re.search(r'<script id="parley-config" type="application/json">(.*?)</script>', response.content.decode())
    return json.loads(found.group(1))


@pytest.mark.parametrize(
    "smtp, offered",
    [
        ({"url": None, "mail_from": None}, False),
        ({"url": "smtp://mail.shop.example", "mail_from": None}, False),
        ({"url": None, "mail_from": "help@shop.example"}, False),
        ({"url": "smtp://mail.shop.example", "mail_from": "help@shop.example"}, True),
    ],
)
def test_it_offers_the_transcript_by_email_only_when_mail_can_go_out(client, website, smtp, offered):
    with override_settings(PARLEY_SMTP=smtp):
        response = client.get(f"/widget/frame/{website.public_key}/")

    assert frame_config(response)["transcript"] is offered


def test_it_answers_an_unknown_widget_with_404(client, website):
    assert client.get("/widget/frame/no-such-inbox/").status_code == 404


def test_it_serves_the_loader_as_javascript(client):
    response = client.get("/widget/loader.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b"data-inbox" in response.content
    # Any site may load the embed script.
    assert response["Access-Control-Allow-Origin"] == "*"


FRAME_SCRIPTS = ("frame.js", "uploads.js", "offline.js", "selfservice.js")


def frame_scripts(client, website) -> dict[str, str]:
    """{name: version} of the frame's own scripts, in the order the frame page loads them."""
    page = client.get(f"/widget/frame/{website.public_key}/").content.decode()
    return dict(re.findall(r'<script src="/widget/([a-z]+\.js)\?v=([0-9a-f]{12})"></script>', page))


def test_it_loads_the_frames_scripts_from_the_widget_in_order_each_under_its_version(client, website):
    # frame.js first: the others use the ParleyFrame it sets up.
    assert list(frame_scripts(client, website)) == list(FRAME_SCRIPTS)


def test_it_lets_browsers_keep_a_script_for_good_only_under_its_current_version(client, website):
    version = frame_scripts(client, website)["frame.js"]

    current = client.get(f"/widget/frame.js?v={version}")
    assert current["Cache-Control"] == "public, max-age=31536000, immutable"
    # A page from before an upgrade, or no version at all: today's script, briefly cached.
    for url in ("/widget/frame.js?v=000000000000", "/widget/frame.js"):
        response = client.get(url)
        assert response.content == current.content
        assert response["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize("name", FRAME_SCRIPTS)
def test_it_serves_the_frames_scripts_without_their_comments_and_indentation(client, name):
    response = client.get(f"/widget/{name}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    served = response.content.decode()
    assert served.startswith("(function () {")
    assert not re.search(r"(?m)^\s*//", served), "a whole-line comment is still there"
    assert not re.search(r"(?m)^[ \t]", served), "a line is still indented"
    assert '"use strict";' in served
    # Stripping indentation would change what a multi-line (template) string says.
    assert "`" not in served, "a template literal in the served script"


def test_it_serves_only_the_frames_own_scripts(client):
    assert client.get("/widget/text.js").status_code == 404
    assert client.get("/widget/settings.py").status_code == 404
    assert client.post("/widget/frame.js").status_code == 405
