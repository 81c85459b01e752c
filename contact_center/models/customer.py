from django.db import models


class Customer(models.Model):
    """A person who contacts support, recognised across channels through their identities."""

    name = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cc_customer"

    def __str__(self):
        return self.name or f"Customer #{self.pk}"
