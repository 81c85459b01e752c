from django.db import models


class Identity(models.Model):
    """One way to reach a customer: an email address, an E.164 phone number, a widget visitor id.

    ``value`` is always stored normalised (see ``contact_center.lib.identity``), and (kind, value) is
    unique: the same address maps to the same customer whatever inbox it writes to.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        VISITOR = "visitor", "Widget visitor"
        # A site's logged-in user, vouched for by the site (widget identity verification): "<inbox id>:<user id>".
        SITE_USER = "site_user", "Site user"

    customer = models.ForeignKey("contact_center.Customer", related_name="identities", on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=254)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_identity"
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_kind_value_unique")]

    def __str__(self):
        return f"{self.kind}:{self.value}"
