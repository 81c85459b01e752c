"""What the widget reports about a visitor's browsing: live context for the agents of the inbox."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contact_center.actions.events import send_event_on_commit
from contact_center.lib import recipients
from contact_center.models import Conversation

MAX_URL_CHARS = 2000
MAX_TITLE_CHARS = 300


def check_page(page: Any) -> dict[str, str]:
    """``{"url", "title"}`` of a page the visitor is on; raises ``ValidationError`` for anything else.

    Only http(s) URLs: the console renders the URL as a link, and a ``javascript:`` one would run there.
    """
    if not isinstance(page, dict):
        raise ValidationError("page is an object with url and title")
    url, title = page.get("url"), page.get("title", "")
    if not isinstance(url, str) or not isinstance(title, str):
        raise ValidationError("page url and title are strings")
    if len(url) > MAX_URL_CHARS:
        raise ValidationError(f"a page url is at most {MAX_URL_CHARS} characters")
    if len(title) > MAX_TITLE_CHARS:
        raise ValidationError(f"a page title is at most {MAX_TITLE_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("a page url is an http or https URL")
    return {"url": url, "title": title}


def do_record_page(conversation_id: int, page: dict[str, str]) -> dict[str, Any]:
    """Store ``page`` (checked) as the visitor's current page and tell the inbox's agents.

    Keeps whatever else ``visitor_context`` holds. Returns the new context. Publishes
    ``conversation.context`` after commit. Raises ``Conversation.DoesNotExist``.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
        conversation.visitor_context = {
            **conversation.visitor_context,
            "page": page,
            "seen_at": timezone.now().isoformat(),
        }
        conversation.save(update_fields=["visitor_context"])
        send_event_on_commit(
            {
                "type": "conversation.context",
                "conversation": conversation.pk,
                "visitor_context": conversation.visitor_context,
            },
            recipients.agent_groups(conversation),
        )
    return conversation.visitor_context
