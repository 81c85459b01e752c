import secrets

from django.db import models


def _public_key() -> str:
    return secrets.token_urlsafe(12)


def _secret() -> str:
    return secrets.token_urlsafe(32)


class Inbox(models.Model):
    """One entry point for customers: a widget on a site, a mailbox, a phone number."""

    class Kind(models.TextChoices):
        WIDGET = "widget", "Website widget"
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"
        WHATSAPP = "whatsapp", "WhatsApp"
        VOICE = "voice", "Voice"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The channel address customers use: a mailbox, an E.164 number, or blank for a widget.
    address = models.CharField(max_length=254, blank=True)
    # Public id embedded in the widget snippet; safe to show on any page.
    public_key = models.CharField(max_length=32, unique=True, default=_public_key)
    # HMAC key for identity verification and webhook signatures; never leaves the server.
    secret = models.CharField(max_length=64, default=_secret)
    # Origins (scheme://host[:port]) allowed to embed the widget and open visitor sockets.
    allowed_origins = models.JSONField(default=list, blank=True)
    config = models.JSONField(default=dict, blank=True)
    members = models.ManyToManyField("contact_center.Agent", related_name="inboxes", blank=True)
    team = models.ForeignKey("contact_center.Team", null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_inbox"
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"
