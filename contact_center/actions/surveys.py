"""Satisfaction ratings (CSAT): the customer's answer after a conversation was resolved."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from contact_center.access import AccessDenied
from contact_center.actions.events import send_event_on_commit
from contact_center.actions.timeline import append_activity, lock_conversation
from contact_center.lib import recipients
from contact_center.lib.csat import COMMENT_MAX_CHARS, RATING_CHOICES
from contact_center.models import Conversation, SatisfactionRating


@dataclass(frozen=True)
class RateResult:
    rating: SatisfactionRating
    created: bool


def check_rating(rating, comment) -> tuple[int, str]:
    # bool is an int in Python: `true` from a JSON client is not a rating.
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATING_CHOICES:
        raise ValidationError("a rating is a whole number from 1 to 5")
    if comment is None:
        comment = ""
    if not isinstance(comment, str):
        raise ValidationError("a comment is text")
    comment = comment.strip()
    if len(comment) > COMMENT_MAX_CHARS:
        raise ValidationError(f"a comment is at most {COMMENT_MAX_CHARS} characters")
    return rating, comment


def do_rate_conversation(inbox_id: int, customer_id: int, conversation_id: int, rating, comment="") -> RateResult:
    """Store the customer's rating of the conversation's latest resolution and show it to agents.

    Once per resolution: rating it again returns the stored rating with ``created=False`` and
    publishes nothing. Raises ``AccessDenied`` when the conversation is not this customer's in this
    inbox, ``ValidationError`` for a bad rating or comment, or when the conversation is not resolved.
    """
    rating, comment = check_rating(rating, comment)
    with transaction.atomic():
        try:
            conversation = lock_conversation(conversation_id)
        except (Conversation.DoesNotExist, ValueError, TypeError) as exc:
            raise AccessDenied(f"conversation {conversation_id!r} is not yours") from exc
        if conversation.customer_id != customer_id or conversation.inbox_id != inbox_id:
            raise AccessDenied(f"conversation {conversation_id!r} is not yours")
        if conversation.status != Conversation.Status.RESOLVED or conversation.resolved_at is None:
            raise ValidationError("only a resolved conversation can be rated")
        # Looked up under the conversation's lock, so a resend racing the original finds it.
        stored = SatisfactionRating.objects.filter(
            conversation=conversation, resolved_at=conversation.resolved_at
        ).first()
        if stored is not None:
            return RateResult(stored, created=False)
        stored = SatisfactionRating.objects.create(
            conversation=conversation,
            customer_id=customer_id,
            rating=rating,
            comment=comment,
            resolved_at=conversation.resolved_at,
        )
        append_activity(
            conversation,
            body=f"Rated {rating}/5" + (f": {comment}" if comment else ""),
            payload={
                "event": "csat",
                "rating": rating,
                "comment": comment,
                "resolved_at": conversation.resolved_at.isoformat(),
            },
        )
        # The customer's other tabs stop asking.
        send_event_on_commit(csat_answered(stored), recipients.visitor_groups(conversation))
    return RateResult(stored, created=True)


def csat_answered(rating: SatisfactionRating) -> dict:
    return {"type": "csat.answered", "conversation": rating.conversation_id, "rating": rating.rating}
