"""Typing signals: ephemeral, never stored, no seq.

They go through the same publisher as everything else, to recipients computed here, so a typing
indicator cannot reach anyone an entry of the conversation could not. Losing one costs nothing: the
sender repeats it every few seconds while typing and the receiver forgets it after a few more.
"""

from __future__ import annotations

from contact_center.access import access_conversation
from contact_center.actions.events import send_event_on_commit
from contact_center.lib import recipients
from contact_center.models import Agent, Conversation

# What an agent may read of a draft the visitor has not sent: enough to prepare an answer.
PREVIEW_MAX_CHARS = 500


def do_send_agent_typing(agent: Agent, conversation_id: int, typing: bool) -> None:
    """Tell the conversation's visitor that ``agent`` is (or stopped) typing a reply.

    Only replies are announced: the console sends nothing while the agent writes a note, and this
    event carries no text. Raises ``AccessDenied`` when the agent may not see the conversation.
    """
    conversation = access_conversation(agent, conversation_id)
    send_event_on_commit(
        {
            "type": "typing",
            "conversation": conversation.pk,
            "typing": bool(typing),
            "author_name": agent.public_name,
        },
        recipients.visitor_groups(conversation),
    )


# A console repeats its "viewing" signal this often; the others forget a viewer not heard from for
# VIEWING_TTL_SECONDS (a closed laptop says no goodbye). The console uses the same numbers.
VIEWING_EVERY_SECONDS = 10
VIEWING_TTL_SECONDS = 25


def do_announce_viewing(agent: Agent, conversation_id: int, *, typing: bool, left: bool = False) -> None:
    """Tell the other consoles of the inbox that ``agent`` has the conversation open (``typing``: is
    writing in it, reply or note), or closed it (``left``): the collision warning.

    Ephemeral like every typing signal: nothing is stored. Raises ``AccessDenied`` when the agent may
    not see the conversation.
    """
    conversation = access_conversation(agent, conversation_id)
    send_event_on_commit(
        {
            "type": "agent.viewing",
            "conversation": conversation.pk,
            "agent": {"id": agent.pk, "name": agent.public_name},
            "state": "left" if left else "typing" if typing else "viewing",
            "ttl": VIEWING_TTL_SECONDS,
        },
        recipients.agent_groups(conversation),
    )


def do_send_visitor_typing(inbox_id: int, customer_id: int, conversation_id: int, preview: str) -> None:
    """Show the agents of the inbox what the visitor is typing; an empty preview clears it.

    Silently does nothing for a conversation that is not this customer's in this inbox: the visitor
    socket passes ids it was told by the server, so a mismatch is a stale socket, not an attack
    worth an answer.
    """
    conversation = (
        Conversation.objects.filter(pk=conversation_id, inbox_id=inbox_id, customer_id=customer_id)
        .select_related("inbox")
        .first()
    )
    if conversation is None:
        return
    send_event_on_commit(
        {"type": "visitor.typing", "conversation": conversation.pk, "preview": preview[:PREVIEW_MAX_CHARS]},
        recipients.agent_groups(conversation),
    )
