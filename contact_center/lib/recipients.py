"""Channel-layer group names, and who may hear about what.

Agents follow inboxes (``inbox.<id>``); a widget visitor follows their own conversations in one inbox
(``visitor.<inbox id>.<customer id>``). Actions compute recipients with these helpers and nothing else
decides who hears an event.

A visitor who has not written yet has no customer, so no visitor group: their sockets wait in
``newvisitor.<inbox id>.<hash of visitor id>`` until the first message binds them (widget/consumers.py).
Every socket of a visitor stays in that group, so an identify that moves them to another customer
reaches all their tabs.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contact_center.models import Conversation, TimelineEntry


def inbox_group(inbox_id: int) -> str:
    return f"inbox.{inbox_id}"


def agent_group(agent_id: int) -> str:
    """Every console socket of one agent: events meant for them alone (a mention)."""
    return f"agent.{agent_id}"


def visitor_group(inbox_id: int, customer_id: int) -> str:
    return f"visitor.{inbox_id}.{customer_id}"


def new_visitor_group(inbox_id: int, visitor_id: str) -> str:
    # Hashed: group names allow only [a-zA-Z0-9._-] and under 100 characters; visitor ids are opaque.
    digest = hashlib.sha256(visitor_id.encode()).hexdigest()[:32]
    return f"newvisitor.{inbox_id}.{digest}"


def agent_groups(conversation: Conversation) -> list[str]:
    return [inbox_group(conversation.inbox_id)]


def visitor_groups(conversation: Conversation) -> list[str]:
    """Groups of the customer's live widget sessions, for signals about the conversation itself
    (typing, read position, survey). Only widget inboxes have live visitors; callers never pass
    anything internal through here."""
    if conversation.inbox.kind != "widget":
        return []
    return [visitor_group(conversation.inbox_id, conversation.customer_id)]


def customer_groups(conversation: Conversation, entry: TimelineEntry) -> list[str]:
    """Groups of the customer's live sessions that may see ``entry``: none for notes and activity."""
    if entry.public_seq is None or conversation.inbox.kind != "widget":
        return []
    return [visitor_group(conversation.inbox_id, conversation.customer_id)]
