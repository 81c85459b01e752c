"""The one shape every channel's inbound traffic takes on its way to ``do_receive_inbound``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Sender:
    """Who wrote: an identity kind ("email", "phone", "visitor") and its raw value, plus a name if known."""

    kind: str
    value: str
    display_name: str = ""


@dataclass(frozen=True)
class InboundEnvelope:
    """One inbound message or event, parsed from a transport payload by an adapter's ``parse_*``.

    ``external_id`` is unique within the inbox for this message (the provider's id, or the widget
    client's id scoped by visitor): receiving the same envelope twice stores it once.
    ``thread_hint`` is a conversation id the adapter recovered from the message (a signed email
    Message-ID, say); it is honoured only if that conversation belongs to the same customer and inbox.
    ``continue_latest`` says whether the customer's latest conversation in the inbox continues when no
    hint matched (chat and SMS: yes; an email without reply headers: no).
    ``attachment_ids`` are files the sender uploaded beforehand into this inbox (the widget's upload
    endpoint); they are bound to the stored entry, and only if that same sender uploaded them.
    """

    inbox_id: int
    external_id: str
    sender: Sender
    body: str
    kind: str = "message"
    subject: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    thread_hint: int | None = None
    continue_latest: bool = True
    attachment_ids: tuple[int, ...] = ()
