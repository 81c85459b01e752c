"""JSON responses for the console's hottest reads, encoded by orjson.

Django's JsonResponse runs the standard library's encoder with DjangoJSONEncoder; for a page of fifty
timeline entries that was an eighth of the request's whole time on the server, where orjson takes a
tenth of it (docs/decisions.md D14). Only for payloads that are already plain JSON types (the timeline
readers build them so, with datetimes as isoformat strings): orjson writes datetime objects its own
way, unlike DjangoJSONEncoder.
"""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse
from django.utils.functional import Promise


class FastJsonResponse(HttpResponse):
    def __init__(self, data: dict[str, Any], **kwargs):
        kwargs.setdefault("content_type", "application/json")
        super().__init__(orjson.dumps(data, default=_lazy_text), **kwargs)


def _lazy_text(value: Any) -> str:
    # A translatable label (gettext_lazy) is text, as DjangoJSONEncoder has it; anything else orjson
    # cannot write is a bug in the payload, and raises.
    if isinstance(value, Promise):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
