"""The agent-console socket. A pipe: authenticate, validate frames, call one action, forward events.

Protocol: docs/protocols/console-socket.md.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from contact_center import history
from contact_center.access import AccessDenied, access_conversation, visible_inboxes
from contact_center.actions import agent_security, saved_views
from contact_center.actions.agents import do_set_availability
from contact_center.actions.conversations import (
    do_assign,
    do_assign_team,
    do_change_status,
    do_mark_read,
    do_set_priority,
    do_snooze,
)
from contact_center.actions.customer_profile import do_update_customer
from contact_center.actions.customers import customer_updated_event
from contact_center.actions.labels import do_set_labels
from contact_center.actions.merging import do_merge, do_move_to_inbox
from contact_center.actions.replies import do_add_note, do_send_reply
from contact_center.actions.typing import do_announce_viewing, do_send_agent_typing
from contact_center.console_sockets import console_sockets
from contact_center.database_threads import db_call
from contact_center.frames import FRAMES
from contact_center.lib import payloads, recipients
from contact_center.lib.delivered import Delivered
from contact_center.lib.schema import MAX_ID, is_id
from contact_center.lib.sockets import JsonFrameConsumer, bad_frame

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
# An admin changed what this agent may see (contact_center/actions/settings_admin.py): the inbox groups
# were chosen at connect, so the socket closes and the console reconnects with the new set.
CLOSE_MEMBERSHIP_CHANGED = 4001
# The socket's session was revoked (signed out elsewhere, a password change, a deactivation, a 2FA reset;
# contact_center/actions/agent_security.py): the console goes to the login page, as for 4401.
CLOSE_SESSION_REVOKED = 4403
MAX_RESUME = 500


# Frames that change one conversation: type -> (the action, the frame's field it takes, and the error
# when that field is missing; None where a missing field is the action's to refuse, as any bad value).
# "assign" and "team" must name their field: null there means "nobody", not "left out".
CONVERSATION_CHANGES = {
    "status": (do_change_status, "status", None),
    "snooze": (do_snooze, "until", None),
    "assign": (do_assign, "assignee", "assignee is an agent id or null"),
    "team": (do_assign_team, "team", "team is a team id or null"),
    "priority": (do_set_priority, "priority", None),
    "labels": (do_set_labels, "labels", None),
    "merge": (do_merge, "into", None),
    "move": (do_move_to_inbox, "inbox", None),
}


class AgentConsumer(JsonFrameConsumer):
    frames = FRAMES
    agent = None
    # In this process's registry of console sockets (presence heartbeat and session watch, batched).
    _registered = False
    # The public id of the session that opened the socket (None: signed in before sessions were listed).
    session_id = None
    # The seqs this socket has sent its client, per conversation (made on first use).
    delivered: Delivered | None = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept, then close: a close before accepting is answered with HTTP 403 (ASGI spec) and the
            # browser only sees 1006, never the 4401 that sends console.js to the login page.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        inbox_ids = await db_call(_console_inboxes, self.scope.get("session"), user)
        if inbox_ids is None:
            # Admins require two-factor and this session has not set it up: the pages hold it at the set-up
            # page (session_tracking.py), and the socket must not be a way around them.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.agent = user
        self.authenticated = True
        await self.join_groups([recipients.inbox_group(i) for i in inbox_ids] + [recipients.agent_group(user.pk)])
        await self.accept()
        self.session_id = agent_security.session_public_id(self.scope.get("session"))
        # Present, and closed once the session is revoked even if the ``session.revoked`` event was dropped
        # (the channel layer is at-most-once): both done for every console of the process at once.
        console_sockets().add(self.channel_name, user.pk, self.session_id, self._session_revoked)
        self._registered = True

    async def _session_revoked(self):
        await self.close(code=CLOSE_SESSION_REVOKED)

    async def disconnect(self, code):
        if self._registered:
            console_sockets().discard(self.channel_name)
        await super().disconnect(code)

    async def receive_json(self, content, **kwargs):
        handlers = {
            "hello": self.on_hello,
            "sync": self.on_sync,
            "reply": self.on_write,
            "note": self.on_write,
            "typing": self.on_typing,
            "viewing": self.on_viewing,
            "read": self.on_read,
            **dict.fromkeys(CONVERSATION_CHANGES, self.on_change),
            "customer": self.on_customer,
            "availability": self.on_availability,
            "view.save": self.on_saved_view,
            "view.delete": self.on_saved_view,
        }
        handler = handlers.get(content.get("type"))
        if handler is None:
            await self.send_json(bad_frame("unknown frame type"))
            return
        await handler(content)

    async def cc_event(self, message):
        if message["event"].get("type") == agent_security.SESSION_REVOKED:  # for the server, never forwarded
            if agent_security.revokes(message["event"], self.session_id):
                await self.close(code=CLOSE_SESSION_REVOKED)
            return
        event = message["event"]
        if event.get("type") == "entry.created" and not self._first_time(event["entry"]):
            # This socket sent the entry already (the ack of its own write, or a replay): only the
            # conversation's summary may be news.
            await self.send_json({"type": "conversation.updated", "conversation": event["conversation"]})
            return
        await self.send_json(message["event"])
        if message["event"].get("type") == "membership.changed":
            await self.close(code=CLOSE_MEMBERSHIP_CHANGED)

    async def on_hello(self, content):
        resume = content.get("resume") or {}
        if not isinstance(resume, dict) or len(resume) > MAX_RESUME:
            await self.send_json(bad_frame("resume is a map of at most 500"))
            return
        for conversation_id, last_seq in resume.items():
            await self._replay(conversation_id, last_seq, hello=True)
        await self.send_json({"type": "ready"})

    async def on_availability(self, content):
        try:
            value = await db_call(do_set_availability, self.agent.pk, content.get("availability"))
        except ValidationError as exc:
            await self.send_json(bad_frame(exc.messages[0]))
            return
        await self.send_json({"type": "availability", "availability": value})

    async def on_saved_view(self, content):
        """Save or delete a saved view; every console of this agent gets the new list (``views``)."""
        try:
            await db_call(_change_saved_view, self.agent, content)
        except ValidationError as exc:
            await self.send_json(
                {"type": "error", "code": "invalid", "message": exc.messages[0], "view": content.get("view")}
            )

    async def on_sync(self, content):
        # Always one ``synced`` per sync, after its entries (or its not_found): the client's "one sync in
        # flight" ends there. Unlike ``ready`` it asks for no resend.
        conversation_id = content.get("conversation")
        reached = await self._replay(conversation_id, content.get("after"))
        await self.send_json({"type": "synced", "conversation": conversation_id, "seq": reached})

    async def _replay(self, conversation_id, after, hello: bool = False) -> int | None:
        """Send the entries after ``after`` that this socket has not sent yet; returns the highest seq read
        (``after`` when nothing followed), None for a conversation the agent may not see."""
        try:
            conversation_id, after = int(conversation_id), min(max(0, int(after)), MAX_ID)
            if not is_id(conversation_id):
                raise AccessDenied("no such conversation")  # and no id a query could take
            summary = await db_call(_summary, self.agent, conversation_id)
        except (AccessDenied, TypeError, ValueError):
            await self.send_json({"type": "error", "code": "not_found", "conversation": conversation_id})
            return None
        if hello:  # everything after the client's seq, whatever this socket sent before
            self._delivered().reset(conversation_id)
        while True:
            batch = await db_call(history.entries_after, conversation_id, after)
            for entry in batch:
                if self._first_time(entry):
                    await self.send_json({"type": "entry.created", "conversation": summary, "entry": entry})
            if batch:
                after = batch[-1]["seq"]
            if len(batch) < history.REPLAY_BATCH:
                return after

    def _delivered(self) -> Delivered:
        if self.delivered is None:
            self.delivered = Delivered()
        return self.delivered

    def _first_time(self, entry: dict) -> bool:
        """Record an entry as sent on this socket; False when it was (contact_center/lib/delivered.py)."""
        return self._delivered().first_time(entry["conversation"], entry["seq"])

    async def on_write(self, content):
        client_id = content.get("client_id")
        if not isinstance(client_id, str) or not 8 <= len(client_id) <= 64:
            await self.send_json(bad_frame("client_id is required"))
            return
        try:
            entry = await db_call(_write, self.agent, content, client_id)
        except AccessDenied:
            await self.send_json({"type": "error", "code": "not_found", "client_id": client_id})
            return
        except ValidationError as exc:
            await self.send_json(
                {"type": "error", "code": "invalid", "message": exc.messages[0], "client_id": client_id}
            )
            return
        self._first_time(entry)  # the ack carries the entry: its live echo is not sent to this socket
        await self.send_json({"type": "ack", "client_id": client_id, "entry": entry})

    async def on_typing(self, content):
        """Ephemeral: nothing is stored and nothing answers, unless the conversation is not visible."""
        typing = content.get("typing") is True
        await self._for_conversation(
            content, lambda agent, conversation_id: do_send_agent_typing(agent, conversation_id, typing)
        )

    async def on_viewing(self, content):
        """Ephemeral, like typing: the other consoles of the inbox hear ``agent.viewing``."""
        typing, left = content.get("typing") is True, content.get("left") is True
        await self._for_conversation(
            content,
            lambda agent, conversation_id: do_announce_viewing(agent, conversation_id, typing=typing, left=left),
        )

    async def on_read(self, content):
        seq = content.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            await self.send_json(bad_frame("seq is a positive integer", conversation=content.get("conversation")))
            return
        await self._for_conversation(content, lambda agent, conversation_id: do_mark_read(agent, conversation_id, seq))

    async def on_change(self, content):
        """A frame of CONVERSATION_CHANGES: the action, with the frame's one argument; answered with the
        conversation's summary as saved (a merge: the target's)."""
        action, field, required = CONVERSATION_CHANGES[content["type"]]
        if required is not None and field not in content:
            await self.send_json(bad_frame(required, conversation=content.get("conversation")))
            return
        await self._change(content, lambda agent, conversation_id: action(agent, conversation_id, content.get(field)))

    async def on_customer(self, content):
        """Change a customer's profile (the frame's other fields); answered with ``customer.updated``, which
        every console of their inboxes gets too when something changed."""
        customer_id = content.get("customer")
        changes = {key: value for key, value in content.items() if key not in ("type", "customer")}
        try:
            if isinstance(customer_id, bool) or not isinstance(customer_id, int):
                raise AccessDenied("no such customer")
            unchanged = await db_call(_update_customer, self.agent, customer_id, changes)
        except AccessDenied:
            await self.send_json({"type": "error", "code": "not_found", "customer": customer_id})
        except ValidationError as exc:
            field = next(iter(exc.message_dict), None) if hasattr(exc, "error_dict") else None
            error = {"type": "error", "code": "invalid", "message": exc.messages[0], "customer": customer_id}
            await self.send_json({**error, "field": None if field == "__all__" else field})
        else:
            if unchanged is not None:
                await self.send_json(unchanged)

    async def _change(self, content, call):
        """Run a conversation action and answer the sender with the summary as saved."""
        summary = await self._for_conversation(
            content, lambda agent, conversation_id: payloads.conversation_summary(call(agent, conversation_id))
        )
        if summary is not None:
            await self.send_json({"type": "conversation.updated", "conversation": summary})

    async def _for_conversation(self, content, call):
        """Run ``call(agent, conversation id)`` in a thread; map refusals to error frames."""
        conversation_id = content.get("conversation")
        try:
            if isinstance(conversation_id, bool) or not isinstance(conversation_id, int):
                raise AccessDenied("no such conversation")
            return await db_call(call, self.agent, conversation_id)
        except AccessDenied:
            await self.send_json({"type": "error", "code": "not_found", "conversation": conversation_id})
        except ValidationError as exc:
            await self.send_json(
                {"type": "error", "code": "invalid", "message": exc.messages[0], "conversation": conversation_id}
            )
        return None


def _console_inboxes(session, agent) -> list[int] | None:
    """The ids of the inboxes a connecting console hears, or None for a session held for two-factor set-up:
    what connect() needs from the database, in one hop to its thread."""
    if _held_for_two_factor(session, agent.pk):
        return None
    return list(visible_inboxes(agent).values_list("pk", flat=True))


def _held_for_two_factor(session, agent_id: int) -> bool:
    try:
        flagged = session.get(agent_security.NEEDS_TWO_FACTOR) is True
    except Exception:
        return False  # no session store to read: the login check above decided
    return flagged and agent_security.needs_two_factor_setup(agent_id)


def _change_saved_view(agent, content) -> None:
    if content["type"] == "view.save":
        saved_views.do_save_view(agent, content.get("name"), content.get("filters"), content.get("shared", False))
    else:
        saved_views.do_delete_view(agent, content.get("view"))


def _summary(agent, conversation_id: int) -> dict:
    return payloads.conversation_summary(access_conversation(agent, conversation_id))


def _update_customer(agent, customer_id: int, changes: dict) -> dict | None:
    """Apply the changes; when there were none, the ``customer.updated`` the sender gets instead of the
    published one (None when that is on its way)."""
    update = do_update_customer(agent, customer_id, changes)
    return None if update.changed else customer_updated_event(update.customer)


def _write(agent, content: dict, client_id: str) -> dict:
    """A ``reply`` or ``note`` frame written; ``via`` (replies only) and ``attachments`` are passed on."""
    try:
        conversation_id = int(content.get("conversation"))
    except (TypeError, ValueError) as exc:
        raise AccessDenied("no such conversation") from exc
    body = content.get("body")
    fields = {"client_id": client_id, "attachments": content.get("attachments")}
    if content["type"] == "reply":
        fields["via"] = content.get("via")
    elif content.get("via") is not None:
        raise ValidationError("a note goes to no one: via is for replies")
    action = do_send_reply if content["type"] == "reply" else do_add_note
    entry = action(agent, conversation_id, body if isinstance(body, str) else "", **fields)
    return payloads.entry_for_agent(entry)
