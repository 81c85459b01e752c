"""Settings -> Quarantine: what Parley received but could not place, for admins to read, download,
retry once the cause is fixed, or discard (docs/console.md, docs/email.md "Quarantine").

Thin: the list reads ``RawInbound`` rows; Retry and Discard call one action each
(contact_center/actions/quarantine.py). The view is an edge, so it is what knows each source's adapter:
``RETRIES`` maps a row's source to the function that parses that source's stored input again.
"""

from __future__ import annotations

import json
import logging
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from channels_adapters.email import inbound as email_inbound
from channels_adapters.email.parse import parse
from channels_adapters.sms import views as sms_views
from contact_center.actions import quarantine as actions
from contact_center.actions.settings_admin import check_admin
from contact_center.models import RawInbound

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
RETRIES = {
    email_inbound.SOURCE: email_inbound.retry_quarantined,
    sms_views.SOURCE: partial(actions.retry_fields, parse=sms_views.parse_incoming_message),
}
SOURCE_NAMES = {email_inbound.SOURCE: "Email", sms_views.SOURCE: "SMS (Twilio)"}


def _headers_only(raw: bytes) -> bytes:
    """A mail's header block: all the list shows (From, Subject), so a 20 MB mail costs what a small one does."""
    ends = [at for at in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if at >= 0]
    return raw[: min(ends) + 2] if ends else raw


def describe(row: RawInbound) -> dict:
    """What the list shows of one quarantined row besides its time and reason."""
    item = {"row": row, "source": SOURCE_NAMES.get(row.source, row.source), "retry": row.source in RETRIES}
    if row.source == email_inbound.SOURCE:
        mail = parse(_headers_only(bytes(row.raw or b"")))
        sender = f"{mail.from_name} <{mail.from_address}>" if mail.from_name else mail.from_address
        item.update(recipient=row.fields.get("recipient", ""), sender=sender, subject=mail.subject)
    else:
        item.update(recipient=row.fields.get("To", ""), sender=row.fields.get("From", ""), subject="")
    return item


def _quarantined(row_id: int) -> RawInbound:
    return get_object_or_404(RawInbound, pk=row_id, state=RawInbound.State.QUARANTINED)


@login_required
def quarantine(request: HttpRequest):
    """Every quarantined row of every source, newest first, 50 a page (``?page=``). Admins only."""
    check_admin(request.user)
    rows = RawInbound.objects.filter(state=RawInbound.State.QUARANTINED).order_by("-received_at", "-pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))  # any bad ?page= is page 1 or the last
    context = {"page": page, "items": [describe(row) for row in page]}
    return render(request, "console/settings_quarantine.html", context)


@login_required
def download(request: HttpRequest, row_id: int) -> HttpResponse:
    """A quarantined mail exactly as it arrived (.eml), or a text's webhook fields (.json). Admins only."""
    check_admin(request.user)
    row = _quarantined(row_id)
    if row.raw is not None:
        body, content_type, suffix = bytes(row.raw), "message/rfc822", "eml"
    else:
        body, content_type, suffix = json.dumps(row.fields, indent=2).encode(), "application/json", "json"
    logger.info("quarantine: %s downloaded %s #%s", request.user.username, row.source, row.pk)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="quarantined-{row.pk}.{suffix}"'
    return response


@login_required
@require_POST
def retry(request: HttpRequest, row_id: int):
    """Parse and place a quarantined row again; back to the list with what happened. Admins only."""
    check_admin(request.user)
    row = get_object_or_404(RawInbound, pk=row_id)
    if row.source not in RETRIES:
        raise Http404("this source cannot be retried; download it instead")
    row = actions.do_retry_quarantined(request.user, row.pk, RETRIES[row.source])
    if row.state == RawInbound.State.STORED:
        messages.success(request, f"Placed #{row.pk} in its conversation.")
    else:
        messages.error(request, f"#{row.pk} is still quarantined: {row.error}")
    return redirect("settings-quarantine")


@login_required
@require_http_methods(["GET", "POST"])
def discard(request: HttpRequest, row_id: int):
    """GET asks to confirm; POST deletes the row for good. Admins only."""
    check_admin(request.user)
    row = _quarantined(row_id)
    if request.method == "POST":
        actions.do_discard_quarantined(request.user, row.pk)
        messages.success(request, f"Discarded #{row_id}.")
        return redirect("settings-quarantine")
    return render(request, "console/settings_quarantine.html", {"confirm": describe(row)})
