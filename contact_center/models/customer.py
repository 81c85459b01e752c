from django.db import models


class Customer(models.Model):
    """A person who contacts support, recognised across channels through their identities."""

    name = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    # What agents record in the customer panel (contact_center/actions/customer_profile.py).
    company = models.ForeignKey(
        "contact_center.Company", null=True, blank=True, related_name="customers", on_delete=models.SET_NULL
    )
    # The agent responsible for this customer, whoever handles each conversation.
    account_owner = models.ForeignKey(
        "contact_center.Agent", null=True, blank=True, related_name="owned_customers", on_delete=models.SET_NULL
    )
    # The same labels conversations carry (contact_center/models/label.py), here on the person.
    labels = models.ManyToManyField("contact_center.Label", blank=True, related_name="customers")

    class Meta:
        db_table = "cc_customer"

    def __str__(self):
        return self.name or f"Customer #{self.pk}"
