from django.db import models


class Attachment(models.Model):
    entry = models.ForeignKey("contact_center.TimelineEntry", related_name="attachments", on_delete=models.CASCADE)
    file = models.FileField(upload_to="attachments/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_attachment"

    def __str__(self):
        return self.filename
