from django.contrib.auth.models import AbstractUser
from django.db import models


class Agent(AbstractUser):
    """A person who works in the console. Roles widen what they may see and change."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        SUPERVISOR = "supervisor", "Supervisor"
        AGENT = "agent", "Agent"

    class Availability(models.TextChoices):
        ONLINE = "online", "Online"
        BUSY = "busy", "Busy"
        OFFLINE = "offline", "Offline"

    display_name = models.CharField(max_length=120, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    # What the agent chose in the console header. They count as online for live chat only while this
    # is "online" AND they have a console open (contact_center/presence.py).
    availability = models.CharField(max_length=16, choices=Availability.choices, default=Availability.ONLINE)
    # Automatic assignment gives an agent no more open conversations than this; None: no limit.
    max_open_conversations = models.PositiveIntegerField(null=True, blank=True)
    # The picture customers see beside this agent's replies in the widget (https only); initials when empty.
    avatar_url = models.URLField(max_length=500, blank=True)
    # When automatic assignment last gave this agent a conversation: round robin goes to the agent who
    # waited longest.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cc_agent"

    def __str__(self):
        return self.public_name

    @property
    def public_name(self) -> str:
        """The name customers see on replies."""
        return self.public_name_of(self.display_name, self.first_name, self.last_name, self.username)

    @staticmethod
    def public_name_of(display_name: str, first_name: str, last_name: str, username: str) -> str:
        """``public_name`` from the columns alone, for readers that load rows without models."""
        return display_name or f"{first_name} {last_name}".strip() or username

    @property
    def sees_every_inbox(self) -> bool:
        return self.role in {self.Role.ADMIN, self.Role.SUPERVISOR}
