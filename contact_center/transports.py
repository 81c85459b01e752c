"""The contract between the outbox and each channel's transport, and the registry that finds them.

The core never imports an adapter: ``settings.PARLEY_TRANSPORTS`` maps an inbox kind to a dotted path,
resolved on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


class TransportError(Exception):
    """A delivery failed. ``permanent=True`` means retrying cannot help (a bad address, a refused
    recipient): the delivery goes dead at once instead of being retried with backoff."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class OutboundAttachment:
    """A file an outbound entry carries. ``url`` is a signed link that expires after
    ``PARLEY_ATTACHMENT_URL_MAX_AGE``; ``path`` names the file in Django's default storage, for
    transports that send the bytes themselves (email)."""

    filename: str
    content_type: str
    size: int
    url: str
    path: str


@dataclass(frozen=True)
class OutboundMessage:
    """Everything a transport needs, as plain data: transports never touch the ORM."""

    delivery_id: int
    idempotency_key: str
    inbox: dict[str, Any]
    conversation_id: int
    customer_id: int
    to_kind: str | None
    to_value: str | None
    subject: str
    body: str
    # The entry as the customer sees it (the widget forwards this over the visitor socket).
    public_entry: dict[str, Any]
    # The PARLEY_TRANSPORTS key chosen when the delivery was queued: usually the inbox's kind, "email"
    # for widget conversations answered by email (offline mode) and for transcripts, the channel of the
    # inbox a reply goes out through when the agent chose another address (``via``, actions/reply_via.py).
    transport: str = ""
    # The entry's files, in upload order. Channels that cannot carry files send ``text_with_links``.
    attachments: tuple[OutboundAttachment, ...] = ()
    # What an email reply needs to thread in the customer's mail client: the Message-ID of the newest
    # mail the customer sent in this conversation (In-Reply-To) and that mail's References followed by
    # its Message-ID (References). Empty when the conversation holds no mail.
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    # An email Parley composed on its own (a transcript): it carries its own subject and is no reply,
    # so it gets neither "Re:" nor the thread headers.
    standalone: bool = False

    def text_with_links(self, files: tuple[OutboundAttachment, ...] | None = None) -> str:
        """``body`` followed by one line per file of ``files`` (all of them by default): its name and
        signed link. What a text-only channel (SMS) sends instead of the files themselves."""
        files = self.attachments if files is None else files
        lines = [f"{f.filename}: {f.url}" for f in files]
        return "\n\n".join(part for part in (self.body, "\n".join(lines)) if part)


class Transport:
    """Carries outbound entries over one channel.

    ``send`` is called by an outbox worker outside any transaction, once per attempt, with the same
    ``idempotency_key`` on every attempt of one delivery; transports that talk to a provider pass it
    on so a retry after a lost acknowledgement does not send twice. It returns the provider's message
    id (or None) on success and raises ``TransportError`` on failure. It must not block the event loop.
    """

    async def send(self, message: OutboundMessage) -> str | None:
        raise NotImplementedError


@cache
def get_transport(kind: str) -> Transport:
    """The transport for inboxes of ``kind``; ``TransportError(permanent=True)`` if none is configured."""
    path = settings.PARLEY_TRANSPORTS.get(kind)
    if not path:
        raise TransportError(f"no transport is configured for {kind!r} inboxes", permanent=True)
    return import_string(path)()
