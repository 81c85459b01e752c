"""Canned responses: saved replies every agent can insert with ``/shortcut``; admins and supervisors keep them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from contact_center.models import Agent, CannedResponse


def may_manage_canned_responses(agent: Agent) -> bool:
    return agent.role in {Agent.Role.ADMIN, Agent.Role.SUPERVISOR}


def check_may_manage(agent: Agent) -> None:
    if not may_manage_canned_responses(agent):
        raise PermissionDenied("only admins and supervisors manage canned responses")


def do_save_canned_response(agent: Agent, shortcut: str, body: str, canned_id: int | None = None) -> CannedResponse:
    """Create (``canned_id`` None) or change a canned response; the caller validated the fields' format.

    Raises ``PermissionDenied`` for an agent who may not manage them and ``ValidationError`` when the
    shortcut is taken (also when two admins save the same one at once: the unique constraint decides).
    """
    check_may_manage(agent)
    try:
        with transaction.atomic():
            if canned_id is None:
                return CannedResponse.objects.create(shortcut=shortcut, body=body, created_by=agent)
            canned = CannedResponse.objects.select_for_update().get(pk=canned_id)
            canned.shortcut, canned.body = shortcut, body
            canned.save(update_fields=["shortcut", "body", "updated_at"])
            return canned
    except IntegrityError:
        raise ValidationError(f"/{shortcut} is taken: pick another shortcut") from None


def do_delete_canned_response(agent: Agent, canned_id: int) -> None:
    check_may_manage(agent)
    CannedResponse.objects.filter(pk=canned_id).delete()
