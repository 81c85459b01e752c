from django.db import models


class Mention(models.Model):
    """An agent named with @username in an internal note: the note is in their Mentions view."""

    entry = models.ForeignKey("contact_center.TimelineEntry", related_name="mentions", on_delete=models.CASCADE)
    agent = models.ForeignKey("contact_center.Agent", related_name="mentions", on_delete=models.CASCADE)
    # Denormalised from the entry so the Mentions view filters conversations without a join.
    conversation = models.ForeignKey("contact_center.Conversation", related_name="+", on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_mention"
        constraints = [models.UniqueConstraint(fields=["entry", "agent"], name="mention_entry_agent_unique")]
        indexes = [models.Index(fields=["agent", "conversation"], name="mention_agent_conversation")]

    def __str__(self):
        return f"@{self.agent_id} in entry {self.entry_id}"
