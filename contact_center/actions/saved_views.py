"""Saved views: an agent names a conversation list (a view, its filters, its sort) to come back to.

Views are the agent's own; admins and supervisors may share one with everyone. A saved view is only
a list request kept under a name, so it can never show anyone more than they may see: each agent's
list applies their own permissions to it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from contact_center import lists
from contact_center.actions.events import send_event_on_commit
from contact_center.lib import recipients
from contact_center.models import Agent, SavedView

FILTERS = ("view", "status", "inbox", "team", "channel", "label", "sort")
MAX_NAME = 60
MAX_VIEWS = 50  # per agent: a sidebar, not a database


def visible_views(agent: Agent) -> QuerySet[SavedView]:
    """The agent's own views and everyone's shared ones, by name."""
    return SavedView.objects.filter(Q(owner=agent) | Q(shared=True)).order_by("name", "pk")


def may_share(agent: Agent) -> bool:
    return agent.role in {Agent.Role.ADMIN, Agent.Role.SUPERVISOR}


def view_payload(view: SavedView, agent: Agent) -> dict:
    return {
        "id": view.pk,
        "name": view.name,
        "filters": view.filters,
        "shared": view.shared,
        "mine": view.owner_id == agent.pk,
        # A shared view may be removed by whoever may share: it belongs to the team, not its author.
        "deletable": view.owner_id == agent.pk or (view.shared and may_share(agent)),
    }


def check_filters(filters) -> dict[str, str]:
    """List parameters as the list endpoint takes them, and valid there; raises ValidationError."""
    if not isinstance(filters, dict) or set(filters) - set(FILTERS):
        raise ValidationError(f"filters is an object with some of {', '.join(FILTERS)}")
    if not all(isinstance(value, str) for value in filters.values()):
        raise ValidationError("filter values are strings, as in the list's URL")
    lists.check_list_query(filters)
    return {key: value for key, value in filters.items() if value}


def check_name(name) -> str:
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name or len(name) > MAX_NAME:
        raise ValidationError(f"a view's name is 1 to {MAX_NAME} characters")
    return name


def do_save_view(agent: Agent, name, filters, shared=False) -> SavedView:
    """Save the agent's list under ``name``; saving under a name they already use replaces that view.

    Only admins and supervisors share (``shared=True``). Raises ValidationError.
    """
    name, filters = check_name(name), check_filters(filters)
    if shared is not False and (shared is not True or not may_share(agent)):
        raise ValidationError("only admins and supervisors share views")
    with transaction.atomic():
        existing = SavedView.objects.select_for_update().filter(owner=agent, name=name).first()
        if existing is None and SavedView.objects.filter(owner=agent).count() >= MAX_VIEWS:
            raise ValidationError(f"an agent keeps at most {MAX_VIEWS} views")
        view = existing or SavedView(owner=agent, name=name)
        view.filters, view.shared = filters, shared
        try:
            with transaction.atomic():
                view.save()
        except IntegrityError:
            # The same name saved from another tab at the same moment: that one stands.
            raise ValidationError(f"you already have a view named {name}") from None
        publish_views(agent)
    return view


def publish_views(agent: Agent) -> None:
    """Every console of ``agent`` gets their views as they now are (other agents see a newly shared
    view when their console next loads its views)."""
    views = [view_payload(view, agent) for view in visible_views(agent)]
    send_event_on_commit({"type": "views", "views": views}, [recipients.agent_group(agent.pk)])


def do_delete_view(agent: Agent, view_id) -> None:
    """Delete one of the agent's views, or a shared one if they may share. Raises ValidationError."""
    view = SavedView.objects.filter(pk=view_id).first() if isinstance(view_id, int) else None
    if view is None or not view_payload(view, agent)["deletable"]:
        raise ValidationError("no such view of yours")
    view.delete()
    publish_views(agent)
