"""The agent console: one page, plus the JSON reads its script needs. Writes go over the socket."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import render

from contact_center import history
from contact_center.access import AccessDenied, access_conversation, assignable_agents, visible_conversations
from contact_center.lib import payloads

LIST_LIMIT = 50


@login_required
def index(request: HttpRequest):
    return render(request, "console/index.html")


@login_required
def conversation_list(request: HttpRequest) -> JsonResponse:
    """The newest conversations the agent may see, newest activity first (keyset on activity time)."""
    rows = visible_conversations(request.user).select_related("inbox", "customer", "assignee")
    status = request.GET.get("status")
    if status:
        rows = rows.filter(status=status)
    rows = rows.order_by("-last_activity_at", "-pk")[:LIST_LIMIT]
    return JsonResponse({"conversations": [payloads.conversation_summary(c) for c in rows]})


@login_required
def conversation_entries(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """A page of the timeline: the newest, or the one before ``?before=<seq>``."""
    try:
        conversation = access_conversation(request.user, conversation_id)
    except AccessDenied as exc:
        raise Http404("no such conversation") from exc
    before = request.GET.get("before")
    try:
        before = int(before) if before else None
    except ValueError:
        return JsonResponse({"error": "before must be a seq number"}, status=400)
    return JsonResponse(
        {
            "conversation": payloads.conversation_summary(conversation),
            "entries": history.entries_before(conversation.pk, before),
            # Who the assignee menu offers: everyone who can see this inbox.
            "assignees": [
                {"id": agent.pk, "name": agent.public_name} for agent in assignable_agents(conversation.inbox_id)
            ],
        }
    )
