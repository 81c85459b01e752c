"""Origins, compared as browsers compare them: scheme, host and port (widget/origins.py, contact_center/lib/origins.py).

The widget's HTTP endpoints and socket allow Parley's own origin and the inbox's allowed origins; the
console socket allows Parley's own origin only. Hostile or malformed Origin headers are refused (403,
close 4403, or a refused handshake), never a 500.
"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from contact_center.lib.origins import is_parley_origin, parse_origin
from tests.consumers import WAIT, close_code, console_socket, disconnect_all, session_cookie, visitor_socket
from widget.origins import origin_allowed
from widget.tokens import issue_visitor_token

SHOP = ["https://shop.example"]
LOOPBACK_PARLEY = "http://127.0.0.1:8000"
# Not origins at all, or not ones a browser would send: each once made origin_allowed raise or guess.
MALFORMED = [
    "http://127.0.0.1:abc",
    "http://localhost:8000x",
    "https://shop.example:99999",
    "https://shop.example:0",
    "https://shop.example:",
    "http://[::1",
    "http://[zz::1]:8000",
    "null",
    "",
    "shop.example",
    "https://shop.example/path",
    "https://shop.example?q=1",
    "https://user@shop.example",
    "javascript:alert(1)",
    "ftp://shop.example",
    "https://shop.example, https://evil.example",
    "https://shop example",
    " https://shop.example",
    "https://" + "a" * 600 + ".example",
]


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://shop.example", ("https", "shop.example", 443)),
        ("HTTPS://Shop.Example/", ("https", "shop.example", 443)),
        ("https://shop.example:443", ("https", "shop.example", 443)),
        ("http://shop.example", ("http", "shop.example", 80)),
        ("http://127.0.0.1:8000", ("http", "127.0.0.1", 8000)),
        ("http://[::1]:8000", ("http", "::1", 8000)),
    ],
)
def test_it_parses_an_origin_with_its_default_port_made_explicit(origin, expected):
    assert parse_origin(origin) == expected


@pytest.mark.parametrize("origin", [*MALFORMED, None, 42])
def test_it_parses_a_malformed_origin_to_none_without_raising(origin):
    assert parse_origin(origin) is None


@pytest.mark.parametrize("origin", ["https://shop.example", "https://shop.example:443", "https://SHOP.example/"])
def test_it_allows_the_inbox_origin_with_or_without_its_default_port(origin):
    assert origin_allowed(origin, SHOP)


@pytest.mark.parametrize(
    "origin",
    ["http://shop.example", "https://shop.example:8443", "https://www.shop.example", "https://shop.example.evil"],
)
def test_it_refuses_another_scheme_port_or_host_of_an_allowed_origin(origin):
    assert not origin_allowed(origin, SHOP)


def test_it_tells_http_and_https_allowed_origins_apart():
    assert origin_allowed("http://shop.example", ["http://shop.example"])
    assert not origin_allowed("https://shop.example", ["http://shop.example"])


@pytest.mark.parametrize("origin", MALFORMED)
def test_it_refuses_a_malformed_origin_even_when_every_origin_is_allowed(origin):
    assert not origin_allowed(origin, ["*"])


@override_settings(PUBLIC_BASE_URL=LOOPBACK_PARLEY)
@pytest.mark.parametrize("origin", ["http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000"])
def test_it_takes_every_loopback_name_with_the_same_scheme_and_port_for_parley(origin):
    assert is_parley_origin(origin)
    assert origin_allowed(origin, [])


@override_settings(PUBLIC_BASE_URL=LOOPBACK_PARLEY)
@pytest.mark.parametrize(
    "origin", ["https://127.0.0.1:8000", "https://localhost:8000", "http://localhost:8001", "http://localhost"]
)
def test_it_does_not_take_another_scheme_or_port_of_loopback_for_parley(origin):
    assert not is_parley_origin(origin)
    assert not origin_allowed(origin, [])


@override_settings(PUBLIC_BASE_URL="https://parley.example")
@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://parley.example", True),
        ("https://parley.example:443", True),
        ("http://parley.example", False),
        ("https://parley.example:8443", False),
        ("https://localhost", False),
    ],
)
def test_it_takes_only_the_exact_public_base_url_origin_for_parley(origin, expected):
    assert is_parley_origin(origin) is expected


# --- Every widget HTTP endpoint, with Parley on loopback (where a port like "abc" used to raise) --------


def _widget_requests(client, token: str, origin: str):
    headers = {"Origin": origin}
    body = {"token": token, "inbox": "", "text": "refund", "article": 1, "outcome": "answered", "body": "Hi"}
    for path in ["poll", "messages", "availability", "offline", "transcript", "suggestions", "deflections"]:
        yield path, client.post(f"/widget/api/{path}/", json.dumps(body), "application/json", headers=headers)
    yield "articles", client.get("/widget/api/articles/1/", headers={**headers, "Authorization": f"Bearer {token}"})
    yield "uploads", client.post("/widget/api/uploads/", {"token": token}, headers=headers)


@pytest.mark.django_db
@override_settings(PUBLIC_BASE_URL=LOOPBACK_PARLEY)
@pytest.mark.parametrize("origin", [*MALFORMED[:8], "http://localhost:8001", "https://127.0.0.1:8000"])
def test_it_answers_403_to_a_malformed_or_foreign_origin_on_every_widget_endpoint(client, website, origin):
    token = issue_visitor_token(website.public_key, "vera")
    body = json.dumps({"inbox": website.public_key})
    answers = {"session": client.post("/widget/api/session/", body, "application/json", headers={"Origin": origin})}
    answers.update(_widget_requests(client, token, origin))

    assert {path: response.status_code for path, response in answers.items()} == dict.fromkeys(answers, 403)


@pytest.mark.django_db
@override_settings(PUBLIC_BASE_URL=LOOPBACK_PARLEY)
def test_it_issues_a_session_to_the_frame_reached_by_another_loopback_name(client, website):
    response = client.post(
        "/widget/api/session/",
        json.dumps({"inbox": website.public_key}),
        "application/json",
        headers={"Origin": "http://localhost:8000"},
    )

    assert response.status_code == 200


# --- The sockets -------------------------------------------------------------------------------------

CLOSE_BAD_ORIGIN = 4403


@pytest.mark.django_db(transaction=True)
@override_settings(PUBLIC_BASE_URL=LOOPBACK_PARLEY)
@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:abc", "https://shop.example:99999", "null", "http://shop.example"]
)
async def test_it_closes_the_visitor_socket_with_4403_for_a_malformed_or_foreign_origin(website, origin):
    communicator = visitor_socket(issue_visitor_token(website.public_key, "vera"), origin=origin)

    assert await close_code(communicator) == CLOSE_BAD_ORIGIN
    await disconnect_all()


@pytest.mark.django_db(transaction=True)
@override_settings(PUBLIC_BASE_URL=LOOPBACK_PARLEY)
@pytest.mark.parametrize("origin", ["http://127.0.0.1:8000", "http://localhost:8000"])
async def test_it_opens_the_console_socket_from_parleys_own_origin(alice, origin):
    communicator = console_socket(await session_cookie(alice), origin=origin)
    connected, _ = await communicator.connect(timeout=WAIT)

    assert connected
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@override_settings(PUBLIC_BASE_URL=LOOPBACK_PARLEY)
@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:8001",  # another port of the same host: another site
        "https://127.0.0.1:8000",
        "http://127.0.0.1",
        "http://127.0.0.1:abc",
        "null",
        "https://evil.example",
    ],
)
async def test_it_refuses_the_console_socket_from_another_port_scheme_or_a_malformed_origin(alice, origin):
    connected, _ = await console_socket(await session_cookie(alice), origin=origin).connect(timeout=WAIT)

    assert not connected
    # A refused handshake leaves the application (Channels' WebsocketDenier) running until it hears the
    # disconnect a server would send; one left running once hung this test's event-loop teardown in CI.
    await disconnect_all()
