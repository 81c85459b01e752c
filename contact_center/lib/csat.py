"""Whether an inbox asks its customers to rate a resolved conversation (CSAT)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contact_center.models import Inbox

RATING_CHOICES = range(1, 6)
COMMENT_MAX_CHARS = 2000


def csat_enabled(inbox: Inbox) -> bool:
    """Widget inboxes ask unless ``config["csat"]`` is false; other channels have no live survey yet."""
    return inbox.kind == "widget" and bool((inbox.config or {}).get("csat", True))


def csat_request(conversation) -> dict:
    """The event asking the visitor to rate the conversation's latest resolution."""
    return {
        "type": "csat.request",
        "conversation": conversation.pk,
        "resolved_at": conversation.resolved_at.isoformat(),
    }
