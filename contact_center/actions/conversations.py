"""What agents change about a conversation as a whole: its status, how far they have read it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from contact_center.access import access_conversation
from contact_center.actions.events import send_event_on_commit
from contact_center.actions.timeline import append_entry, lock_conversation
from contact_center.lib import recipients
from contact_center.lib.csat import csat_enabled, csat_request
from contact_center.models import Agent, Conversation, TimelineEntry

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
        conversation.save(update_fields=["status", "resolved_at"])
        # The summary in this entry's event carries the new status: console lists update from it.
        append_entry(
            conversation,
            kind=TimelineEntry.Kind.ACTIVITY,
            direction=TimelineEntry.Direction.INTERNAL,
            body=_STATUS_WORDS[status],
            author=agent,
            payload={"event": "status", "from": previous, "to": status},
        )
        if status == Conversation.Status.RESOLVED and csat_enabled(conversation.inbox):
            send_event_on_commit(csat_request(conversation), recipients.visitor_groups(conversation))
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
    return public_seq
