"""contact_center/authentication.py: the agent behind every request, read in plain SQL."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contact_center.authentication import AgentBackend
from contact_center.models import Agent

pytestmark = pytest.mark.django_db


def test_it_loads_the_agent_the_orm_would_load_field_for_field(alice):
    Agent.objects.filter(pk=alice.pk).update(
        last_login=timezone.now(), last_assigned_at=timezone.now(), max_open_conversations=3, is_staff=True
    )
    expected = Agent.objects.get(pk=alice.pk)

    agent = AgentBackend().get_user(alice.pk)

    for field in Agent._meta.concrete_fields:
        assert getattr(agent, field.attname) == getattr(expected, field.attname), field.name
        assert type(getattr(agent, field.attname)) is type(getattr(expected, field.attname)), field.name
    assert agent._state.adding is False  # saving it updates the row, as for any loaded model
    agent.display_name = "Alice A."
    agent.save(update_fields=["display_name"])
    assert Agent.objects.get(pk=alice.pk).display_name == "Alice A."


def test_an_inactive_or_missing_agent_or_a_bad_id_is_nobody(alice):
    Agent.objects.filter(pk=alice.pk).update(is_active=False)

    assert AgentBackend().get_user(alice.pk) is None
    assert AgentBackend().get_user(alice.pk + 1000) is None
    assert AgentBackend().get_user("not a number") is None


def test_a_signed_in_agent_is_found_on_every_request(client, alice):
    assert client.login(username=alice.username, password="alice-password")
    assert client.get("/console/api/conversations/").status_code == 200
