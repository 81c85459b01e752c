"""Who is at their console, and whether an inbox can chat live right now.

An agent is present while at least one of their console sockets is alive, on any web node. Each socket
keeps a key of its own in Django's cache (Redis in production, so every node sees every socket; the
process's memory in the embedded default, which is the whole installation) and refreshes it every
``HEARTBEAT_SECONDS``. The key expires after ``SOCKET_TTL_SECONDS``: a web node that crashes never says
goodbye, and its sockets stop counting within that time instead of forever.

Finding an agent's socket keys needs an index (caches cannot list keys): a per-agent list of socket ids.
Two nodes updating it at once can lose one id; the heartbeat puts a missing id back, so the loss lasts
one heartbeat at most. Ids whose keys expired are pruned whenever the list is written.

The heartbeat is one per process, not one per socket: ``contact_center/console_sockets.py`` keeps the
process's open console sockets and refreshes them all with one ``sockets_alive`` call, a few cache
round trips whatever their number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from contact_center.lib.availability import check_business_hours, is_open, next_opening
from contact_center.models import Agent, Inbox

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20
# Three heartbeats: a busy event loop or a slow cache may delay one or two.
SOCKET_TTL_SECONDS = 3 * HEARTBEAT_SECONDS
_PREFIX = "presence:agent"


def _socket_key(agent_id: int, socket_id: str) -> str:
    return f"{_PREFIX}:{agent_id}:socket:{socket_id}"


def _index_key(agent_id: int) -> str:
    return f"{_PREFIX}:{agent_id}:sockets"


def socket_alive(agent_id: int, socket_id: str) -> None:
    """Record that console socket ``socket_id`` of the agent is open; ``sockets_alive`` for one socket."""
    sockets_alive([(agent_id, socket_id)])


def sockets_alive(sockets: Iterable[tuple[int, str]]) -> None:
    """Record that these ``(agent id, socket id)`` are open: on connect and every heartbeat. Four cache
    round trips however many sockets and agents (three when no index holds an id it need not)."""
    sockets = list(sockets)
    if not sockets:
        return
    ttl = SOCKET_TTL_SECONDS
    local: dict[int, list[str]] = {}
    for agent_id, socket_id in sockets:
        local.setdefault(agent_id, []).append(socket_id)
    cache.set_many({_socket_key(a, s): 1 for a, s in sockets}, timeout=ttl)
    indexes = cache.get_many([_index_key(a) for a in local])
    # Ids in the indexes that are not these sockets: sockets of other nodes (or closed ones) to keep
    # while their keys live.
    others = {
        _socket_key(agent_id, socket_id)
        for agent_id in local
        for socket_id in indexes.get(_index_key(agent_id)) or []
        if socket_id not in local[agent_id]
    }
    alive = cache.get_many(list(others)) if others else {}
    written = {}
    for agent_id, ours in local.items():
        index = indexes.get(_index_key(agent_id)) or []
        kept = [s for s in index if s in ours or _socket_key(agent_id, s) in alive]
        written[_index_key(agent_id)] = kept + [s for s in ours if s not in kept]
    # Rewritten even when unchanged: that is what keeps the index alive as long as a socket is.
    cache.set_many(written, timeout=ttl)


def socket_closed(agent_id: int, socket_id: str) -> None:
    """Forget a socket that closed cleanly (its id leaves the index on the next write)."""
    sockets_closed([(agent_id, socket_id)])


def sockets_closed(sockets: Iterable[tuple[int, str]]) -> None:
    """``socket_closed`` for many sockets, in one cache round trip."""
    keys = [_socket_key(a, s) for a, s in sockets]
    if keys:
        cache.delete_many(keys)


def present_agent_ids(agent_ids: Iterable[int]) -> set[int]:
    """Those of ``agent_ids`` with at least one live console socket. Two cache round trips in all."""
    agent_ids = list(agent_ids)
    if not agent_ids:
        return set()
    indexes = cache.get_many([_index_key(a) for a in agent_ids])
    keys = {
        _socket_key(agent_id, socket_id): agent_id
        for agent_id in agent_ids
        for socket_id in indexes.get(_index_key(agent_id)) or []
    }
    alive = cache.get_many(list(keys))
    return {keys[key] for key in alive}


@dataclass(frozen=True)
class InboxAvailability:
    """``live``: the widget offers live chat. Otherwise it offers the offline form; ``next_opening`` is
    when business hours start again (None when they are open now and only the agents are away)."""

    live: bool
    within_hours: bool
    next_opening: datetime | None


def inbox_availability(inbox: Inbox, at: datetime | None = None) -> InboxAvailability:
    """Live chat needs the inbox's business hours to be open at ``at`` (default now) and, when the inbox
    sets ``config["offline_without_agents"]``, a member agent who is online (chose "online" and has a
    console open). Inboxes with neither setting are always live, as before availability existed.

    Broken business hours are logged and ignored: a visitor is better served by live chat than by
    nothing.
    """
    at = at or timezone.now()
    try:
        hours = check_business_hours(inbox.config.get("business_hours"))
    except ValidationError as exc:
        logger.warning("inbox %s has invalid business_hours (%s); treated as always open", inbox.pk, exc.messages[0])
        hours = None
    if not is_open(hours, at):
        return InboxAvailability(live=False, within_hours=False, next_opening=next_opening(hours, at))
    if inbox.config.get("offline_without_agents"):
        candidates = inbox.members.filter(is_active=True, availability=Agent.Availability.ONLINE)
        if not present_agent_ids(candidates.values_list("pk", flat=True)):
            return InboxAvailability(live=False, within_hours=True, next_opening=None)
    return InboxAvailability(live=True, within_hours=True, next_opening=None)
