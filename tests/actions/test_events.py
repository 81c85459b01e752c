"""actions.events.send_event_on_commit: realtime events leave only after the transaction commits."""

from __future__ import annotations

import logging

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction
from django.test import override_settings

from contact_center.actions.events import EVENT_TYPE, send_event_on_commit

pytestmark = pytest.mark.django_db(transaction=True)

EVENT = {"type": "entry.created", "entry": {"id": 1}}

# A Redis nobody listens on (port 1 on loopback refuses connections): a channel layer that is down.
DOWN_LAYER = {
    "default": {
        "BACKEND": "contact_center.redis_channel_layer.RedisEventsLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_connect_timeout": 1}]},
    }
}


def test_it_publishes_nothing_before_the_transaction_commits(published):
    with transaction.atomic():
        send_event_on_commit(EVENT, ["inbox.1"])
        assert published == []

    assert published == [(EVENT, ["inbox.1"])]


def test_it_publishes_nothing_when_the_transaction_rolls_back(published):
    with pytest.raises(RuntimeError), transaction.atomic():
        send_event_on_commit(EVENT, ["inbox.1"])
        raise RuntimeError("rolled back")

    assert published == []


def test_it_drops_the_events_of_a_rolled_back_savepoint(published):
    with transaction.atomic():
        send_event_on_commit({"type": "kept"}, ["inbox.1"])
        with pytest.raises(RuntimeError), transaction.atomic():
            send_event_on_commit({"type": "dropped"}, ["inbox.1"])
            raise RuntimeError("inner block failed")

    assert published == [({"type": "kept"}, ["inbox.1"])]


def test_it_publishes_at_once_outside_a_transaction(published):
    send_event_on_commit(EVENT, ["inbox.1", "visitor.1.2"])

    assert published == [(EVENT, ["inbox.1", "visitor.1.2"])]


def test_it_publishes_nothing_to_no_groups(published):
    send_event_on_commit(EVENT, [])

    assert published == []


async def test_it_reaches_every_member_of_every_group_after_commit():
    layer = get_channel_layer()
    agent, visitor = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("inbox.1", agent)
    await layer.group_add("visitor.1.2", visitor)

    @database_sync_to_async
    def commit_an_event():
        with transaction.atomic():
            send_event_on_commit(EVENT, ["inbox.1", "visitor.1.2"])

    await commit_an_event()

    assert await layer.receive(agent) == {"type": EVENT_TYPE, "event": EVENT}
    assert await layer.receive(visitor) == {"type": EVENT_TYPE, "event": EVENT}


def test_it_logs_instead_of_raising_when_the_channel_layer_is_down(caplog):
    caplog.set_level(logging.WARNING, logger="contact_center.actions.events")

    with override_settings(CHANNEL_LAYERS=DOWN_LAYER), transaction.atomic():
        send_event_on_commit(EVENT, ["inbox.1"])
    # Reaching this line is the point: the commit that triggered the publish did not fail.

    [record] = [r for r in caplog.records if r.name == "contact_center.actions.events"]
    assert record.levelno == logging.WARNING
    assert "entry.created" in record.getMessage()
    assert "inbox.1" in record.getMessage()
    assert record.exc_info is not None
