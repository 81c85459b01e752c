from django.core.validators import DomainNameValidator
from django.db import models
from django.db.models.functions import Lower

NAME_MAX = 200


class Company(models.Model):
    """The organisation a customer works for, as agents record it in the console's customer panel."""

    name = models.CharField(max_length=NAME_MAX)
    # The company's web or mail domain ("shop.example"), lower-case; optional.
    domain = models.CharField(max_length=253, blank=True, validators=[DomainNameValidator(accept_idna=False)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_company"
        verbose_name_plural = "companies"
        ordering = [Lower("name"), "pk"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), name="company_name_ci_unique", violation_error_message="a company with this name exists"
            )
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Domains compare case-insensitively; storing them lower-case keeps lookups and the unique-looking
        # list in the admin honest.
        self.domain = self.domain.strip().lower()
        super().save(*args, **kwargs)
