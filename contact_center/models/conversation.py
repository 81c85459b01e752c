from datetime import UTC, datetime

from django.db import models
from django.db.models.functions import Coalesce

# The "waiting" and "SLA" list orders put conversations where nobody waits (no wait, no target) after
# every real time. The lists sort on these very expressions and the indexes below hold them, which is
# what lets PostgreSQL read a page in order instead of sorting every open conversation.
NOBODY_WAITS = datetime(9999, 1, 1, tzinfo=UTC)
WAITING_KEY = Coalesce("waiting_since", models.Value(NOBODY_WAITS), output_field=models.DateTimeField())
SLA_KEY = Coalesce("sla_due_at", models.Value(NOBODY_WAITS), output_field=models.DateTimeField())


class Conversation(models.Model):
    """A thread between a customer and support in one inbox."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    class Priority(models.IntegerChoices):
        NONE = 0, "None"
        LOW = 1, "Low"
        MEDIUM = 2, "Medium"
        HIGH = 3, "High"
        URGENT = 4, "Urgent"

    customer = models.ForeignKey("contact_center.Customer", related_name="conversations", on_delete=models.CASCADE)
    inbox = models.ForeignKey("contact_center.Inbox", related_name="conversations", on_delete=models.PROTECT)
    # The identity the customer wrote from: replies go back to it unless the agent picks another.
    identity = models.ForeignKey("contact_center.Identity", null=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    assignee = models.ForeignKey(
        "contact_center.Agent", null=True, blank=True, related_name="assigned_conversations", on_delete=models.SET_NULL
    )
    team = models.ForeignKey("contact_center.Team", null=True, blank=True, on_delete=models.SET_NULL)
    priority = models.IntegerField(choices=Priority.choices, default=Priority.NONE)
    subject = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # When a snoozed conversation reopens by itself (the worker wakes it); None while not snoozed, or
    # snoozed until the customer writes again.
    snoozed_until = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(db_index=True)
    # Since when the customer has been waiting for an answer: their oldest message no agent replied to
    # yet. None while nobody waits. The "waiting" sort puts the longest wait first.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # When the inbox's response-time target for that wait runs out (contact_center/lib/sla.py); None
    # when nobody waits or the inbox sets no target.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # The public seq of the customer's newest message: unread for agents while above agent_read_seq.
    last_customer_seq = models.PositiveIntegerField(default=0)
    # The seq of the newest entry. Bumped under a row lock, so seqs never repeat or go backwards.
    last_seq = models.PositiveIntegerField(default=0)
    # The same for entries the customer may see; the widget resumes on this gap-free sequence.
    last_public_seq = models.PositiveIntegerField(default=0)
    # The newest message, note or call as the list shows it under the customer's name, and who said it
    # (customer, agent, note; "" before anything was said): contact_center/lib/previews.py.
    preview = models.CharField(max_length=140, blank=True, default="")
    preview_from = models.CharField(max_length=8, blank=True, default="")
    # The public seq up to which an agent has read the customer's messages: read receipts in the widget.
    agent_read_seq = models.PositiveIntegerField(default=0)
    # What the widget reports about the visitor's browsing (current page, referrer, locale): live context
    # for the agent. Overwritten as they browse; the history of pages is not kept here.
    visitor_context = models.JSONField(default=dict, blank=True)
    # Where agents' replies go by email instead of over the conversation's own channel: the address a
    # visitor typed in the widget's offline form. Unverified, so it is never an Identity (it would let
    # anyone claim that address's customer); it only routes replies to this one conversation.
    reply_email = models.EmailField(blank=True)
    # Set when an agent merged this conversation into another: its entries now live there, and links,
    # email replies and widgets that still name this one are sent on to it. Always one hop: merging the
    # target again repoints everything that was merged into it.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, related_name="merged_from", on_delete=models.SET_NULL
    )
    labels = models.ManyToManyField("contact_center.Label", blank=True, related_name="conversations")

    class Meta:
        db_table = "cc_conversation"
        indexes = [
            models.Index(fields=["inbox", "status", "-last_activity_at"], name="conv_inbox_status_activity"),
            models.Index(fields=["customer", "inbox", "-created_at"], name="conv_customer_inbox"),
            # The worker's "which snoozes are over" query touches only snoozed rows.
            models.Index(
                fields=["snoozed_until"], name="conv_snoozed_until", condition=models.Q(snoozed_until__isnull=False)
            ),
            # Lists across every inbox (an admin's All, Unassigned), one index per sort order: read in
            # order instead of sorting every open conversation (bench/console.py, docs/benchmarks.md).
            models.Index(
                fields=["status", "-last_activity_at", "-id"],
                name="conv_list_activity",
                condition=models.Q(merged_into__isnull=True),
            ),
            models.Index(
                fields=["status", "created_at", "id"],
                name="conv_list_oldest",
                condition=models.Q(merged_into__isnull=True),
            ),
            models.Index(
                fields=["status", "-priority", "-last_activity_at", "-id"],
                name="conv_list_priority",
                condition=models.Q(merged_into__isnull=True),
            ),
            models.Index(
                models.F("status"),
                WAITING_KEY,
                models.F("id"),
                name="conv_list_waiting",
                condition=models.Q(merged_into__isnull=True),
            ),
            models.Index(
                models.F("status"),
                SLA_KEY,
                models.F("id"),
                name="conv_list_sla",
                condition=models.Q(merged_into__isnull=True),
            ),
        ]

    def __str__(self):
        return f"Conversation #{self.pk}"

    def get_absolute_url(self):
        return f"/console/conversations/{self.pk}/"
