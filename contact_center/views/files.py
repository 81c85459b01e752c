"""Serving attachments: only through a signed, unexpired link (contact_center/lib/attachment_links.py).

Customers upload whatever they like, so a file must never run as a page on Parley's origin: only the
raster images that were recognised by their bytes are shown inline; everything else is a download,
sent as opaque bytes when its type is one a browser would render (HTML, SVG, XML, scripts). Every
answer says nosniff and carries a sandboxing CSP in case a browser opens it anyway.
"""

from __future__ import annotations

from django.core import signing
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from contact_center.lib.attachment_links import check_attachment_token
from contact_center.lib.filetypes import INLINE_IMAGE_TYPES
from contact_center.models import Attachment

_DOWNLOAD_AS_IS = frozenset({"application/pdf", "text/plain"})


@require_safe
def attachment(request: HttpRequest, token: str, filename: str = "") -> HttpResponse:
    try:
        attachment_id = check_attachment_token(token)
    except signing.SignatureExpired:
        return HttpResponse("This link has expired. Reopen the conversation for a fresh one.", status=410)
    except signing.BadSignature as exc:
        raise Http404("no such file") from exc
    found = Attachment.objects.filter(pk=attachment_id, entry__isnull=False).first()
    if found is None:
        raise Http404("no such file")
    inline = found.content_type in INLINE_IMAGE_TYPES
    if inline or found.content_type in _DOWNLOAD_AS_IS:
        content_type = found.content_type + ("; charset=utf-8" if found.content_type == "text/plain" else "")
    else:
        content_type = "application/octet-stream"
    response = FileResponse(
        found.file.open("rb"), as_attachment=not inline, filename=found.filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    response["Referrer-Policy"] = "no-referrer"
    # The link is the credential: shared caches must not keep the file for others.
    response["Cache-Control"] = "private, max-age=3600"
    return response
