"""The kb's only writers: what visitors did with self-service suggestions (docs/widget.md, "Self-service
suggestions"). Nothing here is realtime, so nothing is published. Callers (the widget's endpoints) have
already authenticated the visitor and checked the article is offered in their inbox.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac

from kb.models import SuggestionEvent

QUERY_MAX_CHARS = 500


def visitor_hash(visitor_id: str) -> str:
    """A stable pseudonym for a visitor, keyed with SECRET_KEY: it counts visitors, and no one holding
    these rows alone can tell which visitor (or customer) they were."""
    return salted_hmac("parley.kb.visitor", visitor_id, algorithm="sha256").hexdigest()


def clean_query(text: str) -> str:
    """The question as recorded: whitespace collapsed, at most QUERY_MAX_CHARS (a record, not the message)."""
    return " ".join(str(text).split())[:QUERY_MAX_CHARS]


def do_record_shown(inbox_id: int, visitor_id: str, query: str, article_ids: list[int]) -> bool:
    """Record that ``article_ids`` were suggested; True if a row was written.

    The widget asks again as the visitor types, and most keystrokes change nothing on screen: a row is
    written only when the suggestions differ from the last ones this visitor was shown in this inbox.
    """
    if not article_ids:
        return False
    who = visitor_hash(visitor_id)
    last = (
        SuggestionEvent.objects.filter(inbox_id=inbox_id, visitor_hash=who, kind=SuggestionEvent.Kind.SHOWN)
        .order_by("-pk")
        .values_list("article_ids", flat=True)
        .first()
    )
    if last == list(article_ids):
        return False
    SuggestionEvent.objects.create(
        kind=SuggestionEvent.Kind.SHOWN,
        inbox_id=inbox_id,
        visitor_hash=who,
        query=clean_query(query),
        article_ids=list(article_ids),
    )
    return True


def do_record_opened(inbox_id: int, visitor_id: str, article_id: int) -> None:
    """Record that the visitor opened an article in the widget (each opening counts)."""
    SuggestionEvent.objects.create(
        kind=SuggestionEvent.Kind.OPENED,
        inbox_id=inbox_id,
        visitor_hash=visitor_hash(visitor_id),
        article_id=article_id,
    )


def do_record_outcome(inbox_id: int, visitor_id: str, article_id: int, outcome: str, query: str) -> bool:
    """Record "this answered my question" (a deflection) or "I still need help"; True if a row was written.

    A deflection counts once per (inbox, visitor, article, question): saying it again, from a retry or
    another tab, writes nothing. "Still need help" is recorded each time it is said.
    Raises ValueError for an outcome that is neither ``answered`` nor ``need_help``.
    """
    if outcome not in (SuggestionEvent.Kind.ANSWERED, SuggestionEvent.Kind.NEED_HELP):
        raise ValueError(f"unknown outcome {outcome!r}")
    fields = {
        "kind": outcome,
        "inbox_id": inbox_id,
        "visitor_hash": visitor_hash(visitor_id),
        "article_id": article_id,
        "query": clean_query(query),
    }
    if outcome == SuggestionEvent.Kind.NEED_HELP:
        SuggestionEvent.objects.create(**fields)
        return True
    if SuggestionEvent.objects.filter(**fields).exists():
        return False
    try:
        # The partial unique constraint settles two requests that both found nothing above.
        with transaction.atomic():
            SuggestionEvent.objects.create(**fields)
    except IntegrityError:
        return False
    return True
