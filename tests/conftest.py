"""Shared fixtures: named personas and a captured event stream.

Personas (as in healthchecks' hc/test.py): Alice is an agent of the website inbox, Bob an agent
outside it, Charlie an admin who sees everything. Two visitors, Vera and Victor, use the widget.
"""

from __future__ import annotations

import logging
import time

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import channel_layers
from django.core.cache import cache
from django.db import connections
from django.test import override_settings

from contact_center import database_threads
from contact_center.actions import events
from contact_center.actions.settings_admin import do_save_agent
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.models import Agent, Inbox


@pytest.fixture(scope="session", autouse=True)
def _close_socket_thread_connections(django_db_setup):
    """Socket code reaches the database on its pool of threads (contact_center/database_threads.py), and
    other code on asgiref's one shared thread, whose connections persist (DATABASE_CONN_MAX_AGE). Close
    them before the test database is dropped: PostgreSQL refuses to drop a database someone is connected
    to."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result()
    database_threads.close_connections()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets a fresh layer: the in-memory one keeps groups across tests otherwise."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits count in the cache: each test starts from zero. Always in memory, even when REDIS_URL
    is set: clearing a Redis cache is FLUSHDB, which would wipe whatever else shares that database."""
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        cache.clear()
        yield
        cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """PBKDF2 costs ~100 ms a login; the personas log in hundreds of times. Production keeps PBKDF2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_outbox_settings():
    with override_settings(
        PARLEY_OUTBOX={
            "max_attempts": 3,
            "lease_seconds": 60,
            "backoff_base_seconds": 2,
            "backoff_cap_seconds": 60,
            "poll_seconds": 0.05,
        }
    ):
        yield


@pytest.fixture
def website(db):
    return Inbox.objects.create(name="Website", kind=Inbox.Kind.WIDGET, allowed_origins=["https://shop.example"])


@pytest.fixture
def other_inbox(db):
    return Inbox.objects.create(name="Partner site", kind=Inbox.Kind.WIDGET)


@pytest.fixture
def alice(website):
    agent = Agent.objects.create_user("alice", password="alice-password", display_name="Alice")
    website.members.add(agent)
    return agent


@pytest.fixture
def bob(other_inbox):
    agent = Agent.objects.create_user("bob", password="bob-password", display_name="Bob")
    other_inbox.members.add(agent)
    return agent


@pytest.fixture
def charlie(db):
    return Agent.objects.create_user("charlie", password="charlie-password", role=Agent.Role.ADMIN)


def visitor_envelope(inbox, visitor="vera", body="Hello", external_id="m1", **extra) -> InboundEnvelope:
    return InboundEnvelope(
        inbox_id=inbox.pk,
        external_id=external_id,
        sender=Sender(kind="visitor", value=visitor),
        body=body,
        **extra,
    )


def save_agent(admin, agent, inbox_ids, **changes):
    """``do_save_agent`` as the settings form sends it: the agent's fields as they are, with ``changes``."""
    fields = {
        "display_name": agent.display_name,
        "email": agent.email,
        "role": agent.role,
        "is_active": agent.is_active,
        "team_ids": [],
        "max_open_conversations": None,
        "avatar_url": agent.avatar_url,
    }
    return do_save_agent(admin, agent.pk, inbox_ids=inbox_ids, **{**fields, **changes})


@pytest.fixture
def published(monkeypatch):
    """Every event the actions publish, as (event, groups), recorded when it would be sent.

    Publishing happens on commit, so under the default (non-transactional) django_db mark use
    ``django_capture_on_commit_callbacks(execute=True)`` around the action.
    """
    calls: list[tuple[dict, list[str]]] = []
    monkeypatch.setattr(events, "publish", lambda event, groups: calls.append((event, list(groups))))
    return calls


@pytest.fixture
def whole_rate_window():
    """Rate limits count in fixed windows that start over on the minute (contact_center/lib/ratelimit.py):
    a test whose requests straddle a boundary sees its count restart, and the refusal it expects does not
    come. Tests that count to a refusal start with at least 5 s of the current minute left."""
    left = 60 - time.time() % 60
    if left < 5:
        time.sleep(left + 0.05)


@pytest.fixture
def no_error_logged(caplog):
    """Fails the test if anything was logged at ERROR: a consumer's traceback and a 500 (django.request)
    both are, so hostile-input tests use it to prove neither happened."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == [], [record.getMessage() for record in errors]
