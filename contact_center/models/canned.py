from django.core.validators import RegexValidator
from django.db import models

SHORTCUT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class CannedResponse(models.Model):
    """A saved reply agents insert by typing ``/shortcut`` in the composer. Shared by every agent."""

    shortcut = models.CharField(
        max_length=40,
        unique=True,
        validators=[RegexValidator(SHORTCUT_PATTERN, "lower-case letters, digits, - and _, up to 40")],
    )
    body = models.TextField(max_length=5000)
    created_by = models.ForeignKey("contact_center.Agent", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "cc_canned_response"
        ordering = ["shortcut"]

    def __str__(self):
        return f"/{self.shortcut}"
