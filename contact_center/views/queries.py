"""The console's query strings, as declared types (contact_center/lib/schema.py, parse_query).

Every JSON read of the console validates its parameters into one of these before a query runs: a NUL
character, text past 2,000 characters, or an id that is not ASCII digits within 2^63-1 is a 400
``{"error": ...}``. What the values mean (a view, a sort, a cursor) stays the readers' to check.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field, StrictStr

from contact_center.lib.schema import MAX_SHORT_TEXT, QueryId, QueryText, Request

# What an agent types into the search box: any text, NUL included (contact_center/search.py only makes
# words of it, and what agents type is never an error there).
SearchText = Annotated[StrictStr, Field(max_length=MAX_SHORT_TEXT)]


class ListParams(Request):
    """GET /console/api/conversations/ and the CSV export: contact_center/lists.py checks the values."""

    messages: ClassVar[dict[str, str]] = {
        "inbox": "inbox is an inbox id",
        "team": "team is a team id",
        "label": "label is a label id",
    }

    view: QueryText = ""
    status: QueryText = ""
    inbox: QueryId = ""
    team: QueryId = ""
    channel: QueryText = ""
    label: QueryId = ""
    sort: QueryText = ""
    cursor: QueryText = ""


class SearchParams(Request):
    q: SearchText = ""
    kind: QueryText = ""
    cursor: QueryText = ""


class EntriesParams(Request):
    messages: ClassVar[dict[str, str]] = {"before": "before must be a seq number"}

    before: QueryId = ""


class TimelineParams(Request):
    before: QueryText = ""


class TextParams(Request):
    """Search boxes: ?q= (companies)."""

    q: QueryText = ""


class KbParams(Request):
    # Any text: one that names no conversation is answered 404, like one the agent may not see.
    conversation: QueryText = ""
    q: QueryText = ""
