"""Read receipts from customers: the widget says how far the visitor has read, agents see "read".

Only outbound entries move, and only forward: queued, sent or delivered becomes read; a failed one
stays failed. The outbox's own updates never move an entry back from read (actions/outbox.py).
"""

from __future__ import annotations

from django.db import transaction

from contact_center.actions.timeline import lock_conversation, publish_entry
from contact_center.models import Conversation, TimelineEntry

# A burst of unread replies is a handful; more than this since the last receipt are marked without
# an event each (the console's next load shows them read).
MAX_EVENTS = 20
NOT_YET_READ = [
    TimelineEntry.DeliveryStatus.QUEUED,
    TimelineEntry.DeliveryStatus.SENT,
    TimelineEntry.DeliveryStatus.DELIVERED,
]


def do_mark_read_by_customer(inbox_id: int, customer_id: int, conversation_id: int, public_seq: int) -> int:
    """The customer has seen the conversation up to their ``public_seq``: mark the replies up to it
    read and tell the consoles (``entry.updated``). Returns how many changed.

    Does nothing for a conversation that is not this customer's in this inbox: the widget passes ids
    the server gave it, so a mismatch is a stale socket, not worth an answer.
    """
    if not Conversation.objects.filter(pk=conversation_id, inbox_id=inbox_id, customer_id=customer_id).exists():
        return 0
    unread = TimelineEntry.objects.filter(
        conversation_id=conversation_id,
        direction=TimelineEntry.Direction.OUT,
        public_seq__lte=public_seq,
        delivery_status__in=NOT_YET_READ,
    )
    if not unread.exists():
        return 0  # the common case, every time the visitor opens the widget: no lock, no write
    with transaction.atomic():
        conversation = lock_conversation(conversation_id)
        entries = list(unread.select_related("author").order_by("-seq")[:MAX_EVENTS])
        changed = unread.update(delivery_status=TimelineEntry.DeliveryStatus.READ)
        for entry in reversed(entries):
            entry.delivery_status = TimelineEntry.DeliveryStatus.READ
            publish_entry(conversation, entry, customer_too=False, type_="entry.updated")
    return changed
