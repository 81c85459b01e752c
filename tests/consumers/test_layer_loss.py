"""A socket whose web process lost its Redis subscriber (contact_center/redis_channel_layer.py).

Whatever was published while the connection was down is gone, so the socket must close for its client to
resume from the database (docs/protocols/widget-socket.md), and it must leave nothing behind in the layer.
"""

from __future__ import annotations

import logging
import uuid

import pytest
from channels.layers import get_channel_layer

from contact_center.redis_channel_layer import SubscriberLost
from tests.consumers import WAIT, hello, open_visitor, send
from tests.support.services import kill_subscriber, needs_redis, redis_url

pytestmark = [pytest.mark.django_db(transaction=True), needs_redis()]


@pytest.fixture
def redis_layer(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "contact_center.redis_channel_layer.RedisEventsLayer",
            "CONFIG": {"hosts": [redis_url()], "prefix": f"test-loss-{uuid.uuid4().hex[:8]}"},
        }
    }
    return get_channel_layer()


async def test_it_closes_with_1011_and_leaves_its_groups_when_the_subscriber_is_lost(website, redis_layer):
    communicator = await open_visitor(website, "vera")
    await hello(communicator)
    await send(communicator, "client-0001", "Hello?")  # now in its conversation's groups
    assert redis_layer._here().members

    await kill_subscriber(redis_url(), redis_layer)

    # The consumer fails (daphne closes the socket with 1011) after leaving as a disconnect would.
    with pytest.raises(SubscriberLost):
        await communicator.receive_output(timeout=WAIT)
    assert redis_layer._here().members == {}
    await redis_layer.flush()


def test_daphne_logs_no_traceback_for_a_socket_closed_by_a_lost_subscriber(caplog):
    # As settings.LOGGING configures daphne's logger; the layer itself logs the loss once.
    try:
        raise SubscriberLost("gone")
    except SubscriberLost as lost:
        logging.getLogger("daphne.server").error("Exception inside application: %s", lost, exc_info=lost)
    logging.getLogger("daphne.server").error("Exception inside application: %s", "other", exc_info=ValueError())

    assert [r.getMessage() for r in caplog.records if r.name == "daphne.server"] == [
        "Exception inside application: other"
    ]
