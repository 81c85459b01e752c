"""The widget's JSON bodies, as declared types (docs/protocols/widget-socket.md, the HTTP sections).

Each endpoint validates its body into its model before anything else (contact_center/lib/schema.py):
not JSON, not an object, nested past 1024 levels, a NUL character, an integer past 2^63-1 or a field of
the wrong type is a 400 ``{"error": ...}``. Fields that a check_* function reads (a page, an email, a
body's length) stay that function's, with the endpoint's documented messages.
"""

from __future__ import annotations

from typing import Any, ClassVar

from contact_center.lib.schema import ClientId, Id, LooseSeq, Request, ShortText

TOKEN_REQUIRED = {"token": "token is required"}


class Session(Request):
    messages: ClassVar[dict[str, str]] = {"inbox": "inbox is required"}

    inbox: ShortText
    token: Any = None


class Visitor(Request):
    """Every endpoint after the session: the visitor token."""

    messages: ClassVar[dict[str, str]] = TOKEN_REQUIRED

    token: ShortText


class Poll(Visitor):
    last_seq: LooseSeq = 0
    page: Any = None  # check_page's


class Message(Visitor):
    messages: ClassVar[dict[str, str]] = {**TOKEN_REQUIRED, "client_id": "client_id is required"}

    client_id: ClientId
    body: Any = ""  # check_body's (anything but text counts as empty, as on the socket)
    page: Any = None
    attachments: Any = None  # check_attachment_ids'


class Offline(Message):
    name_field: ClassVar[bool] = True

    email: Any = None  # check_reply_email's


class Transcript(Visitor):
    email: Any = None


class Suggestions(Visitor):
    # The length limit is the endpoint's (its documented message).
    text: Any = None


class Deflection(Visitor):
    messages: ClassVar[dict[str, str]] = {**TOKEN_REQUIRED, "article": "article must be an article id"}

    article: Id | None = None
    outcome: Any = None
    query: Any = ""
