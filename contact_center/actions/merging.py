"""Merging two conversations of one customer, and moving a conversation to another inbox.

Both rewrite where timeline entries live, so both run under the row locks of every conversation
they touch and leave the seq rules intact: a merged timeline still numbers its entries 1, 2, 3...
with no gaps (and its public entries too), so no console or widget loses its place.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, prefetch_related_objects
from django.utils import timezone

from contact_center.access import access_conversation, assignable_agents, visible_conversations, visible_inboxes
from contact_center.actions.events import send_event_on_commit
from contact_center.actions.timeline import append_activity, lock_conversation
from contact_center.lib import payloads, recipients
from contact_center.models import Agent, Conversation, Inbox, Mention, SatisfactionRating, TimelineEntry


def do_merge(agent: Agent, source_id: int, target_id: int) -> Conversation:
    """Merge conversation ``source_id`` into ``target_id``: the customer's two threads become one.

    Both must be the same customer's, in the same inbox, and visible to ``agent``. The target's
    timeline gains an activity line ("Merged conversation #12 into this one") followed by every
    entry of the source in its original order, renumbered after the target's. Mentions and survey
    ratings follow their entries; the target gains the source's labels. The target is reopened if
    the source was open (someone is waiting), takes the higher priority, and the source's assignee
    when it had none. The source is
    left empty and resolved, pointing at the target (``merged_into``) so links, email replies and
    widgets still naming it arrive in the target. Raises ``AccessDenied`` and ``ValidationError``.
    Returns the target as saved.
    """
    if isinstance(target_id, bool) or not isinstance(target_id, int):
        raise ValidationError("into is a conversation id")
    if source_id == target_id:
        raise ValidationError("a conversation cannot be merged into itself")
    access_conversation(agent, source_id)
    access_conversation(agent, target_id)
    with transaction.atomic():
        # In id order, so two agents merging the same pair in opposite directions cannot deadlock.
        locked = {pk: lock_conversation(pk) for pk in sorted([source_id, target_id])}
        source, target = locked[source_id], locked[target_id]
        _check_mergeable(source, target)
        extra_labels = [label for label in source.labels.all() if label not in set(target.labels.all())]
        if extra_labels:
            target.labels.add(*extra_labels)
            # Summaries are built from the prefetched labels, which add() dropped: load them again.
            prefetch_related_objects([target], "labels")
        # Someone is waiting in an open source: the merged conversation must not stay closed. Reopened
        # first, so every activity line is published in seq order and no console sees a gap.
        previous = target.status
        if source.status == Conversation.Status.OPEN and previous != Conversation.Status.OPEN:
            target.status, target.resolved_at, target.snoozed_until = Conversation.Status.OPEN, None, None
            append_activity(
                target,
                body="Reopened: merged with an open conversation",
                payload={"event": "status", "from": previous, "to": Conversation.Status.OPEN},
            )
        moved = source.last_seq
        entries = "1 entry" if moved == 1 else f"{moved} entries"
        append_activity(
            target,
            body=f"Merged conversation #{source.pk} into this one ({entries} below)",
            author=agent,
            payload={"event": "merge", "from": source.pk, "entries": moved},
        )
        TimelineEntry.objects.filter(conversation=source).update(
            conversation=target,
            seq=F("seq") + target.last_seq,
            public_seq=F("public_seq") + target.last_public_seq,  # stays null for internal entries
        )
        Mention.objects.filter(conversation=source).update(conversation=target)
        SatisfactionRating.objects.filter(conversation=source).update(conversation=target)
        Conversation.objects.filter(merged_into=source).update(merged_into=target)
        if source.last_customer_seq:
            target.last_customer_seq = source.last_customer_seq + target.last_public_seq
        # Whoever waited longest in either still waits, against the earlier target.
        target.waiting_since = _earliest(target.waiting_since, source.waiting_since)
        target.sla_due_at = _earliest(target.sla_due_at, source.sla_due_at)
        target.last_seq += source.last_seq
        target.last_public_seq += source.last_public_seq
        target.priority = max(target.priority, source.priority)
        # The source's entries now come last in the target: its newest message is the target's.
        if source.preview_from:
            target.preview, target.preview_from = source.preview, source.preview_from
        if target.assignee is None and source.assignee is not None:
            target.assignee = source.assignee
        target.save()
        source.merged_into = target
        source.status = Conversation.Status.RESOLVED
        source.resolved_at = timezone.now()
        source.snoozed_until = None
        source.save(update_fields=["merged_into", "status", "resolved_at", "snoozed_until"])
        # Consoles drop the source from their lists and reload the target if either is on screen;
        # the target's entries were not published one by one (there may be thousands).
        send_event_on_commit(
            {
                "type": "conversation.merged",
                "conversation": payloads.conversation_summary(source),
                "into": payloads.conversation_summary(target),
            },
            recipients.agent_groups(target),
        )
    return target


def _earliest(*times):
    known = [t for t in times if t is not None]
    return min(known) if known else None


# The "Merge into" menu offers the customer's most recent conversations; older ones are rarely meant.
MERGE_TARGETS = 20


def merge_targets(agent: Agent, conversation: Conversation) -> list[Conversation]:
    """The conversations ``conversation`` may be merged into: the same customer's, in the same inbox,
    not merged themselves, newest first."""
    return list(
        visible_conversations(agent)
        .filter(customer_id=conversation.customer_id, inbox_id=conversation.inbox_id, merged_into__isnull=True)
        .exclude(pk=conversation.pk)
        .order_by("-last_activity_at", "-pk")[:MERGE_TARGETS]
    )


def _check_mergeable(source: Conversation, target: Conversation) -> None:
    if source.merged_into_id is not None:
        raise ValidationError(f"conversation #{source.pk} was already merged into #{source.merged_into_id}")
    if target.merged_into_id is not None:
        raise ValidationError(
            f"conversation #{target.pk} was merged into #{target.merged_into_id}: merge into that one"
        )
    if source.customer_id != target.customer_id:
        raise ValidationError("only conversations of the same customer can be merged")
    if source.inbox_id != target.inbox_id:
        raise ValidationError("only conversations of the same inbox can be merged; the customer's timeline shows both")


def check_move_target(agent: Agent, conversation: Conversation, inbox_id) -> Inbox:
    """The inbox ``conversation`` may move to for ``agent``; raises ValidationError.

    Only between inboxes of the same channel: the inbox is where replies go out from (its address,
    its phone number). A live chat stays in its website's inbox, where the visitor's widget finds it.
    """
    if isinstance(inbox_id, bool) or not isinstance(inbox_id, int):
        raise ValidationError("inbox is an inbox id")
    target = visible_inboxes(agent).filter(pk=inbox_id).first()
    if target is None:
        raise ValidationError("you cannot see that inbox")
    source = conversation.inbox
    if target.pk == source.pk:
        return target
    if source.kind == Inbox.Kind.WIDGET:
        raise ValidationError("a live chat stays in its website's inbox; assign it to someone instead")
    if target.kind != source.kind:
        channel = source.get_kind_display()
        raise ValidationError(f"a conversation from {channel} can only move to another {channel} inbox")
    return target


def move_targets(agent: Agent, conversation: Conversation) -> list[Inbox]:
    """The inboxes the console offers in "Move to": the ones ``check_move_target`` accepts, by name."""
    if conversation.inbox.kind == Inbox.Kind.WIDGET:
        return []
    return list(
        visible_inboxes(agent).filter(kind=conversation.inbox.kind).exclude(pk=conversation.inbox_id).order_by("name")
    )


def do_move_to_inbox(agent: Agent, conversation_id: int, inbox_id: int) -> Conversation:
    """Move the conversation and all its entries to another inbox of the same channel.

    The assignee stays if they can see the new inbox and is unassigned otherwise. Agents of the old
    inbox who cannot see the new one get ``conversation.removed``; the new inbox's consoles get the
    activity entry like any other. Raises ``AccessDenied`` and ``ValidationError``.
    """
    conversation = access_conversation(agent, conversation_id)
    target = check_move_target(agent, conversation, inbox_id)
    with transaction.atomic():
        conversation = lock_conversation(conversation.pk)
        source = conversation.inbox
        if source.pk == target.pk:
            return conversation
        try:
            with transaction.atomic():
                TimelineEntry.objects.filter(conversation=conversation).update(inbox=target)
        except IntegrityError:
            # (inbox, external_id) is unique: the same provider message is already stored there.
            raise ValidationError(f"some of these messages are already in {target.name}") from None
        previous_assignee = conversation.assignee
        if previous_assignee and not assignable_agents(target.pk).filter(pk=previous_assignee.pk).exists():
            conversation.assignee = None
        conversation.inbox = target
        conversation.save(update_fields=["inbox", "assignee"])
        left_behind = list(
            Agent.objects.filter(inboxes=source, role=Agent.Role.AGENT)
            .exclude(inboxes=target)
            .values_list("pk", flat=True)
        )
        append_activity(
            conversation,
            body=f"Moved from {source.name} to {target.name}"
            + (
                f"; unassigned from {previous_assignee.public_name}"
                if conversation.assignee is None and previous_assignee
                else ""
            ),
            author=agent,
            payload={"event": "inbox", "from": source.pk, "to": target.pk},
        )
        if left_behind:
            send_event_on_commit(
                {"type": "conversation.removed", "conversation": conversation.pk},
                [recipients.agent_group(pk) for pk in left_behind],
            )
    return conversation
