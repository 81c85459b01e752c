"""The agent console: one page, plus the JSON reads its script needs. Writes go over the socket."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import render

from contact_center import history, lists, search
from contact_center.access import (
    AccessDenied,
    access_conversation,
    access_customer,
    assignable_agents,
    visible_conversations,
    visible_inboxes,
)
from contact_center.actions import merging, reply_via, saved_views
from contact_center.actions.customer_profile import account_owners
from contact_center.lib import payloads
from contact_center.lib.es_modules import module_tree
from contact_center.lib.responses import FastJsonResponse
from contact_center.lib.schema import parse_query
from contact_center.models import Company, Customer, Inbox, Team, TimelineEntry
from contact_center.views import queries
from kb import search as kb_search


@login_required
def index(request: HttpRequest):
    # The list filters' choices: what this agent can narrow a list to.
    inboxes = list(visible_inboxes(request.user).order_by("name", "pk"))
    # Only channels with an inbox this agent sees: a kind nothing can arrive in yet (WhatsApp, voice)
    # would be a filter that always lists nothing. The list's own query still accepts every kind.
    kinds = {inbox.kind for inbox in inboxes}
    return render(
        request,
        "console/index.html",
        {
            "inboxes": inboxes,
            "teams": Team.objects.order_by("name"),
            "channels": [(value, name) for value, name in Inbox.Kind.choices if value in kinds],
            # The reply box's "Knowledge base" button: only when articles have an address to link.
            "kb_links": kb_search.links_enabled(),
            # Fetched in parallel with main.js instead of one import level at a time.
            "modules": module_tree("console/main.js"),
        },
    )


@login_required
def conversation_list(request: HttpRequest) -> JsonResponse:
    """One page of a conversation list: ``?view=all|mine|unassigned&status=&inbox=&sort=&cursor=``
    (contact_center/lists.py). Answers the page and the cursor of the next one."""
    params = parse_query(request, queries.ListParams)
    if isinstance(params, JsonResponse):
        return params
    try:
        query = lists.check_list_query(params.content())
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    rows, cursor = lists.conversation_page(request.user, query)
    return JsonResponse({"conversations": [payloads.conversation_summary(c) for c in rows], "next": cursor})


@login_required
def saved_view_list(request: HttpRequest) -> JsonResponse:
    """The agent's saved views and the shared ones (contact_center/actions/saved_views.py)."""
    views = saved_views.visible_views(request.user)
    return JsonResponse({"views": [saved_views.view_payload(view, request.user) for view in views]})


@login_required
def conversation_counts(request: HttpRequest) -> JsonResponse:
    """How many open conversations each view holds, for the console's view tabs."""
    return JsonResponse(lists.view_counts(request.user))


@login_required
def search_results(request: HttpRequest) -> JsonResponse:
    """One page of search results: ``?q=&kind=messages|conversations|customers&cursor=``
    (contact_center/search.py). Answers the results and the cursor of the next page."""
    params = parse_query(request, queries.SearchParams)
    if isinstance(params, JsonResponse):
        return params
    try:
        sent = params.content()
        page = search.search(request.user, sent.get("q"), sent.get("kind"), params.cursor or None)
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    return JsonResponse(page)


@login_required
def conversation_entries(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """A page of the timeline: the newest, with what the thread's menus offer, or the one before
    ``?before=<seq>``, entries only."""
    try:
        conversation = access_conversation(request.user, conversation_id)
    except AccessDenied as exc:
        raise Http404("no such conversation") from exc
    params = parse_query(request, queries.EntriesParams)
    if isinstance(params, JsonResponse):
        return params
    before = int(params.before) if params.before else None
    entries = history.entries_before(conversation.pk, before)
    at_the_start = bool(entries) and entries[0]["seq"] == 1
    # Older than this conversation: the customer's timeline, from this cursor (None until the page
    # reaches the conversation's first entry, and None when there is nothing older the agent may see:
    # "Earlier conversations" is offered only when it leads somewhere).
    earlier = None
    if at_the_start and _has_entries_before(request.user, entries[0]):
        earlier = history.customer_cursor_before(entries[0])
    if before is not None:
        # Scrolling back: the thread already holds the conversation and its menus, only entries are new.
        return FastJsonResponse({"entries": entries, "earlier": earlier})
    return FastJsonResponse(
        {
            "conversation": payloads.conversation_summary(conversation),
            "entries": entries,
            "earlier": earlier,
            # Who the assignee menu offers: everyone who can see this inbox.
            "assignees": [
                {"id": agent.pk, "name": agent.public_name} for agent in assignable_agents(conversation.inbox_id)
            ],
            # What the team menu offers: every team (a conversation may go to any).
            "teams": [{"id": team.pk, "name": team.name} for team in Team.objects.order_by("name")],
            # What "Merge into" offers: the customer's other conversations in this inbox.
            "merge_targets": [
                {
                    "id": c.pk,
                    "subject": c.subject,
                    "status": c.status,
                    "last_activity_at": c.last_activity_at.isoformat(),
                }
                for c in merging.merge_targets(request.user, conversation)
            ],
            # What "Move to" offers: other inboxes of the same channel the agent can see.
            "move_targets": [
                {"id": inbox.pk, "name": inbox.name} for inbox in merging.move_targets(request.user, conversation)
            ],
            # What "Reply via" offers: the conversation's own channel, then the customer's other addresses.
            "reply_options": reply_via.reply_options(request.user, conversation),
        }
    )


def _has_entries_before(agent, entry: dict) -> bool:
    """Whether the customer of ``entry`` (an agent payload) has an entry older than it, in the order of
    ``history.customer_entries_before``, in an inbox ``agent`` may see. One query, on the customer's
    (customer, created_at, id) index."""
    at = datetime.fromisoformat(entry["created_at"])
    older = TimelineEntry.objects.filter(customer_id=entry["customer"], created_at__lte=at).filter(
        Q(created_at__lt=at) | Q(pk__lt=entry["id"])
    )
    if not agent.sees_every_inbox:
        older = older.filter(inbox__in=visible_inboxes(agent))
    return older.exists()


@login_required
def customer_timeline(request: HttpRequest, customer_id: int) -> JsonResponse:
    """The customer's history across every conversation and channel: the newest page, or the one
    before ``?before=<cursor>`` (the ``next`` of the page after it). contact_center/history.py."""
    params = parse_query(request, queries.TimelineParams)
    if isinstance(params, JsonResponse):
        return params
    try:
        page = history.customer_entries_before(request.user, customer_id, params.before or None)
    except AccessDenied as exc:
        raise Http404("no such customer") from exc
    except ValidationError as exc:
        return JsonResponse({"error": exc.messages[0]}, status=400)
    return FastJsonResponse(page)


# Past conversations the sidebar lists; older ones are one click further, in a later issue's search.
CUSTOMER_CONVERSATIONS = 20


@login_required
def customer_profile(request: HttpRequest, customer_id: int) -> JsonResponse:
    """The customer's profile, their conversations the agent may see (newest first), and who the
    account-owner menu offers (any active agent)."""
    try:
        customer = access_customer(request.user, customer_id)
    except AccessDenied as exc:
        raise Http404("no such customer") from exc
    customer = (
        Customer.objects.select_related("company", "account_owner")
        .prefetch_related("identities", "labels")
        .get(pk=customer.pk)
    )
    conversations = (
        visible_conversations(request.user)
        .filter(customer=customer, merged_into__isnull=True)
        .select_related(*payloads.SUMMARY_RELATED)
        .prefetch_related("labels")
        .order_by("-created_at", "-pk")[:CUSTOMER_CONVERSATIONS]
    )
    return JsonResponse(
        {
            "customer": payloads.customer_for_agent(customer),
            "conversations": [payloads.conversation_summary(c) for c in conversations],
            "owners": [{"id": agent.pk, "name": agent.public_name} for agent in account_owners()],
        }
    )


# Companies the company field suggests as the agent types.
COMPANY_SUGGESTIONS = 20


@login_required
def company_list(request: HttpRequest) -> JsonResponse:
    """Companies whose name contains ``?q=`` (all without it), by name: the first 20. Any agent."""
    params = parse_query(request, queries.TextParams)
    if isinstance(params, JsonResponse):
        return params
    companies = Company.objects.all()
    query = " ".join(params.q.split())
    if query:
        companies = companies.filter(name__icontains=query)
    return JsonResponse(
        {"companies": [{"id": c.pk, "name": c.name, "domain": c.domain} for c in companies[:COMPANY_SUGGESTIONS]]}
    )
