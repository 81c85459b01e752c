"""What agents change about a conversation as a whole: status, snooze, assignee, team, priority, read
position.

Every change is an activity entry on the timeline, written under the conversation's row lock and
published with the new summary to every console of the inbox, so open lists and threads update live.
Setting what is already set writes and publishes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from contact_center.access import access_conversation, assignable_agents
from contact_center.actions.events import send_event_on_commit
from contact_center.actions.timeline import append_activity, lock_conversation
from contact_center.lib import recipients
from contact_center.lib.csat import csat_enabled, csat_request
from contact_center.models import Agent, Conversation, Team, TimelineEntry

_STATUS_WORDS = {
    Conversation.Status.OPEN: "Reopened",
    Conversation.Status.PENDING: "Marked pending",
    Conversation.Status.SNOOZED: "Snoozed",
    Conversation.Status.RESOLVED: "Resolved",
}


def check_status(status) -> str:
    if status not in Conversation.Status.values:
        raise ValidationError(f"status is one of {', '.join(Conversation.Status.values)}")
    return status


def do_change_status(agent: Agent, conversation_id: int, status: str) -> Conversation:
    """Set the conversation's status and record who did it on the timeline.

    Resolving stamps ``resolved_at`` (any other status clears it) and, when the inbox runs a survey,
    asks the customer's live widget sessions to rate this resolution. Setting the status it already
    has changes and publishes nothing. Raises ``AccessDenied`` when the agent may not see the
    conversation and ``ValidationError`` for an unknown status. Returns the conversation as saved.
    """
    status = check_status(status)
    conversation = access_conversation(agent, conversation_id)
    with transaction.atomic():
        conversation = lock_conversation(conversation.pk)
        previous = conversation.status
        if previous == status:
            return conversation
        conversation.status = status
        conversation.resolved_at = timezone.now() if status == Conversation.Status.RESOLVED else None
        # Snoozed through this path means "until the customer writes": no alarm.
        conversation.snoozed_until = None
        if status == Conversation.Status.RESOLVED:
            # Resolved without a reply (spam, solved by phone): nobody is left waiting, no target runs.
            conversation.waiting_since = conversation.sla_due_at = None
        conversation.save(update_fields=["status", "resolved_at", "snoozed_until", "waiting_since", "sla_due_at"])
        # The summary in this entry's event carries the new status: console lists update from it.
        append_activity(
            conversation,
            body=_STATUS_WORDS[status],
            author=agent,
            payload={"event": "status", "from": previous, "to": status},
        )
        if status == Conversation.Status.RESOLVED and csat_enabled(conversation.inbox):
            send_event_on_commit(csat_request(conversation), recipients.visitor_groups(conversation))
    return conversation


# Further ahead than this is a typo, not a plan.
MAX_SNOOZE = timedelta(days=366)


def check_snooze_until(value, now: datetime | None = None) -> datetime:
    """An aware datetime in the future (within a year) from an ISO 8601 string; raises ValidationError."""
    now = now or timezone.now()
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError("until is an ISO 8601 date and time, like 2026-12-24T09:00:00+01:00") from None
    if not isinstance(value, datetime):
        raise ValidationError("until is an ISO 8601 date and time, like 2026-12-24T09:00:00+01:00")
    if timezone.is_naive(value):
        raise ValidationError("until needs a time zone offset, like 2026-12-24T09:00:00+01:00")
    if value <= now:
        raise ValidationError("until must be in the future")
    if value > now + MAX_SNOOZE:
        raise ValidationError("until is at most a year ahead")
    return value


def do_snooze(agent: Agent, conversation_id: int, until) -> Conversation:
    """Snooze the conversation until ``until`` (ISO 8601 with an offset, or an aware datetime).

    It leaves the agents' open views; the worker reopens it when the time comes (``do_wake_snoozed``),
    and a customer who writes first reopens it at once. Snoozing again moves the time. Raises
    ``AccessDenied`` and ``ValidationError`` (a time in the past, without an offset, over a year ahead).
    """
    until = check_snooze_until(until)
    conversation = access_conversation(agent, conversation_id)
    with transaction.atomic():
        conversation = lock_conversation(conversation.pk)
        previous = conversation.status
        if previous == Conversation.Status.SNOOZED and conversation.snoozed_until == until:
            return conversation
        conversation.status = Conversation.Status.SNOOZED
        conversation.snoozed_until = until
        conversation.resolved_at = None
        conversation.save(update_fields=["status", "snoozed_until", "resolved_at"])
        append_activity(
            conversation,
            # The console shows payload["until"] in the agent's own time zone; the body is the record.
            body=f"Snoozed until {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
            author=agent,
            payload={
                "event": "status",
                "from": previous,
                "to": Conversation.Status.SNOOZED,
                "until": until.isoformat(),
            },
        )
    return conversation


def do_wake_snoozed(now: datetime | None = None, limit: int = 100) -> int:
    """Reopen conversations whose snooze is over; returns how many. The outbox worker calls it every poll.

    Each is woken in its own transaction under its row lock, so a customer's message or an agent's
    change racing the wake-up is either seen (and nothing happens) or comes after it.
    """
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(status=Conversation.Status.SNOOZED, snoozed_until__lte=now)
        .order_by("snoozed_until")
        .values_list("pk", flat=True)[:limit]
    )
    woken = 0
    for conversation_id in due:
        with transaction.atomic():
            conversation = lock_conversation(conversation_id)
            if conversation.status != Conversation.Status.SNOOZED or not conversation.snoozed_until:
                continue
            if conversation.snoozed_until > now:
                continue  # snoozed again meanwhile
            conversation.status = Conversation.Status.OPEN
            conversation.snoozed_until = None
            conversation.save(update_fields=["status", "snoozed_until"])
            append_activity(
                conversation,
                body="Reopened: the snooze ended",
                payload={"event": "status", "from": Conversation.Status.SNOOZED, "to": Conversation.Status.OPEN},
            )
            woken += 1
    return woken


def check_assignee(conversation: Conversation, assignee_id) -> Agent | None:
    """The active agent who may see the conversation's inbox, or None for "nobody"; raises ValidationError."""
    if assignee_id is None:
        return None
    if isinstance(assignee_id, bool) or not isinstance(assignee_id, int):
        raise ValidationError("assignee is an agent id or null")
    assignee = assignable_agents(conversation.inbox_id).filter(pk=assignee_id).first()
    if assignee is None:
        raise ValidationError("that agent cannot see this inbox")
    return assignee


def do_assign(agent: Agent, conversation_id: int, assignee_id: int | None) -> Conversation:
    """Assign the conversation to ``assignee_id`` (an agent who can see its inbox), or to nobody (None).

    Any agent who can see the conversation may assign it, themselves included. Raises
    ``AccessDenied`` when ``agent`` may not see it and ``ValidationError`` for an assignee who could
    not work on it.
    """
    conversation = access_conversation(agent, conversation_id)
    assignee = check_assignee(conversation, assignee_id)
    with transaction.atomic():
        conversation = lock_conversation(conversation.pk)
        previous = conversation.assignee
        if (previous.pk if previous else None) == (assignee.pk if assignee else None):
            return conversation
        conversation.assignee = assignee
        conversation.save(update_fields=["assignee"])
        if assignee is None:
            body = "Unassigned"
        elif assignee.pk == agent.pk:
            body = f"{agent.public_name} took the conversation"
        else:
            body = f"Assigned to {assignee.public_name}"
        append_activity(
            conversation,
            body=body,
            author=agent,
            payload={
                "event": "assignment",
                "from": previous.pk if previous else None,
                "to": assignee.pk if assignee else None,
            },
        )
    return conversation


def check_team(team_id) -> Team | None:
    """The team, or None for "no team"; raises ValidationError for anything else."""
    if team_id is None:
        return None
    if isinstance(team_id, bool) or not isinstance(team_id, int):
        raise ValidationError("team is a team id or null")
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ValidationError("there is no such team")
    return team


def do_assign_team(agent: Agent, conversation_id: int, team_id: int | None) -> Conversation:
    """Give the conversation to a team (its Team view lists it), or to no team (None).

    The assignee, if any, stays: a team and a person are two levels, as in Zendesk's group and
    assignee. Raises ``AccessDenied`` and ``ValidationError`` (an unknown team).
    """
    team = check_team(team_id)
    conversation = access_conversation(agent, conversation_id)
    with transaction.atomic():
        conversation = lock_conversation(conversation.pk)
        previous = conversation.team
        if conversation.team_id == (team.pk if team else None):
            return conversation
        conversation.team = team
        conversation.save(update_fields=["team"])
        append_activity(
            conversation,
            body=f"Assigned to team {team.name}" if team else f"Removed from team {previous.name}",
            author=agent,
            payload={"event": "team", "from": previous.pk if previous else None, "to": team.pk if team else None},
        )
    return conversation


def check_priority(priority) -> int:
    if isinstance(priority, bool) or priority not in Conversation.Priority.values:
        names = ", ".join(f"{value} ({label.lower()})" for value, label in Conversation.Priority.choices)
        raise ValidationError(f"priority is one of {names}")
    return priority


def do_set_priority(agent: Agent, conversation_id: int, priority: int) -> Conversation:
    """Set the conversation's priority (0 none … 4 urgent). Raises ``AccessDenied``, ``ValidationError``."""
    priority = check_priority(priority)
    conversation = access_conversation(agent, conversation_id)
    with transaction.atomic():
        conversation = lock_conversation(conversation.pk)
        previous = conversation.priority
        if previous == priority:
            return conversation
        conversation.priority = priority
        conversation.save(update_fields=["priority"])
        append_activity(
            conversation,
            body=f"Priority set to {Conversation.Priority(priority).label.lower()}",
            author=agent,
            payload={"event": "priority", "from": previous, "to": priority},
        )
    return conversation


def do_mark_read(agent: Agent, conversation_id: int, seq: int) -> int | None:
    """Record that agents have read the conversation up to ``seq`` (the console's numbering).

    Stores the matching public seq (the visitor's numbering: the highest one at or below ``seq``) in
    ``agent_read_seq`` and tells the visitor. Never moves backwards: two agents, or a stale tab,
    reporting an older position change nothing. Returns the new public read seq, or None when it did
    not move. Raises ``AccessDenied`` when the agent may not see the conversation.
    """
    conversation = access_conversation(agent, conversation_id)
    public_seq = TimelineEntry.objects.filter(
        conversation_id=conversation.pk, seq__lte=seq, public_seq__isnull=False
    ).aggregate(top=Max("public_seq"))["top"]
    if not public_seq:
        return None
    # One conditional UPDATE is the whole monotonic rule: concurrent readers cannot move it back.
    moved = Conversation.objects.filter(pk=conversation.pk, agent_read_seq__lt=public_seq).update(
        agent_read_seq=public_seq
    )
    if not moved:
        return None
    send_event_on_commit(
        {"type": "read", "conversation": conversation.pk, "seq": public_seq}, recipients.visitor_groups(conversation)
    )
    # Consoles take it off their unread counts (the read position is the inbox's, not one agent's).
    send_event_on_commit(
        {"type": "conversation.read", "conversation": conversation.pk, "seq": public_seq},
        recipients.agent_groups(conversation),
    )
    return public_seq
