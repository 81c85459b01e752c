import uuid

from django.db import models


class Delivery(models.Model):
    """A durable promise to carry one outbound entry over its channel: the outbox row.

    Written in the same transaction as its entry. Workers claim due rows with a lease; a worker that
    dies leaves its lease to expire and another worker takes the row again. ``idempotency_key`` is
    handed to the transport so a retry after a lost acknowledgement never sends twice.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead"

    entry = models.OneToOneField("contact_center.TimelineEntry", related_name="delivery", on_delete=models.CASCADE)
    transport = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField()
    next_attempt_at = models.DateTimeField()
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    leased_by = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cc_delivery"
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due"),
            # A provider's status report names its own message id (Twilio's status callbacks).
            models.Index(fields=["transport", "provider_message_id"], name="delivery_provider_message"),
        ]

    def __str__(self):
        return f"Delivery of entry {self.entry_id} ({self.state})"


class EarlyProviderReport(models.Model):
    """A provider's status report for a message id no delivery has yet, kept as it came.

    Twilio may report a message ("sent", even "delivered") before the worker that sent it has recorded
    the message id its API answered with; dropping the report would leave the entry at "sent" for good.
    ``do_mark_sent`` applies the reports for the id it records and deletes them. Reports about ids no
    delivery ever gets (not ours) are deleted after a day (actions/outbox.py ``EARLY_REPORT_TTL``).
    """

    transport = models.CharField(max_length=32)
    provider_message_id = models.CharField(max_length=255)
    status = models.CharField(max_length=16)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_early_provider_report"
        indexes = [
            models.Index(fields=["transport", "provider_message_id"], name="early_report_message"),
            models.Index(fields=["received_at"], name="early_report_received"),
        ]

    def __str__(self):
        return f"{self.transport} report {self.status} for {self.provider_message_id}"
