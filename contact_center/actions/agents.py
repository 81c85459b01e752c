"""What agents say about themselves: whether they take live chats now."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from contact_center.models import Agent


def do_set_availability(agent_id: int, availability: str) -> str:
    """Store the agent's chosen availability ("online", "busy" or "offline") and return it.

    Busy and offline agents keep working in the console; they only stop counting as online for the
    widget's live chat (contact_center/presence.py). Raises ``ValidationError`` for another value.
    """
    if availability not in Agent.Availability.values:
        raise ValidationError(f"availability is one of {', '.join(Agent.Availability.values)}")
    Agent.objects.filter(pk=agent_id).update(availability=availability)
    return availability
