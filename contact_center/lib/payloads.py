"""What an entry or conversation looks like on the wire, for each audience.

Visitors get a narrow, explicit shape: nothing about agents but their public name, never payload
internals. Keep the two functions apart so a field added for agents cannot leak to customers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contact_center.lib.attachment_links import attachment_url
from contact_center.lib.filetypes import INLINE_IMAGE_TYPES
from contact_center.lib.images import https_image_url

if TYPE_CHECKING:
    from contact_center.models import Attachment, Conversation, Label, TimelineEntry


def entry_for_agent(entry: TimelineEntry) -> dict[str, Any]:
    author = entry.author
    return {
        "id": entry.pk,
        "conversation": entry.conversation_id,
        "customer": entry.customer_id,
        "seq": entry.seq,
        "kind": entry.kind,
        "direction": entry.direction,
        "author": {"id": author.pk, "name": author.public_name} if author else None,
        "body": entry.body,
        "payload": entry.payload,
        "attachments": attachments_of(entry),
        "delivery_status": entry.delivery_status,
        "created_at": entry.created_at.isoformat(),
    }


def entry_for_visitor(entry: TimelineEntry) -> dict[str, Any]:
    if entry.public_seq is None:
        raise ValueError("internal entries are never sent to visitors")
    return {
        "id": entry.pk,
        "conversation": entry.conversation_id,
        "seq": entry.public_seq,
        "direction": entry.direction,
        "author_name": entry.author.public_name if entry.author else None,
        "author_avatar": https_image_url(entry.author.avatar_url) if entry.author else None,
        "body": entry.body,
        "client_id": entry.payload.get("client_id") if entry.direction == "in" else None,
        "attachments": attachments_of(entry),
        "created_at": entry.created_at.isoformat(),
    }


def attachments_of(entry: TimelineEntry) -> list[dict[str, Any]]:
    """The files ``entry`` carries, each with a fresh signed link. The same for visitors and agents.

    Entries record their attachment ids in ``payload["attachments"]``, so an entry without any (nearly
    all) costs no query; readers of many entries prefetch ``attachments``.
    """
    if not entry.payload.get("attachments"):
        return []
    return [attachment_payload(a) for a in sorted(entry.attachments.all(), key=lambda a: a.pk)]


def attachment_payload(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": attachment_url(attachment),
        "is_image": attachment.content_type in INLINE_IMAGE_TYPES,
    }


# What ``conversation_summary`` reads across relations: select_related(*SUMMARY_RELATED) wherever
# summaries are built, or each one costs a query per relation.
SUMMARY_RELATED = ("inbox", "customer", "assignee", "team")


def conversation_summary(conversation: Conversation) -> dict[str, Any]:
    """The row a console list shows. Expects customer, inbox and assignee to be loaded; readers of many
    conversations prefetch ``labels`` too (one conversation alone costs one query for them)."""
    assignee = conversation.assignee
    return {
        "id": conversation.pk,
        "inbox": {"id": conversation.inbox_id, "name": conversation.inbox.name, "kind": conversation.inbox.kind},
        "customer": {"id": conversation.customer_id, "name": str(conversation.customer)},
        "status": conversation.status,
        "assignee": {"id": assignee.pk, "name": assignee.public_name} if assignee else None,
        "team": {"id": conversation.team_id, "name": conversation.team.name} if conversation.team_id else None,
        "priority": conversation.priority,
        "snoozed_until": conversation.snoozed_until.isoformat() if conversation.snoozed_until else None,
        "subject": conversation.subject,
        # The newest message, note or call, cut at 140 characters, and who said it: the list's second line.
        "preview": conversation.preview,
        "preview_from": conversation.preview_from,
        "last_seq": conversation.last_seq,
        "last_activity_at": conversation.last_activity_at.isoformat(),
        "created_at": conversation.created_at.isoformat(),
        # Where the visitor is browsing (widget/loader.js reports it); {} for other channels.
        "visitor_context": conversation.visitor_context,
        "waiting_since": conversation.waiting_since.isoformat() if conversation.waiting_since else None,
        "sla_due_at": conversation.sla_due_at.isoformat() if conversation.sla_due_at else None,
        # A customer message no agent has read yet (the read position is shared by the inbox's agents).
        "unread": conversation.last_customer_seq > conversation.agent_read_seq,
        # Set once merged: the console opens this conversation instead.
        "merged_into": conversation.merged_into_id,
        "labels": labels_of(conversation),
    }


def labels_of(conversation: Conversation) -> list[dict[str, Any]]:
    """The conversation's labels by name; sorted here so a prefetched ``labels`` is used as it is."""
    labels = sorted(conversation.labels.all(), key=lambda label: (label.name.lower(), label.pk))
    return [label_payload(label) for label in labels]


def label_payload(label: Label) -> dict[str, Any]:
    return {"id": label.pk, "name": label.name, "color": label.hex}


def conversation_heading(conversation: Conversation) -> dict[str, Any]:
    """What a unified customer timeline shows where one conversation's entries begin. Expects inbox loaded."""
    return {
        "id": conversation.pk,
        "inbox": {"id": conversation.inbox_id, "name": conversation.inbox.name, "kind": conversation.inbox.kind},
        "status": conversation.status,
        "subject": conversation.subject,
        "created_at": conversation.created_at.isoformat(),
    }


def customer_for_agent(customer) -> dict[str, Any]:
    """The customer as the console's sidebar shows them. Expects ``company`` and ``account_owner``
    joined in and ``identities`` and ``labels`` prefetched.

    Widget visitor ids are left out: they are random tokens of the visitor's browser, not a way to
    reach anyone, and an agent has no use for them.
    """
    identities = sorted((i for i in customer.identities.all() if i.kind != "visitor"), key=lambda i: (i.kind, i.value))
    company, owner = customer.company, customer.account_owner
    labels = sorted(customer.labels.all(), key=lambda label: (label.name.lower(), label.pk))
    return {
        "id": customer.pk,
        "name": customer.name,
        "display_name": str(customer),
        "attributes": customer.attributes,
        "identities": [{"kind": i.kind, "value": i.value, "verified": i.verified} for i in identities],
        "company": {"id": company.pk, "name": company.name, "domain": company.domain} if company else None,
        "account_owner": {"id": owner.pk, "name": owner.public_name} if owner else None,
        "labels": [label_payload(label) for label in labels],
        "created_at": customer.created_at.isoformat(),
        "last_seen_at": customer.last_seen_at.isoformat() if customer.last_seen_at else None,
    }
