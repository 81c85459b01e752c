"""Security headers on every kind of response: the Content-Security-Policy (contact_center/security_headers.py),
nosniff, Referrer-Policy and, with TLS, HSTS (docs/configuration.md, "Security headers"; decision D17)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from contact_center.models import Agent, Inbox, Label
from tests.test_settings import configured

pytestmark = pytest.mark.django_db


def csp(response) -> dict[str, list[str]]:
    """The response's policy as {directive: [sources]}; fails when there is none."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice in {header}"
        directives[name] = sources
    return directives


def assert_strict_scripts(policy: dict[str, list[str]]) -> None:
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources), policy


@pytest.fixture
def pages(client, alice, charlie):
    """Every kind of page Parley serves, fetched the way its users fetch them."""

    def get(path, agent=None, **headers):
        client.logout()
        if agent is not None:
            client.force_login(agent)
        return client.get(path, headers=headers)

    label = Label.objects.create(name="vip", color="red")
    root = Agent.objects.create_superuser("root", password="root-password")
    return {
        "login": get("/console/login/"),
        "console": get("/console/", alice),
        "settings": get("/console/settings/labels/", charlie),
        "label settings": get(f"/console/settings/labels/{label.pk}/", charlie),
        "password": get("/console/password/", alice),
        "json api": get("/console/api/labels/", alice),
        "static": get("/static/console/main.js"),
        "admin login": get("/admin/login/"),
        "admin form": get("/admin/contact_center/inbox/add/", root),
        "not found": get("/console/no-such-page/", alice),
    }


@pytest.mark.parametrize(
    "page",
    [
        "login",
        "console",
        "settings",
        "label settings",
        "password",
        "json api",
        "static",
        "admin login",
        "admin form",
        "not found",
    ],
)
def test_it_sends_the_strict_policy_on_every_page_of_parley(pages, page):
    response = pages[page]
    policy = csp(response)

    assert response.status_code in {200, 404}, response.status_code
    assert_strict_scripts(policy)
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_it_lets_the_console_reach_its_own_socket(client, alice):
    client.force_login(alice)
    with override_settings(PUBLIC_BASE_URL="http://testserver"):
        policy = csp(client.get("/console/"))

    assert policy["connect-src"] == ["'self'", "ws://testserver"]


def test_it_adds_public_base_url_when_the_page_is_reached_by_another_name(client, alice):
    # The embedded default answers on localhost and 127.0.0.1; attachment links name PUBLIC_BASE_URL.
    client.force_login(alice)
    with override_settings(PUBLIC_BASE_URL="http://127.0.0.1:8000"):
        policy = csp(client.get("/console/", headers={"Host": "localhost:8000"}))

    assert policy["img-src"] == ["'self'", "http://127.0.0.1:8000", "data:", "https:"]
    assert policy["connect-src"] == ["'self'", "http://127.0.0.1:8000", "ws://localhost:8000", "ws://127.0.0.1:8000"]


def test_it_lets_only_the_inbox_sites_frame_the_widget(client):
    inbox = Inbox.objects.create(
        name="Shop", kind=Inbox.Kind.WIDGET, allowed_origins=["https://shop.example", "http://localhost:3000"]
    )
    response = client.get(f"/widget/frame/{inbox.public_key}/?host=https%3A%2F%2Fshop.example")
    policy = csp(response)

    assert policy["frame-ancestors"] == ["'self'", "https://shop.example", "http://localhost:3000"]
    assert_strict_scripts(policy)
    assert "X-Frame-Options" not in response.headers


def test_it_allows_the_widget_frame_only_its_own_inline_style_by_nonce(client, website):
    first = client.get(f"/widget/frame/{website.public_key}/?host=https%3A%2F%2Fshop.example")
    second = client.get(f"/widget/frame/{website.public_key}/?host=https%3A%2F%2Fshop.example")
    nonces = [csp(response)["style-src"] for response in (first, second)]

    assert [sources[0] for sources in nonces] == ["'self'", "'self'"]
    assert nonces[0][1].startswith("'nonce-") and nonces[0] != nonces[1]
    nonce = nonces[0][1].removeprefix("'nonce-").removesuffix("'")
    assert f'<style nonce="{nonce}">'.encode() in first.content
    assert first.content.count(b"<style") == 1


def test_it_lets_any_site_frame_a_widget_that_allows_every_origin(client):
    inbox = Inbox.objects.create(name="Open", kind=Inbox.Kind.WIDGET, allowed_origins=["*"])

    policy = csp(client.get(f"/widget/frame/{inbox.public_key}/?host=https%3A%2F%2Fshop.example"))

    assert policy["frame-ancestors"] == ["*"]


def test_it_never_lets_a_stored_origin_add_a_directive(client):
    # Origins are checked when saved; one stored before that, or written by hand, is still only a source.
    inbox = Inbox.objects.create(
        name="Old",
        kind=Inbox.Kind.WIDGET,
        allowed_origins=["https://shop.example; script-src *", "https://ok.example/"],
    )

    policy = csp(client.get(f"/widget/frame/{inbox.public_key}/?host=https%3A%2F%2Fok.example"))

    assert policy["frame-ancestors"] == ["'self'", "https://ok.example"]
    assert policy["script-src"] == ["'self'"]


def test_it_gives_the_demo_shop_the_policy_a_strict_host_page_needs(client, website):
    policy = csp(client.get("/"))

    assert policy["script-src"] == ["'self'"]
    assert policy["frame-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]


def test_it_keeps_inline_script_and_style_attributes_out_of_the_templates(pages, client, website):
    # Markup the strict policy would block: the page would silently lose it in a browser.
    frame = client.get(f"/widget/frame/{website.public_key}/?host=https%3A%2F%2Fshop.example")
    for name, response in {**pages, "widget frame": frame}.items():
        if not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        assert " style=" not in html, name
        assert " onclick=" not in html and " onload=" not in html, name
        for script in html.split("<script")[1:]:
            head = script.split(">", 1)[0]
            assert " src=" in head or 'type="application/json"' in head, f"inline script in {name}: {head}"


# --- HSTS: on only when PUBLIC_BASE_URL is https ---------------------------------------------------------

HEADERS_PROBE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/console/login/", secure=True, headers={"Host": "chat.example.com"})
print(json.dumps({"status": response.status_code, "hsts": response.headers.get("Strict-Transport-Security")}))
"""


def test_it_sends_hsts_for_a_year_when_parley_is_on_https(tmp_path):
    found = configured(
        tmp_path, HEADERS_PROBE, DEBUG="1", PUBLIC_BASE_URL="https://chat.example.com", ALLOWED_HOSTS="chat.example.com"
    )

    assert found == {"status": 200, "hsts": "max-age=31536000"}


def test_it_sends_no_hsts_on_plain_http_or_when_turned_off(tmp_path):
    plain = configured(tmp_path, HEADERS_PROBE, DEBUG="1", ALLOWED_HOSTS="chat.example.com")
    off = configured(
        tmp_path,
        HEADERS_PROBE,
        DEBUG="1",
        PUBLIC_BASE_URL="https://chat.example.com",
        ALLOWED_HOSTS="chat.example.com",
        PARLEY_HSTS_SECONDS="0",
    )

    assert plain["hsts"] is None
    assert off["hsts"] is None
