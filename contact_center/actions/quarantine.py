"""What an admin does with quarantined input (Console -> Settings -> Quarantine): try it again once the
cause is fixed, or discard it.

A ``RawInbound`` row is quarantined when an adapter stored it but could not place it (mail to an
address no inbox has, a text to a number no SMS inbox has, no sender). Retrying re-parses the SAME row,
so it never becomes a second row or a second entry. The core does not know the adapters: the caller
(the settings view, an edge) passes the adapter's own retry function for the row's source.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError

from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.settings_admin import check_admin
from contact_center.lib.envelope import InboundEnvelope
from contact_center.models import Agent, Inbox, RawInbound

logger = logging.getLogger(__name__)


def do_retry_quarantined(admin: Agent, row_id: int, retry: Callable[[RawInbound], RawInbound]) -> RawInbound:
    """Run quarantined row ``row_id`` through ``retry`` (its adapter's, e.g.
    channels_adapters/email/inbound.py ``retry_quarantined``) and return the row as it now is: ``stored``
    with its entry, or still ``quarantined`` with the new reason. A row no longer quarantined is returned
    untouched. Admins only (``PermissionDenied``); ``RawInbound.DoesNotExist`` for an unknown id. Call it
    outside a transaction, as the adapters' receive functions are."""
    check_admin(admin)
    row = RawInbound.objects.get(pk=row_id)
    if row.state != RawInbound.State.QUARANTINED:
        return row
    row = retry(row)
    logger.info(
        "quarantine: %s retried %s #%s: %s%s",
        admin.username,
        row.source,
        row.pk,
        row.state,
        f" ({row.error})" if row.state == RawInbound.State.QUARANTINED else "",
    )
    return row


def retry_fields(row: RawInbound, parse: Callable[[dict[str, Any]], InboundEnvelope]) -> RawInbound:
    """Parse a quarantined webhook row's stored ``fields`` again with the adapter's ``parse`` (the SMS
    adapter's ``parse_incoming_message``) and receive it; the same row becomes ``stored`` with its entry
    or stays ``quarantined`` with the new reason (what ``do_receive_raw`` does for a new delivery)."""
    try:
        result = do_receive_inbound(parse(row.fields))
    except (ValidationError, Inbox.DoesNotExist) as exc:
        row.error = "; ".join(exc.messages) if isinstance(exc, ValidationError) else "the inbox no longer exists"
        row.save(update_fields=["error"])
        return row
    row.state, row.entry, row.error = RawInbound.State.STORED, result.entry, ""
    row.save(update_fields=["state", "entry", "error"])
    return row


def do_discard_quarantined(admin: Agent, row_id: int) -> RawInbound:
    """Delete quarantined row ``row_id`` and what it held (the mail's bytes, the webhook's fields) for
    good; the admin confirmed it first. Returns the deleted row (its pk gone). Only quarantined rows:
    a stored row backs an entry. Admins only; ``RawInbound.DoesNotExist`` otherwise."""
    check_admin(admin)
    row = RawInbound.objects.get(pk=row_id, state=RawInbound.State.QUARANTINED)
    logger.info("quarantine: %s discarded %s #%s (%s)", admin.username, row.source, row.pk, row.error)
    row.delete()
    return row
