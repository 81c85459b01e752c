"""The line under a customer's name in the conversation list: the newest message, note or call.

Kept on the conversation (``preview``, ``preview_from``) as each entry is written, so a list page reads
no timeline rows. Activity lines ("Resolved by Dana") are not previews: the list shows what was said.
"""

from __future__ import annotations

from typing import Any

PREVIEW_LENGTH = 140

# Who said it, as the list marks it ("You:", a note icon): the customer, the team, or a note.
CUSTOMER, AGENT, NOTE = "customer", "agent", "note"


def preview_of(kind: str, direction: str, body: str, payload: dict[str, Any] | None) -> tuple[str, str] | None:
    """``(text, from)`` for an entry of ``kind`` and ``direction``, or None when it is no preview (activity)."""
    if kind == "activity":
        return None
    text = " ".join(body.split())
    if not text:
        payload = payload or {}
        text = "Call" if kind == "call" else "Attachment" if payload.get("attachments") else ""
    if len(text) > PREVIEW_LENGTH:
        text = text[: PREVIEW_LENGTH - 1].rstrip() + "…"
    speaker = NOTE if kind == "note" else CUSTOMER if direction == "in" else AGENT
    return text, speaker
