"""The sign-in page of `make run` shows the demo login; any other Parley's does not."""

from __future__ import annotations

import pytest
from django.test import override_settings

from contact_center.management.commands import serve
from contact_center.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

pytestmark = pytest.mark.django_db


def test_it_keeps_the_demo_login_off_the_sign_in_page_by_default(client):
    page = client.get("/console/login/").content.decode()

    assert "Sign in to the agent console" in page
    assert DEMO_PASSWORD not in page


def test_it_shows_the_demo_login_on_the_sign_in_page_under_serve_demo_banner(client, monkeypatch):
    served = []
    monkeypatch.setattr(serve.Command, "_serve_web", lambda self, *args, **kwargs: served.append(kwargs))

    with override_settings():  # whatever serve sets is undone on leaving
        serve.Command().handle(roles="web,worker", host="127.0.0.1", port=8000, demo_banner=True)
        page = client.get("/console/login/").content.decode()

    assert served
    assert DEMO_USERNAME in page
    assert DEMO_PASSWORD in page


def test_it_keeps_the_demo_login_off_the_sign_in_page_under_plain_serve(client, monkeypatch):
    monkeypatch.setattr(serve.Command, "_serve_web", lambda self, *args, **kwargs: None)

    with override_settings():
        serve.Command().handle(roles="web,worker", host="127.0.0.1", port=8000, demo_banner=False)
        page = client.get("/console/login/").content.decode()

    assert DEMO_PASSWORD not in page
