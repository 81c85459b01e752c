"""What agents write: replies to customers and internal notes, with files the agent uploaded."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from contact_center.access import access_conversation, assignable_agents
from contact_center.actions.attachments import check_attachment_ids, claim_attachments
from contact_center.actions.events import send_event_on_commit
from contact_center.actions.outbox import enqueue_delivery
from contact_center.actions.reply_via import check_via
from contact_center.actions.timeline import append_entry, lock_conversation
from contact_center.lib import payloads, recipients
from contact_center.models import Agent, Mention, TimelineEntry


def check_body(body: str, *, allow_empty: bool = False) -> str:
    """``body`` trimmed; raises ``ValidationError`` when it is too long, or empty unless ``allow_empty``
    (a message that carries attachments needs no text)."""
    body = (body or "").strip()
    if not body and not allow_empty:
        raise ValidationError("a message cannot be empty")
    if len(body) > settings.PARLEY_MESSAGE_MAX_CHARS:
        raise ValidationError(f"a message is at most {settings.PARLEY_MESSAGE_MAX_CHARS} characters")
    return body


def do_send_reply(
    agent: Agent,
    conversation_id: int,
    body: str,
    *,
    client_id: str | None = None,
    via: int | None = None,
    attachments: list[int] | None = None,
) -> TimelineEntry:
    """Write ``agent``'s reply and its outbox row in one transaction; a worker delivers it.

    ``via`` (an identity id of the customer) sends it to that address instead of over the conversation's
    own channel (actions/reply_via.py); ``attachments`` are ids of the agent's own unsent uploads to the
    conversation's inbox, bound to the reply (which then needs no text). Idempotent on ``client_id``:
    the console's resend of a reply it never saw acknowledged returns the stored entry. Records the
    conversation's first response time. Raises ``AccessDenied`` when the agent may not see the
    conversation and ``ValidationError`` for an empty or oversized body, a ``via`` that cannot be
    answered, or an attachment that is not available.
    """
    attachment_ids = check_attachment_ids(attachments)
    body = check_body(body, allow_empty=bool(attachment_ids))
    return _write(
        agent, conversation_id, body, client_id, kind=TimelineEntry.Kind.MESSAGE, via=via, files=attachment_ids
    )


def do_add_note(
    agent: Agent, conversation_id: int, body: str, *, client_id: str | None = None, attachments: list[int] | None = None
) -> TimelineEntry:
    """An internal note: agents of the inbox see it, the customer never does. ``attachments`` as for
    ``do_send_reply``.

    Each ``@username`` of an active agent who can see the inbox (other than the writer) is a mention:
    a ``Mention`` row, the ids in ``payload["mentions"]``, and a ``mention`` event to that agent's
    consoles. Other @words are left as text.
    """
    attachment_ids = check_attachment_ids(attachments)
    body = check_body(body, allow_empty=bool(attachment_ids))
    return _write(agent, conversation_id, body, client_id, kind=TimelineEntry.Kind.NOTE, files=attachment_ids)


_MENTION = re.compile(r"(?<![\w@.])@([\w.+-]+)")


def mentioned_agents(conversation, writer: Agent, body: str) -> list[Agent]:
    """The agents ``body`` mentions, in the order first named."""
    names = list(dict.fromkeys(name.rstrip(".").lower() for name in _MENTION.findall(body)))
    if not names:
        return []
    found = {a.username.lower(): a for a in assignable_agents(conversation.inbox_id).filter(username__in=names)}
    return [found[name] for name in names if name in found and found[name].pk != writer.pk]


def _write(
    agent: Agent,
    conversation_id: int,
    body: str,
    client_id: str | None,
    *,
    kind: str,
    via: int | None = None,
    files: tuple[int, ...] = (),
) -> TimelineEntry:
    conversation = access_conversation(agent, conversation_id)
    external_id = f"agent:{agent.pk}:{client_id}" if client_id else None
    is_reply = kind == TimelineEntry.Kind.MESSAGE
    with transaction.atomic():
        conversation = lock_conversation(conversation.pk)
        # Looked up under the conversation's lock: a resend racing the original waits here for it to
        # commit and then finds it, instead of failing on the (inbox, external_id) constraint.
        if external_id:
            stored = TimelineEntry.objects.filter(inbox_id=conversation.inbox_id, external_id=external_id).first()
            if stored is not None:
                return stored
        reply_via = check_via(agent, conversation, via) if is_reply else None
        claim_attachments(conversation.inbox_id, f"agent:{agent.pk}", files)
        mentions = [] if is_reply else mentioned_agents(conversation, agent, body)
        payload = {"client_id": client_id} if client_id else {}
        if mentions:
            payload["mentions"] = [m.pk for m in mentions]
        if reply_via is not None:
            payload["via"] = reply_via.payload()
        entry = append_entry(
            conversation,
            kind=kind,
            direction=TimelineEntry.Direction.OUT if is_reply else TimelineEntry.Direction.INTERNAL,
            body=body,
            author=agent,
            payload=payload,
            external_id=external_id,
            delivery_status=TimelineEntry.DeliveryStatus.QUEUED if is_reply else "",
            attachment_ids=files,
        )
        if mentions:
            _record_mentions(conversation, entry, mentions)
        if is_reply:
            # Offline-mode conversations are answered by email, whatever the inbox's own channel.
            default = "email" if conversation.reply_email else conversation.inbox.kind
            enqueue_delivery(entry, reply_via.transport if reply_via else default)
            if conversation.first_response_at is None:
                conversation.first_response_at = entry.created_at
                conversation.save(update_fields=["first_response_at"])
    return entry


def _record_mentions(conversation, entry: TimelineEntry, agents: list[Agent]) -> None:
    Mention.objects.bulk_create([Mention(entry=entry, agent=a, conversation=conversation) for a in agents])
    event = {
        "type": "mention",
        "conversation": payloads.conversation_summary(conversation),
        "entry": payloads.entry_for_agent(entry),
    }
    send_event_on_commit(event, [recipients.agent_group(a.pk) for a in agents])
