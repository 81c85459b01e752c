"""Labels: tags on conversations (billing, vip…). Any agent who sees a conversation sets its labels;
admins and supervisors keep the list of labels (Settings → Labels).

Setting labels is a conversation change like any other (contact_center/actions/conversations.py): an
activity entry written under the conversation's row lock and published with the new summary, so every
open console redraws the chips. Changing or deleting a label itself publishes nothing: consoles show
the new name or colour when they next load the conversation (its summary carries them).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects

from contact_center.access import access_conversation
from contact_center.actions.timeline import append_activity, lock_conversation
from contact_center.models import Agent, Conversation, Label
from contact_center.models.label import NAME_MAX, validate_color

# More than this on one conversation is a client bug, not a way of working.
MAX_LABELS = 50


def may_manage_labels(agent: Agent) -> bool:
    return agent.role in {Agent.Role.ADMIN, Agent.Role.SUPERVISOR}


def check_may_manage_labels(agent: Agent) -> None:
    if not may_manage_labels(agent):
        raise PermissionDenied("only admins and supervisors manage labels")


def check_label_name(name) -> str:
    """The name with its whitespace collapsed: 1 to 40 characters. Raises ValidationError."""
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name:
        raise ValidationError("a label needs a name")
    if len(name) > NAME_MAX:
        raise ValidationError(f"a label's name is at most {NAME_MAX} characters")
    return name


def check_color(color) -> str:
    """A palette name or #rrggbb, lower-cased. Raises ValidationError."""
    color = color.strip().lower() if isinstance(color, str) else color
    validate_color(color)
    return color


def check_label_ids(label_ids) -> set[int]:
    """The ids of a labels frame: a list of integers (duplicates collapse). Raises ValidationError."""
    if not isinstance(label_ids, list) or len(label_ids) > MAX_LABELS:
        raise ValidationError(f"labels is a list of at most {MAX_LABELS} label ids")
    if any(isinstance(i, bool) or not isinstance(i, int) for i in label_ids):
        raise ValidationError("labels is a list of label ids")
    return set(label_ids)


def do_set_labels(agent: Agent, conversation_id: int, label_ids: list[int]) -> Conversation:
    """Give the conversation exactly the labels ``label_ids`` (the whole set: [] removes them all).

    One activity entry says what was added and removed (payload ``{"event": "labels", "added": [ids],
    "removed": [ids]}``, ids in the order of the names in the body). Setting the labels it already has
    writes and publishes nothing. Raises ``AccessDenied`` when the agent may not see the conversation
    and ``ValidationError`` for ids that are not a list of existing labels. Returns the conversation
    as saved, its labels loaded.
    """
    wanted = check_label_ids(label_ids)
    conversation = access_conversation(agent, conversation_id)
    with transaction.atomic():
        conversation = lock_conversation(conversation.pk)
        # Locked, so a label being deleted meanwhile is either gone here or deleted after this commits.
        labels = {label.pk: label for label in Label.objects.select_for_update().filter(pk__in=wanted).order_by("pk")}
        unknown = wanted - labels.keys()
        if unknown:
            raise ValidationError(f"no such label: {', '.join(str(i) for i in sorted(unknown))}")
        held = {label.pk: label for label in conversation.labels.all()}
        added = _by_name(label for pk, label in labels.items() if pk not in held)
        removed = _by_name(label for pk, label in held.items() if pk not in wanted)
        if not added and not removed:
            return conversation
        if removed:
            conversation.labels.remove(*removed)
        if added:
            conversation.labels.add(*added)
        # The summary in the activity's event is built from these: reload them once for it.
        prefetch_related_objects([conversation], "labels")
        append_activity(
            conversation,
            body=_describe(added, removed),
            author=agent,
            payload={
                "event": "labels",
                "added": [label.pk for label in added],
                "removed": [label.pk for label in removed],
            },
        )
    return conversation


def _by_name(labels: Iterable[Label]) -> list[Label]:
    return sorted(labels, key=lambda label: (label.name.lower(), label.pk))


def _describe(added: list[Label], removed: list[Label]) -> str:
    """ "Added label billing", "Added labels billing, bug; removed label vip"."""
    parts = []
    for verb, labels in (("added", added), ("removed", removed)):
        if labels:
            noun = "label" if len(labels) == 1 else "labels"
            parts.append(f"{verb} {noun} {', '.join(label.name for label in labels)}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]


def do_save_label(agent: Agent, name: str, color: str, description: str = "", label_id: int | None = None) -> Label:
    """Create (``label_id`` None) or rename / recolour a label. Names are unique whatever their case.

    Raises ``PermissionDenied`` for an agent who may not manage labels, ``Label.DoesNotExist`` for an
    unknown ``label_id`` and ``ValidationError`` for a bad name or colour, or a name that is taken
    (also when two admins save the same one at once: the unique constraint decides).
    """
    check_may_manage_labels(agent)
    name, color, description = check_label_name(name), check_color(color), (description or "").strip()[:200]
    try:
        with transaction.atomic():
            if label_id is None:
                return Label.objects.create(name=name, color=color, description=description)
            label = Label.objects.select_for_update().get(pk=label_id)
            label.name, label.color, label.description = name, color, description
            label.save(update_fields=["name", "color", "description"])
            return label
    except IntegrityError:
        raise ValidationError(f"there is a label {name} already: pick another name") from None


def do_delete_label(agent: Agent, label_id: int) -> None:
    """Delete the label; it leaves every conversation it was on (no activity entry: the label is gone,
    not taken off by anyone). Raises ``PermissionDenied``; an unknown id deletes nothing."""
    check_may_manage_labels(agent)
    with transaction.atomic():
        # Locked first: a do_set_labels adding it right now finishes before, and its rows go with it.
        label = Label.objects.select_for_update().filter(pk=label_id).first()
        if label is not None:
            label.delete()
