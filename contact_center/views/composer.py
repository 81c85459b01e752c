"""What the console's reply box needs beside the socket: agents' file uploads, knowledge-base look-ups.

Protocol: docs/protocols/console-socket.md, section 4. Both need a logged-in agent who can see the
conversation named; the upload is a POST under Django's CSRF protection (the console sends the page's
token in ``X-CSRFToken``), since the session cookie would ride along with any site's form.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from contact_center.access import AccessDenied, access_conversation
from contact_center.actions.attachments import UploadRefused, do_store_upload
from contact_center.lib.payloads import attachment_payload
from contact_center.lib.schema import is_id, parse_query
from contact_center.views import queries
from kb import search as kb_search

# Articles the knowledge-base search in the reply box lists.
KB_RESULTS = 8
KB_QUERY_MAX_CHARS = 200


@login_required
@require_POST
def upload(request: HttpRequest) -> JsonResponse:
    """Store the multipart field ``file`` as the agent's unsent upload to the inbox of the conversation
    named by the field ``conversation``; 201 with its description. The inbox's file limits apply, as
    for visitors (docs/widget.md, "Attachments"). A ``reply`` or ``note`` frame then names its id."""
    try:
        conversation = access_conversation(request.user, _conversation_id(request.POST.get("conversation", "")))
    except AccessDenied:
        return JsonResponse({"error": "no such conversation"}, status=404)
    file = request.FILES.get("file")
    try:
        if file is None:
            raise UploadRefused("send the file in a multipart field named file", status=400)
        attachment = do_store_upload(
            conversation.inbox, f"agent:{request.user.pk}", file, file.name or "", file.content_type or ""
        )
    except UploadRefused as refused:
        return JsonResponse({"error": refused.messages[0]}, status=refused.status)
    described = attachment_payload(attachment)
    # Nothing to fetch before the message is sent: the link comes with the entry.
    del described["url"]
    return JsonResponse(described, status=201)


@login_required
@require_GET
def kb_articles(request: HttpRequest) -> JsonResponse:
    """``?conversation=<id>&q=<words>``: published articles offered in the conversation's inbox that
    match, best first, each with its public ``url`` (null while the knowledge base has no public
    address, ``PARLEY_KB_ARTICLE_URL``). The same search as the widget's suggestions (kb.search)."""
    params = parse_query(request, queries.KbParams)
    if isinstance(params, JsonResponse):
        return params
    try:
        conversation = access_conversation(request.user, _conversation_id(params.conversation))
    except AccessDenied:
        return JsonResponse({"error": "no such conversation"}, status=404)
    query = params.q[:KB_QUERY_MAX_CHARS]
    found = kb_search.suggest(conversation.inbox_id, query, limit=KB_RESULTS)
    urls = kb_search.article_urls([article.id for article in found])
    return JsonResponse({"articles": [{**article.public(), "url": urls.get(article.id)} for article in found]})


def _conversation_id(value: str) -> int:
    """The conversation a request names; AccessDenied (a 404) for text that names no row."""
    conversation_id = int(value) if value.isascii() and value.isdigit() else 0
    if not is_id(conversation_id):
        raise AccessDenied("no such conversation")
    return conversation_id
