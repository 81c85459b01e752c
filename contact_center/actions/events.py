"""Publishing realtime events, always after the transaction that caused them commits.

The channel layer only notifies; the database is the record. So a publish that fails (Redis down, a
full channel) is logged and dropped: clients resume from the database with the last seq they saw.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

# The consumer method that receives every published event: ``cc.event`` -> ``cc_event``.
EVENT_TYPE = "cc.event"


def send_event_on_commit(event: dict[str, Any], groups: Iterable[str]) -> None:
    """Publish ``event`` to ``groups`` once the current transaction commits (at once outside one)."""
    groups = list(groups)
    if groups:
        transaction.on_commit(lambda: publish(event, groups))


def publish(event: dict[str, Any], groups: list[str]) -> None:
    layer = get_channel_layer()
    message = {"type": EVENT_TYPE, "event": event}
    try:
        async_to_sync(_group_send_all)(layer, groups, message)
    except Exception:
        logger.warning(
            "could not publish %s to %s; clients will catch up on resume", event.get("type"), groups, exc_info=True
        )


async def _group_send_all(layer, groups: list[str], message: dict[str, Any]) -> None:
    for group in groups:
        await layer.group_send(group, message)
