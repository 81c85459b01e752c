from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class SatisfactionRating(models.Model):
    """A customer's answer to "how did we do?" (CSAT, 1 to 5) after a conversation was resolved.

    One per resolution: a conversation reopened and resolved again is asked again.
    """

    conversation = models.ForeignKey("contact_center.Conversation", related_name="ratings", on_delete=models.CASCADE)
    customer = models.ForeignKey("contact_center.Customer", related_name="ratings", on_delete=models.CASCADE)
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    # The resolution this answers; with the conversation, unique: a resend cannot count twice.
    resolved_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_satisfaction_rating"
        constraints = [
            models.UniqueConstraint(fields=["conversation", "resolved_at"], name="rating_once_per_resolution")
        ]

    def __str__(self):
        return f"{self.rating}/5 for conversation {self.conversation_id}"
