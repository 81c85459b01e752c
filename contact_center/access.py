"""Permission-checked fetches: what an agent may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from contact_center.lib import payloads
from contact_center.models import Agent, Conversation, Customer, Inbox


class AccessDenied(Exception):
    """The agent may not see this object (or it does not exist: callers cannot tell, by design)."""


def visible_inboxes(agent: Agent) -> QuerySet[Inbox]:
    if agent.sees_every_inbox:
        return Inbox.objects.all()
    return Inbox.objects.filter(members=agent)


def assignable_agents(inbox_id: int) -> QuerySet[Agent]:
    """Active agents who can see the inbox, so may be assigned its conversations; by name."""
    sees_all = Q(role__in=[Agent.Role.ADMIN, Agent.Role.SUPERVISOR])
    return (
        Agent.objects.filter(sees_all | Q(inboxes=inbox_id), is_active=True)
        .distinct()
        .order_by("display_name", "username")
    )


def visible_conversations(agent: Agent) -> QuerySet[Conversation]:
    if agent.sees_every_inbox:
        return Conversation.objects.all()
    return Conversation.objects.filter(inbox__members=agent)


def access_conversation(agent: Agent, conversation_id: int) -> Conversation:
    """The conversation if ``agent`` may see it, else ``AccessDenied``."""
    # Labels are not prefetched: most callers (typing, read, writes that lock and reload) never build a
    # summary, and for the few that do, loading one conversation's labels lazily is the same one query.
    try:
        return visible_conversations(agent).select_related(*payloads.SUMMARY_RELATED).get(pk=conversation_id)
    except (Conversation.DoesNotExist, ValueError, TypeError) as exc:
        raise AccessDenied(f"conversation {conversation_id!r} is not visible") from exc


def access_customer(agent: Agent, customer_id: int) -> Customer:
    """The customer if ``agent`` may see at least one of their conversations, else ``AccessDenied``.

    A customer is known to an agent through a conversation: one who only ever wrote to another team's
    inbox stays invisible, name and all.
    """
    try:
        customer = Customer.objects.get(pk=customer_id)
    except (Customer.DoesNotExist, ValueError, TypeError) as exc:
        raise AccessDenied(f"customer {customer_id!r} is not visible") from exc
    if not visible_conversations(agent).filter(customer=customer).exists():
        raise AccessDenied(f"customer {customer_id!r} is not visible")
    return customer
