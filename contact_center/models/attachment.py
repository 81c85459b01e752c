from django.db import models


class Attachment(models.Model):
    """A file sent with a message. Uploaded first (``entry`` empty), then bound to the entry that carries it."""

    entry = models.ForeignKey(
        "contact_center.TimelineEntry", null=True, blank=True, related_name="attachments", on_delete=models.CASCADE
    )
    inbox = models.ForeignKey("contact_center.Inbox", null=True, related_name="+", on_delete=models.CASCADE)
    # Who uploaded it, so only they can attach it: "visitor:<visitor id>" or "agent:<agent id>".
    uploaded_by = models.CharField(max_length=100, blank=True)
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_attachment"

    def __str__(self):
        return self.filename
