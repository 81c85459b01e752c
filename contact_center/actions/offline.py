"""Reaching a visitor by email: the widget's offline form, and a conversation's transcript on request.

The address is the visitor's own word, so it never becomes an ``Identity`` and never decides whose
customer the visitor is (see actions/customers.py): it is stored on the one conversation as
``reply_email`` (replies go there) or on the transcript entry, and nowhere else. Typing someone else's
address sends them mail at most; it shows the visitor nothing of theirs.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from contact_center.actions.inbound import ReceiveResult, do_receive_inbound
from contact_center.actions.outbox import enqueue_delivery
from contact_center.actions.timeline import append_activity, lock_conversation
from contact_center.history import visitor_conversation
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.lib.identity import normalize_identity
from contact_center.models import Inbox, TimelineEntry


def mail_can_go_out() -> bool:
    """Whether this Parley is set up to send email (``SMTP_URL`` and ``PARLEY_MAIL_FROM``). Without it
    a transcript would wait in the outbox for ever: the widget does not offer one (docs/widget.md)."""
    return bool(settings.PARLEY_SMTP["url"] and settings.PARLEY_SMTP["mail_from"])


def check_reply_email(value) -> str:
    """``value`` as a lower-cased email address; raises ``ValidationError`` if it is not one."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("an email address is required")
    if len(value) > 254:
        raise ValidationError("an email address is at most 254 characters")
    try:
        return normalize_identity("email", value)
    except ValidationError:
        raise ValidationError("this is not an email address") from None


def do_leave_offline_message(
    inbox_id: int, visitor_id: str, client_id: str, email: str, body: str, page: dict | None = None
) -> ReceiveResult:
    """Store the offline form: ``body`` from the visitor as usual, and ``email`` (checked) as the address
    the conversation's replies go to. Idempotent on ``client_id`` like a chat message.

    The message is stored first; the address is then set on its conversation (again on a resend, so a
    crash between the two loses nothing: the entry's payload keeps the address too). Raises
    ``ValidationError`` as ``do_receive_inbound`` does.
    """
    envelope = InboundEnvelope(
        inbox_id=inbox_id,
        external_id=f"widget:{visitor_id}:{client_id}",
        sender=Sender(kind="visitor", value=visitor_id),
        body=body,
        payload={"client_id": client_id, "page": page or {}, "offline": True, "reply_email": email},
    )
    result = do_receive_inbound(envelope)
    with transaction.atomic():
        conversation = lock_conversation(result.entry.conversation_id)
        if conversation.reply_email != email:
            conversation.reply_email = email
            conversation.save(update_fields=["reply_email"])
    return result


def transcript_text(conversation_id: int, inbox_name: str) -> str:
    """The public messages of the conversation as plain text, oldest first: what the visitor saw."""
    rows = (
        TimelineEntry.objects.filter(conversation_id=conversation_id, public_seq__isnull=False)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("public_seq")
    )
    lines = [f"Your conversation with {inbox_name}", ""]
    for entry in rows:
        who = "You" if entry.direction == TimelineEntry.Direction.IN else (entry.author or inbox_name)
        stamp = entry.created_at.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"[{stamp}] {who}:")
        if entry.body:
            lines.append(entry.body)
        for attachment in entry.attachments.all():
            lines.append(f"(attachment: {attachment.filename})")
        lines.append("")
    return "\n".join(lines)


def do_send_transcript(inbox_id: int, visitor_id: str, email: str) -> TimelineEntry:
    """Queue an email of the visitor's current conversation to ``email`` (checked).

    Writes an internal activity entry (agents see that a transcript went out, and to where) that carries
    the email, and its outbox row for the email transport. Raises ``ValidationError`` when the visitor has
    no conversation in the inbox.
    """
    known = visitor_conversation(inbox_id, normalize_identity("visitor", visitor_id))
    if not known or known[0] is None:
        raise ValidationError("there is no conversation to send yet")
    inbox_name = Inbox.objects.values_list("name", flat=True).get(pk=inbox_id)
    with transaction.atomic():
        conversation = lock_conversation(known[0])
        text = transcript_text(conversation.pk, inbox_name)
        entry = append_activity(
            conversation,
            body=f"The visitor asked for the transcript by email ({email})",
            payload={
                "event": "transcript",
                "email": {"to": email, "subject": f"Your conversation with {inbox_name}", "body": text},
            },
            delivery_status=TimelineEntry.DeliveryStatus.QUEUED,
        )
        enqueue_delivery(entry, "email")
    return entry
