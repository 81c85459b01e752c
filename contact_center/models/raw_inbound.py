from django.db import models


class RawInbound(models.Model):
    """What a provider's webhook delivered, stored before it is parsed, so nothing it sent is lost.

    An adapter writes the row first, then parses it into an envelope for ``do_receive_inbound``: a row
    that became an entry is ``stored`` (with the entry); one that could not be (an unknown number, a
    sender that is not a phone number) is ``quarantined`` with the reason, for an admin to read in
    Console -> Settings -> Quarantine (retry, download, discard), and the provider is still told it was
    received, since sending it again cannot help.
    Mail keeps its raw bytes here too (channels_adapters/email/inbound.py).
    """

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        STORED = "stored", "Stored"
        QUARANTINED = "quarantined", "Quarantined"

    source = models.CharField(max_length=32)  # which webhook or path: "twilio-sms", "email"
    fields = models.JSONField()  # the request's form fields, as sent; for mail, its recipient and path
    # A mail's bytes exactly as they arrived, and their sha256: the same bytes delivered again (a retry,
    # a second path) are recognised before anything is parsed.
    raw = models.BinaryField(null=True, blank=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    error = models.TextField(blank=True)
    entry = models.ForeignKey("contact_center.TimelineEntry", null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_raw_inbound"
        indexes = [models.Index(fields=["state", "received_at"], name="raw_inbound_state")]

    def __str__(self):
        return f"{self.source} #{self.pk} ({self.state})"
