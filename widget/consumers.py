"""The visitor socket. A pipe: authenticate, validate frames, call one action, forward events.

Protocol: docs/protocols/widget-socket.md.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from django.core import signing
from django.core.exceptions import ValidationError

from contact_center import history
from contact_center.access import AccessDenied
from contact_center.actions.attachments import check_attachment_ids
from contact_center.actions.customers import (
    VisitorCustomer,
    check_attributes,
    check_identity_claims,
    check_prechat,
    do_identify_visitor,
    do_set_visitor_attributes,
    do_submit_prechat,
)
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.receipts import do_mark_read_by_customer
from contact_center.actions.replies import check_body
from contact_center.actions.surveys import do_rate_conversation
from contact_center.actions.typing import do_send_visitor_typing
from contact_center.actions.visitors import check_page, do_record_page
from contact_center.database_threads import db_call
from contact_center.lib import payloads, recipients
from contact_center.lib.delivered import Delivered
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.lib.ratelimit import client_ip_of_scope
from contact_center.lib.sockets import JsonFrameConsumer, bad_frame
from contact_center.models import Inbox
from widget.frames import FRAMES
from widget.inboxes import cached_widget_inbox, widget_inbox
from widget.limits import message_limited, profile_limited, rate_limited_frame
from widget.origins import origin_allowed
from widget.tokens import check_visitor_token

logger = logging.getLogger(__name__)

CLOSE_BAD_TOKEN = 4401
CLOSE_BAD_ORIGIN = 4403
# At most one typing preview per visitor socket a second reaches the agents; frame.js sends one every
# 1.5 s at most, so only clients that do not throttle themselves lose previews.
TYPING_MIN_INTERVAL_SECONDS = 1.0


class VisitorConsumer(JsonFrameConsumer):
    frames = FRAMES
    inbox_id: int | None = None
    visitor_id: str = ""
    customer_id: int | None = None
    conversation_id: int | None = None
    # The page the visitor is on, and the (conversation, page) last stored: a visitor without a
    # conversation browses too, and their page is stored when their first message opens one.
    page: dict | None = None
    page_stored: tuple | None = None
    # Event-loop time of the last typing preview forwarded to the agents.
    typing_forwarded_at: float = float("-inf")
    # The seqs this socket has sent its client (made on first use: connect() is not the place).
    delivered: Delivered | None = None

    async def connect(self):
        token = parse_qs(self.scope.get("query_string", b"").decode()).get("token", [""])[0]
        try:
            claim = check_visitor_token(token)
        except signing.BadSignature:
            await self._refuse(CLOSE_BAD_TOKEN)
            return
        # One hop to the database thread: the inbox (usually from widget/inboxes.py's cache) and the
        # visitor's conversation together.
        refusal, inbox_id, known = await db_call(_connect_facts, claim.inbox_key, claim.visitor_id, _origin(self.scope))
        if refusal is not None:
            await self._refuse(refusal)
            return
        self.inbox_id = inbox_id
        self.visitor_id = claim.visitor_id
        self.authenticated = True
        # Every socket of this visitor hears the others: a first message or an identify in one tab
        # tells the rest which customer they now speak for.
        groups = [recipients.new_visitor_group(self.inbox_id, self.visitor_id)]
        if known is not None:
            self.conversation_id, self.customer_id = known
            groups.append(recipients.visitor_group(self.inbox_id, self.customer_id))
        await self.join_groups(groups)
        await self.accept()

    async def _refuse(self, code: int):
        # Accept, then close: a close before accepting is answered with HTTP 403 (ASGI spec) and the
        # browser only sees 1006, so the frame could not tell a dead token from a network failure.
        await self.accept()
        await self.close(code=code)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "hello" or kind == "sync":
            await self._replay(_int(content.get("last_seq", content.get("after")), default=0), sync=kind == "sync")
        elif kind == "send":
            await self._send_message(content)
        elif kind in ("identify", "attributes", "prechat"):
            await self._describe_visitor(kind, content)
        elif kind == "typing":
            await self._typing(content)
        elif kind == "csat":
            await self._rate(content)
        elif kind == "page":
            await self._on_page(content)
        elif kind == "seen":
            await self._seen(content)
        else:
            await self.send_json(bad_frame("unknown frame type"))

    async def cc_event(self, message):
        event = message["event"]
        if event.get("type") == "message":
            self.conversation_id = event["message"].get("conversation", self.conversation_id)
            # The sender's own message after its ack, or an entry a replay carried already: not twice.
            await self._send_entry("message", event["message"])
            return
        await self.send_json(event)

    async def cc_visitor_bound(self, message):
        """Another socket of this visitor stored their first message: follow the new customer too."""
        if self.customer_id is not None:
            return  # the socket that wrote it, or one bound already
        self.customer_id, self.conversation_id = message["customer_id"], message["conversation_id"]
        await self._join()
        # What was published before this socket joined (at least that first message) comes from the
        # database; the client drops what it already holds by seq.
        await self._send_missed(0)

    async def cc_visitor_moved(self, message):
        """Another socket of this visitor identified them as another customer: follow it there."""
        await self._follow(message["customer_id"], message["conversation_id"])

    async def _describe_visitor(self, kind: str, content):
        # Counted before the database: each of these may create a customer and tells every console of the
        # inbox, so a script repeating them must be stopped here (docs/security.md).
        retry_after = await sync_to_async(profile_limited, thread_sensitive=False)(
            self.visitor_id, client_ip_of_scope(self.scope), new_customer=self.customer_id is None
        )
        if retry_after is not None:
            await self.send_json(rate_limited_frame(retry_after, for_=kind))
            return
        try:
            result = await db_call(_DESCRIBE[kind], self.inbox_id, self.visitor_id, content)
        except ValidationError as exc:
            await self.send_json(_refusal(kind, exc))
            return
        if kind == "identify":
            await self.send_json({"type": "identified", "verified": result["verified"]})
        else:
            await self.send_json({"type": f"{kind}.saved"})
        customer_id, conversation_id = result["customer_id"], result["conversation_id"]
        if customer_id != self.customer_id:
            await self._follow(customer_id, conversation_id)
            await self.channel_layer.group_send(
                recipients.new_visitor_group(self.inbox_id, self.visitor_id),
                {"type": "cc.visitor_moved", "customer_id": customer_id, "conversation_id": conversation_id},
            )

    async def _follow(self, customer_id: int, conversation_id: int | None):
        if customer_id == self.customer_id:
            return  # the socket that asked, or one that followed already
        if self.customer_id is not None:
            await self.leave_group(recipients.visitor_group(self.inbox_id, self.customer_id))
        previous_conversation = self.conversation_id
        self.customer_id, self.conversation_id = customer_id, conversation_id
        await self._join()
        if conversation_id != previous_conversation:
            # What the client holds belongs to another conversation (or none): it starts over with hello 0.
            await self.send_json({"type": "reset", "conversation": conversation_id})

    async def _replay(self, after: int, sync: bool = False):
        """``hello`` (connection level: ends with ``ready``, the client then resends what is pending) or
        ``sync`` (a gap: ends with ``synced``, which never triggers a resend). Entries this socket sent
        already are not sent again (contact_center/lib/delivered.py)."""
        if sync:
            reached = await self._send_missed(after)
            await self.send_json({"type": "synced", "conversation": self.conversation_id, "seq": reached})
            return
        # A hello replays everything after last_seq, whatever this socket sent before: the client may have
        # dropped it (after a reset, say). A socket that has sent nothing has no record to forget, and
        # keeps none until it sends (most idle sockets never do).
        if self.delivered is not None:
            self.delivered.reset(self.conversation_id)
        if self.conversation_id is not None:
            # One database call for the first batch and the signals (read position, an unanswered survey:
            # live events this socket may have missed); more batches only after a long absence.
            batch, signals = await db_call(_resume, self.conversation_id, after)
            await self._send_batch(batch, after)
            for signal in signals:
                await self.send_json(signal)
        await self.send_json({"type": "ready", "conversation": self.conversation_id})

    async def _send_missed(self, after: int) -> int:
        """Send what follows ``after``; returns the highest seq read (``after`` when nothing followed)."""
        if self.conversation_id is None:
            return after
        batch = await db_call(history.public_entries_after, self.conversation_id, after)
        return await self._send_batch(batch, after)

    async def _send_batch(self, batch: list[dict], after: int) -> int:
        """Send ``batch`` (what followed ``after``) and, when it was full, the batches after it."""
        while True:
            for item in batch:
                await self._send_entry("message", item)
            if batch:
                after = batch[-1]["seq"]
            if len(batch) < history.REPLAY_BATCH:
                return after
            batch = await db_call(history.public_entries_after, self.conversation_id, after)

    def _delivered(self) -> Delivered:
        if self.delivered is None:
            self.delivered = Delivered()
        return self.delivered

    async def _send_entry(self, frame_type: str, item: dict, client_id: str | None = None):
        """A ``message`` is sent once per socket; an ``ack`` always (it answers a send) and counts as sent."""
        delivered = self._delivered()
        # The widget follows one conversation; moving to another starts its record afresh, as the client does.
        delivered.forget_all_but(item["conversation"])
        first = delivered.first_time(item["conversation"], item["seq"])
        if frame_type == "ack":
            await self.send_json({"type": "ack", "client_id": client_id, "message": item})
        elif first:
            await self.send_json({"type": "message", "message": item})

    async def _send_message(self, content):
        client_id = content.get("client_id")
        if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
            await self.send_json(bad_frame("client_id is required"))
            return
        try:
            attachment_ids = check_attachment_ids(content.get("attachments"))
            body = check_body(content.get("body", ""), allow_empty=bool(attachment_ids))
        except ValidationError as exc:
            await self.send_json(
                {"type": "error", "code": "invalid", "message": exc.messages[0], "client_id": client_id}
            )
            return
        envelope = InboundEnvelope(
            inbox_id=self.inbox_id,
            # Scoped by visitor so one visitor can never collide with (or probe) another's ids.
            external_id=f"widget:{self.visitor_id}:{client_id}",
            sender=Sender(kind="visitor", value=self.visitor_id),
            body=body,
            payload={"client_id": client_id, "page": _page(content)},
            attachment_ids=attachment_ids,
        )
        try:
            result = await db_call(
                _receive_unless_limited, envelope, client_ip_of_scope(self.scope), self.conversation_id is None
            )
        except ValidationError as exc:
            await self.send_json(
                {"type": "error", "code": "invalid", "message": exc.messages[0], "client_id": client_id}
            )
            return
        if "retry_after" in result:
            await self.send_json(rate_limited_frame(result["retry_after"], client_id=client_id))
            return
        self.conversation_id = result["message"]["conversation"]
        if self.customer_id is None:
            self.customer_id = result["customer_id"]
            await self._join()
            await self.channel_layer.group_send(
                recipients.new_visitor_group(self.inbox_id, self.visitor_id),
                {"type": "cc.visitor_bound", "customer_id": self.customer_id, "conversation_id": self.conversation_id},
            )
        await self._send_entry("ack", result["message"], client_id)
        await self._store_page()

    async def _on_page(self, content):
        try:
            self.page = check_page(content.get("page"))
        except ValidationError as exc:
            await self.send_json({"type": "error", "code": "invalid", "message": exc.messages[0]})
            return
        await self._store_page()

    async def _store_page(self):
        if self.page is None or self.conversation_id is None or self.page_stored == (self.conversation_id, self.page):
            return
        self.page_stored = (self.conversation_id, self.page)
        await db_call(do_record_page, self.conversation_id, self.page)

    async def _join(self):
        await self.join_group(recipients.visitor_group(self.inbox_id, self.customer_id))

    async def _seen(self, content):
        """The visitor has seen the conversation up to ``seq`` (their numbering): replies read."""
        seq = content.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            await self.send_json(bad_frame("seq is a positive integer"))
            return
        if self.conversation_id is None or content.get("conversation") != self.conversation_id:
            return  # a frame about a conversation this socket no longer follows
        await db_call(do_mark_read_by_customer, self.inbox_id, self.customer_id, self.conversation_id, seq)

    async def _typing(self, content):
        preview = content.get("preview", "")
        if not isinstance(preview, str):
            await self.send_json(bad_frame("preview is text"))
            return
        if self.conversation_id is None:
            return  # nobody to tell before the first message opens a conversation
        # The frame throttles itself; a client that does not must not cost a database call and a
        # group send per keystroke. A dropped preview is repeated by the typing client, and a clear
        # (an empty preview) always goes through so no agent is left with a stale draft.
        now = asyncio.get_running_loop().time()
        if preview and now - self.typing_forwarded_at < TYPING_MIN_INTERVAL_SECONDS:
            return
        self.typing_forwarded_at = now
        await db_call(do_send_visitor_typing, self.inbox_id, self.customer_id, self.conversation_id, preview)

    async def _rate(self, content):
        conversation_id = content.get("conversation")
        try:
            if self.customer_id is None:
                raise AccessDenied("this visitor has no conversation")
            result = await db_call(
                do_rate_conversation,
                self.inbox_id,
                self.customer_id,
                conversation_id,
                content.get("rating"),
                content.get("comment", ""),
            )
        except AccessDenied:
            await self.send_json({"type": "error", "code": "not_found", "conversation": conversation_id})
            return
        except ValidationError as exc:
            await self.send_json(
                {"type": "error", "code": "invalid", "message": exc.messages[0], "conversation": conversation_id}
            )
            return
        await self.send_json(
            {"type": "csat.answered", "conversation": result.rating.conversation_id, "rating": result.rating.rating}
        )


def _receive_unless_limited(envelope: InboundEnvelope, ip: str, new_conversation: bool) -> dict:
    """The visitor's message limits, then the message: one hop to a database thread for both, and a
    refused message costs no statement (the limits are counted in the cache first)."""
    retry_after = message_limited(envelope.sender.value, ip, new_conversation=new_conversation)
    if retry_after is not None:
        return {"retry_after": retry_after}
    return _receive(envelope)


def _receive(envelope: InboundEnvelope) -> dict:
    entry = do_receive_inbound(envelope).entry
    # Dicts, not model instances, cross back to the event loop.
    return {"message": payloads.entry_for_visitor(entry), "customer_id": entry.customer_id}


def _resume(conversation_id: int, after: int) -> tuple[list[dict], list[dict]]:
    return history.visitor_resume(conversation_id, after)


def _identify(inbox_id: int, visitor_id: str, content: dict) -> dict:
    claims = check_identity_claims(Inbox.objects.get(pk=inbox_id), content)
    return {**_visitor_customer(do_identify_visitor(inbox_id, visitor_id, claims)), "verified": claims.verified}


def _set_attributes(inbox_id: int, visitor_id: str, content: dict) -> dict:
    attributes = check_attributes(content.get("attributes"))
    return _visitor_customer(do_set_visitor_attributes(inbox_id, visitor_id, attributes))


def _prechat(inbox_id: int, visitor_id: str, content: dict) -> dict:
    answers = check_prechat(Inbox.objects.get(pk=inbox_id), content.get("fields"))
    return _visitor_customer(do_submit_prechat(inbox_id, visitor_id, answers))


_DESCRIBE = {"identify": _identify, "attributes": _set_attributes, "prechat": _prechat}


def _visitor_customer(result: VisitorCustomer) -> dict:
    return {"customer_id": result.customer_id, "conversation_id": result.conversation_id}


def _refusal(kind: str, exc: ValidationError) -> dict:
    """The error frame for a refused identify/attributes/prechat; ``for`` names the frame it answers."""
    codes = [error.code for error in getattr(exc, "error_list", [])]
    code = next((code for code in codes if code in ("unverified", "verification_required")), "invalid")
    frame = {"type": "error", "code": code, "message": exc.messages[0], "for": kind}
    if hasattr(exc, "error_dict"):
        frame["fields"] = {name: messages[0] for name, messages in exc.message_dict.items()}
    return frame


def _connect_facts(public_key: str, visitor_id: str, origin: str | None) -> tuple[int | None, int | None, tuple | None]:
    """(refusal close code or None, inbox id, ``history.visitor_conversation``) for a connecting socket.

    The inbox comes from the per-process cache when it allows the origin; a refusal is only ever decided
    on a fresh read (an origin added in another process must not be kept out for the cache's lifetime).
    """
    inbox = cached_widget_inbox(public_key)
    if inbox is None or not origin_allowed(origin, inbox["allowed_origins"]):
        inbox = widget_inbox(public_key)
    if inbox is None:
        return CLOSE_BAD_TOKEN, None, None
    if not origin_allowed(origin, inbox["allowed_origins"]):
        return CLOSE_BAD_ORIGIN, None, None
    return None, inbox["id"], history.visitor_conversation(inbox["id"], visitor_id)


def _origin(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin1")
    return None


def _page(content) -> dict:
    page = content.get("page")
    if not isinstance(page, dict):
        return {}
    return {"url": str(page.get("url", ""))[:2000], "title": str(page.get("title", ""))[:300]}


def _int(value, default: int) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default
