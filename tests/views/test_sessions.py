"""Agent sessions: kept in the database, read through the cache, and never lost with the cache."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import override_settings

from tests.support.live import free_port

pytestmark = pytest.mark.django_db

API = "/console/api/labels/"


def test_a_signed_in_agent_is_served_from_the_cache_without_reading_the_session_table(
    client, alice, django_assert_num_queries
):
    client.force_login(alice)

    # The agent's row and the labels; the session itself comes from the cache.
    with django_assert_num_queries(2):
        assert client.get(API).status_code == 200


def test_a_session_the_cache_lost_is_read_back_from_the_database(client, alice, django_assert_num_queries):
    client.force_login(alice)
    cache.clear()

    with django_assert_num_queries(3):  # the session, the agent, the labels
        assert client.get(API).status_code == 200
    with django_assert_num_queries(2):  # ... and it is in the cache again
        assert client.get(API).status_code == 200


def test_agents_stay_signed_in_while_the_cache_is_unreachable(client, alice):
    client.force_login(alice)
    # Nothing listens there: every cache call fails at once, as during a Redis outage.
    unreachable = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
    }
    with override_settings(CACHES={"default": unreachable}):
        assert client.get(API).status_code == 200
        assert client.get(API).status_code == 200


def test_signing_out_ends_the_session_in_the_cache_and_the_database(client, alice):
    client.force_login(alice)
    assert client.get(API).status_code == 200

    client.post("/console/logout/")

    assert client.get(API).status_code == 302
    assert not Session.objects.exists()
