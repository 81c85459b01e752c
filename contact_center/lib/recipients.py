"""Channel-layer group names, and who may hear about what.

Agents follow inboxes (``inbox.<id>``); a widget visitor follows their own conversations in one inbox
(``visitor.<inbox id>.<customer id>``). Actions compute recipients with these helpers and nothing else
decides who hears an event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contact_center.models import Conversation, TimelineEntry


def inbox_group(inbox_id: int) -> str:
    return f"inbox.{inbox_id}"


def visitor_group(inbox_id: int, customer_id: int) -> str:
    return f"visitor.{inbox_id}.{customer_id}"


def agent_groups(conversation: Conversation) -> list[str]:
    return [inbox_group(conversation.inbox_id)]


def customer_groups(conversation: Conversation, entry: TimelineEntry) -> list[str]:
    """Groups of the customer's live sessions that may see ``entry``: none for notes and activity."""
    if entry.public_seq is None or conversation.inbox.kind != "widget":
        return []
    return [visitor_group(conversation.inbox_id, conversation.customer_id)]
