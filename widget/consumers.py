"""The visitor socket. A pipe: authenticate, validate frames, call one action, forward events.

Protocol: docs/protocols/widget-socket.md.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.core import signing
from django.core.exceptions import ValidationError

from contact_center import history
from contact_center.actions.inbound import do_receive_inbound
from contact_center.actions.replies import check_body
from contact_center.lib import payloads, recipients
from contact_center.lib.envelope import InboundEnvelope, Sender
from contact_center.lib.sockets import JsonFrameConsumer, bad_frame
from contact_center.models import Inbox
from widget.origins import origin_allowed
from widget.tokens import check_visitor_token

logger = logging.getLogger(__name__)

CLOSE_BAD_TOKEN = 4401
CLOSE_BAD_ORIGIN = 4403


class VisitorConsumer(JsonFrameConsumer):
    inbox_id: int | None = None
    visitor_id: str = ""
    customer_id: int | None = None
    conversation_id: int | None = None

    async def connect(self):
        token = parse_qs(self.scope.get("query_string", b"").decode()).get("token", [""])[0]
        try:
            claim = check_visitor_token(token)
        except signing.BadSignature:
            await self._refuse(CLOSE_BAD_TOKEN)
            return
        inbox = await database_sync_to_async(_widget_inbox)(claim.inbox_key)
        if inbox is None:
            await self._refuse(CLOSE_BAD_TOKEN)
            return
        if not origin_allowed(_origin(self.scope), inbox["allowed_origins"]):
            await self._refuse(CLOSE_BAD_ORIGIN)
            return
        self.inbox_id = inbox["id"]
        self.visitor_id = claim.visitor_id
        self.authenticated = True
        known = await database_sync_to_async(history.visitor_conversation)(self.inbox_id, self.visitor_id)
        if known is not None:
            self.conversation_id, self.customer_id = known
            await self._join()
        else:
            # Another tab of this visitor may write first; it tells this socket who the customer is.
            await self.join_group(recipients.new_visitor_group(self.inbox_id, self.visitor_id))
        await self.accept()

    async def _refuse(self, code: int):
        # Accept, then close: a close before accepting is answered with HTTP 403 (ASGI spec) and the
        # browser only sees 1006, so the frame could not tell a dead token from a network failure.
        await self.accept()
        await self.close(code=code)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "hello" or kind == "sync":
            await self._replay(_int(content.get("last_seq", content.get("after")), default=0))
        elif kind == "send":
            await self._send_message(content)
        else:
            await self.send_json(bad_frame("unknown frame type"))

    async def cc_event(self, message):
        event = message["event"]
        if event.get("type") == "message":
            self.conversation_id = event["message"].get("conversation", self.conversation_id)
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

    async def _replay(self, after: int):
        await self._send_missed(after)
        await self.send_json({"type": "ready", "conversation": self.conversation_id})

    async def _send_missed(self, after: int):
        if self.conversation_id is None:
            return
        while True:
            batch = await database_sync_to_async(history.public_entries_after)(self.conversation_id, after)
            for item in batch:
                await self.send_json({"type": "message", "message": item})
            if len(batch) < history.REPLAY_BATCH:
                break
            after = batch[-1]["seq"]

    async def _send_message(self, content):
        client_id = content.get("client_id")
        if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
            await self.send_json(bad_frame("client_id is required"))
            return
        try:
            body = check_body(content.get("body", ""))
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
        )
        result = await database_sync_to_async(_receive)(envelope)
        self.conversation_id = result["message"]["conversation"]
        if self.customer_id is None:
            self.customer_id = result["customer_id"]
            await self._join()
            await self.channel_layer.group_send(
                recipients.new_visitor_group(self.inbox_id, self.visitor_id),
                {"type": "cc.visitor_bound", "customer_id": self.customer_id, "conversation_id": self.conversation_id},
            )
        await self.send_json({"type": "ack", "client_id": client_id, "message": result["message"]})

    async def _join(self):
        await self.join_group(recipients.visitor_group(self.inbox_id, self.customer_id))


def _receive(envelope: InboundEnvelope) -> dict:
    entry = do_receive_inbound(envelope).entry
    # Dicts, not model instances, cross back to the event loop.
    return {"message": payloads.entry_for_visitor(entry), "customer_id": entry.customer_id}


def _widget_inbox(public_key: str) -> dict | None:
    inbox = Inbox.objects.filter(public_key=public_key, kind=Inbox.Kind.WIDGET).values("id", "allowed_origins").first()
    return inbox


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
