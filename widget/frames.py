"""The visitor socket's frames, as declared types: what each frame may carry (docs/protocols/widget-socket.md).

VisitorConsumer validates every frame into its model before a handler runs; a frame that is not of its
declared shape is answered with bad_frame (contact_center/lib/schema.py). Values the protocol checks
further (a body's length, a page's URL, attachments that are the visitor's, identity and attributes)
are the check_* functions', with their own error codes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from contact_center.lib.schema import Body, ClientId, Frame, Id, Int, LooseSeq, Ref, ShortText, text

# Previews are cut to the agents' limit where sent; this bound is the frame's.
Preview = text(64 * 1024)


class Resume(Frame):
    """hello and sync: what the client holds. The server reads either key in either frame."""

    last_seq: LooseSeq = 0
    after: LooseSeq = 0


class Send(Frame):
    echo: ClassVar[tuple[str, ...]] = ("client_id",)

    client_id: ClientId
    body: Body = ""
    # Stored cut to 2,000 / 300 characters; anything but an object is ignored (the protocol).
    page: Any = None
    # check_attachment_ids answers `invalid` for anything but a list of at most 10 ids (the protocol).
    attachments: Any = None


class Page(Frame):
    # check_page decides what a page may be (`invalid` otherwise).
    page: Any = None


class Identify(Frame):
    answer_for: ClassVar[bool] = True

    user_id: ShortText | Int | None = None
    user_hash: ShortText | None = None
    email: ShortText | None = None
    email_hash: ShortText | None = None
    phone: ShortText | None = None
    phone_hash: ShortText | None = None
    name: ShortText | None = None


class Attributes(Frame):
    answer_for: ClassVar[bool] = True

    # check_attributes decides (JSON scalars, names, how many); check_json has bounded every value.
    attributes: Any = None


class Prechat(Frame):
    answer_for: ClassVar[bool] = True

    # check_prechat decides, against the inbox's form.
    fields: Any = None


class Typing(Frame):
    preview: Preview = ""


class Csat(Frame):
    echo: ClassVar[tuple[str, ...]] = ("conversation",)

    conversation: Ref = None
    # do_rate_conversation decides which ratings exist (`invalid` otherwise).
    rating: Any = None
    comment: ShortText = ""


class Seen(Frame):
    seq: Id
    conversation: Ref = None


FRAMES: dict[str, type[Frame]] = {
    "hello": Resume,
    "sync": Resume,
    "send": Send,
    "page": Page,
    "identify": Identify,
    "attributes": Attributes,
    "prechat": Prechat,
    "typing": Typing,
    "csat": Csat,
    "seen": Seen,
}
