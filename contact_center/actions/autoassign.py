"""Automatic assignment: round robin among an inbox's online members, within each agent's capacity.

An inbox with ``config["auto_assign"] = true`` gives each new conversation to the next of its members
who is online (chose "online" and has a console open, contact_center/presence.py) and below their
capacity (``Agent.max_open_conversations`` open conversations; no limit when unset). "Next" is the
agent whose last automatic assignment is oldest, so agents take turns. When nobody can take it, the
conversation waits unassigned, and is given out as soon as someone comes online or gets below
capacity: the outbox worker runs ``do_assign_waiting`` on every pass, oldest waiting first.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from contact_center.actions.timeline import append_activity, lock_conversation
from contact_center.models import Agent, Conversation, Inbox
from contact_center.presence import present_agent_ids

# Conversations given out per inbox and pass: a burst beyond it waits for the next pass (2 s).
BATCH = 50


def auto_assign_enabled(inbox: Inbox) -> bool:
    return inbox.config.get("auto_assign") is True


def do_assign_waiting(batch: int = BATCH) -> int:
    """Give waiting conversations of auto-assign inboxes to available members; returns how many."""
    assigned = 0
    for inbox in Inbox.objects.filter(config__auto_assign=True):
        waiting = list(
            Conversation.objects.filter(inbox=inbox, status=Conversation.Status.OPEN, assignee__isnull=True)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not waiting:
            continue
        members = list(inbox.members.filter(is_active=True, availability=Agent.Availability.ONLINE))
        present = present_agent_ids(agent.pk for agent in members)
        candidates = [agent for agent in members if agent.pk in present]
        # Counted once per pass and kept up to date here; _assign recounts under the agent's lock.
        loads = open_load(agent.pk for agent in candidates)
        for conversation_id in waiting:
            agent = _next_agent(candidates, loads)
            if agent is None:
                break  # everyone is at capacity: the rest wait for the next pass
            if _assign(conversation_id, agent):
                loads[agent.pk] += 1
                assigned += 1
    return assigned


def open_load(agent_ids) -> dict[int, int]:
    """Open conversations assigned to each agent, across every inbox."""
    loads = dict.fromkeys(agent_ids, 0)
    rows = Conversation.objects.filter(assignee_id__in=loads, status=Conversation.Status.OPEN).values_list(
        "assignee_id", flat=True
    )
    for agent_id in rows:
        loads[agent_id] += 1
    return loads


def _next_agent(candidates: list[Agent], loads: dict[int, int]) -> Agent | None:
    """The candidate who waited longest for an assignment, among those below capacity."""
    below = [a for a in candidates if a.max_open_conversations is None or loads[a.pk] < a.max_open_conversations]
    if not below:
        return None
    return min(below, key=lambda a: (a.last_assigned_at or datetime.min.replace(tzinfo=UTC), a.pk))


def _assign(conversation_id: int, agent: Agent) -> bool:
    """Assign under both row locks, re-checking what may have changed since the candidates were read."""
    with transaction.atomic():
        conversation = lock_conversation(conversation_id)
        if conversation.assignee_id is not None or conversation.status != Conversation.Status.OPEN:
            return False
        # Locking the agent serialises capacity checks of concurrent workers: two cannot both give
        # the last free slot away.
        locked = Agent.objects.select_for_update().get(pk=agent.pk)
        if locked.max_open_conversations is not None and (
            open_load([locked.pk])[locked.pk] >= locked.max_open_conversations
        ):
            return False
        now = timezone.now()
        locked.last_assigned_at = agent.last_assigned_at = now
        locked.save(update_fields=["last_assigned_at"])
        conversation.assignee = locked
        conversation.save(update_fields=["assignee"])
        append_activity(
            conversation,
            body=f"Assigned to {locked.public_name} automatically",
            payload={"event": "assignment", "from": None, "to": locked.pk, "automatic": True},
        )
    return True
