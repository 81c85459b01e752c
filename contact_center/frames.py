"""The console socket's frames, as declared types: what each frame may carry (docs/protocols/console-socket.md).

AgentConsumer validates every frame into its model before a handler runs; a frame that is not of its
declared shape is answered with bad_frame (contact_center/lib/schema.py), echoing the field the
protocol's errors carry (conversation, client_id, customer, view). What a valid shape may mean (a
status that exists, a label that exists, an agent who may be assigned) stays with the actions.

A conversation is a `Ref`: the protocol answers an id that is no row's (a string, a number too big for
a row) with not_found, so the handler checks it with is_id(). Other ids are `Id`: out of range or not
an integer is a bad_frame.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, StrictStr

from contact_center.lib.schema import Body, ClientId, Frame, Id, LooseSeq, Ref

# The most conversations one hello may resume (the protocol's limit).
MAX_RESUME = 500
# Labels one frame may name; the actions' own limit (50) answers `invalid`.
MAX_IDS = 1_000


class ConversationFrame(Frame):
    echo: ClassVar[tuple[str, ...]] = ("conversation",)

    conversation: Ref = None


class Hello(Frame):
    # conversation id (a JSON object key, so text) -> the highest contiguous seq held.
    resume: dict[StrictStr, Any] | None = Field(default=None, max_length=MAX_RESUME)


class Sync(ConversationFrame):
    after: LooseSeq = 0


class Write(Frame):
    """reply and note."""

    echo: ClassVar[tuple[str, ...]] = ("client_id",)

    client_id: ClientId
    conversation: Ref = None
    body: Body = ""
    # do_send_reply / check_attachment_ids answer `invalid` for what they cannot use (protocol).
    via: Any = None
    attachments: Any = None


class Typing(ConversationFrame):
    # Any value but true means false (the protocol).
    typing: Any = None


class Viewing(ConversationFrame):
    typing: Any = None
    left: Any = None


class Read(ConversationFrame):
    seq: Id


class Status(ConversationFrame):
    status: Any = None


class Snooze(ConversationFrame):
    until: Any = None


class Assign(ConversationFrame):
    # Required, but its absence is the handler's to name ("assignee is an agent id or null").
    assignee: Any = None


class Team(ConversationFrame):
    team: Any = None


class Priority(ConversationFrame):
    priority: Any = None


class Labels(ConversationFrame):
    labels: Any = None


class Merge(ConversationFrame):
    into: Any = None


class Move(ConversationFrame):
    inbox: Any = None


class Customer(Frame):
    """Every other field is a change, checked by do_update_customer (an unknown one is refused there)."""

    echo: ClassVar[tuple[str, ...]] = ("customer",)

    customer: Ref = None
    # Each change is do_update_customer's to check (`invalid` with its field).


class Availability(Frame):
    # do_set_availability names the values (bad_frame otherwise, the protocol).
    availability: Any = None


class SaveView(Frame):
    name: Any = None
    filters: Any = None
    shared: Any = False


class DeleteView(Frame):
    echo: ClassVar[tuple[str, ...]] = ("view",)

    view: Any = None


FRAMES: dict[str, type[Frame]] = {
    "hello": Hello,
    "sync": Sync,
    "reply": Write,
    "note": Write,
    "typing": Typing,
    "viewing": Viewing,
    "read": Read,
    "status": Status,
    "snooze": Snooze,
    "assign": Assign,
    "team": Team,
    "priority": Priority,
    "labels": Labels,
    "merge": Merge,
    "move": Move,
    "customer": Customer,
    "availability": Availability,
    "view.save": SaveView,
    "view.delete": DeleteView,
}
