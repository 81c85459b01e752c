from django.db import models


class SavedView(models.Model):
    """A conversation list an agent named and kept: a view, filters and a sort (contact_center/lists.py).

    ``filters`` holds list parameters exactly as the list endpoint takes them (``{"view": "mine",
    "status": "open", "label": "3"}``), checked by ``lists.check_list_query`` when saved and again
    when used: an inbox or label deleted since simply matches nothing.
    """

    owner = models.ForeignKey("contact_center.Agent", related_name="saved_views", on_delete=models.CASCADE)
    name = models.CharField(max_length=60)
    filters = models.JSONField(default=dict)
    # Shared views appear in every agent's console (admins and supervisors share); each agent still
    # sees only the conversations they may see.
    shared = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "cc_saved_view"
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_owner_name_unique")]

    def __str__(self):
        return self.name
