"""Exports: the conversation list on screen as CSV, for a spreadsheet or a report.

Built from the same list code as the console (contact_center/lists.py), page after keyset page, so it
holds exactly what the agent may see, costs two queries per 500 rows and streams in constant memory
however long the list.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.utils import timezone

from contact_center import lists
from contact_center.lib.schema import parse_query
from contact_center.models import Agent, Conversation
from contact_center.views import queries

BATCH = 500
COLUMNS = [
    "id",
    "inbox",
    "channel",
    "customer",
    "status",
    "assignee",
    "team",
    "priority",
    "labels",
    "subject",
    "created_at",
    "last_activity_at",
    "first_response_at",
    "waiting_since",
    "sla_due_at",
    "resolved_at",
]


class _Echo:
    """csv.writer wants a file; this one hands each line back to be streamed."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value) -> str:
    """The value as text a spreadsheet will not run: customers write subjects and names, and a cell
    starting with = + - @ (or a tab or carriage return) is a formula to Excel and LibreOffice
    (OWASP's "CSV injection"). Such cells get a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _when(value) -> str:
    return value.isoformat() if value else ""


def row_of(conversation: Conversation) -> list[str]:
    labels = sorted(label.name for label in conversation.labels.all())
    cells = [
        conversation.pk,
        conversation.inbox.name,
        conversation.inbox.kind,
        str(conversation.customer),
        conversation.status,
        conversation.assignee.public_name if conversation.assignee else "",
        conversation.team.name if conversation.team else "",
        Conversation.Priority(conversation.priority).label.lower(),
        ", ".join(labels),
        conversation.subject,
        _when(conversation.created_at),
        _when(conversation.last_activity_at),
        _when(conversation.first_response_at),
        _when(conversation.waiting_since),
        _when(conversation.sla_due_at),
        _when(conversation.resolved_at),
    ]
    return [safe_cell(cell) for cell in cells]


def csv_lines(agent: Agent, query: lists.ListQuery) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    while True:
        rows, cursor = lists.conversation_page(agent, query, limit=BATCH)
        for conversation in rows:
            yield writer.writerow(row_of(conversation))
        if cursor is None:
            return
        query = lists.check_list_query({**query_params(query), "cursor": cursor})


def query_params(query: lists.ListQuery) -> dict[str, str]:
    """The request parameters of ``query`` (without its cursor), as check_list_query takes them."""
    params = {
        "view": query.view,
        "status": query.status,
        "inbox": query.inbox_id,
        "team": query.team_id,
        "channel": query.channel,
        "label": query.label_id,
        "sort": query.sort,
    }
    return {key: str(value) for key, value in params.items() if value is not None}


@login_required
def conversations_csv(request: HttpRequest):
    """``GET /console/export/conversations.csv`` with the list's parameters (no cursor): every row of
    that list, as CSV."""
    params = parse_query(request, queries.ListParams)
    if isinstance(params, JsonResponse):
        return params
    try:
        query = lists.check_list_query({key: value for key, value in params.content().items() if key != "cursor"})
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    response = StreamingHttpResponse(csv_lines(request.user, query), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="parley-conversations-{stamp}.csv"'
    return response
