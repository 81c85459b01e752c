"""Delivering agent replies to widget visitors: over their sockets, through the channel layer."""

from __future__ import annotations

from channels.layers import get_channel_layer

from contact_center.lib import recipients
from contact_center.transports import OutboundMessage, Transport, TransportError


class WidgetTransport(Transport):
    """Pushes the reply to every live session of the customer in that inbox.

    The channel layer is the wire here. A visitor who is offline misses the push, which is fine: the
    reply is in the database and the widget replays it on its next connection. So "sent" means handed
    to the layer; a layer that is down is a transient error and the outbox retries.
    """

    async def send(self, message: OutboundMessage) -> str | None:
        group = recipients.visitor_group(message.inbox["id"], message.customer_id)
        try:
            await get_channel_layer().group_send(
                group, {"type": "cc.event", "event": {"type": "message", "message": message.public_entry}}
            )
        except Exception as exc:
            raise TransportError(f"channel layer unavailable: {exc}") from exc
        return None
