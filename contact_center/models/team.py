from django.db import models


class Team(models.Model):
    name = models.CharField(max_length=120, unique=True)
    members = models.ManyToManyField("contact_center.Agent", related_name="teams", blank=True)

    class Meta:
        db_table = "cc_team"
        ordering = ["name"]

    def __str__(self):
        return self.name
