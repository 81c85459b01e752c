"""Where an agent's reply goes: back the way the customer wrote, or to another address of theirs.

By default a reply goes out on the conversation's own channel: its inbox, to the identity the customer
wrote from (or, for a conversation opened by the widget's offline form, by email to the address they
left). An agent may instead send it to another email address or phone number on the customer's
profile: ``via``, the id of one of the customer's identities, as Zendesk lets agents email any address
on a profile. Unverified addresses (an agent typed them, a site did not vouch for them) may be used:
the console marks them.

The reply then leaves through an inbox of that address's channel, which the agent can see:

- an email address through an email inbox, a phone number through an SMS inbox (not WhatsApp, whose
  rules only allow a free-form message within a day of the customer's own);
- the conversation's own inbox when it is of that channel, else the first such inbox by name;
- and only when that channel has a transport (``settings.PARLEY_TRANSPORTS``): without one the reply
  could only fail.

The choice is stored on the entry (``payload["via"]``: kind, value, inbox id), which the outbox reads
when it delivers (actions/outbox.py, ``load_outbound``) and the console shows ("sent by email to …").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from contact_center.access import visible_inboxes
from contact_center.models import Agent, Conversation, Identity, Inbox

# Identity kind -> the kind of inbox that sends to it.
CHANNEL_OF = {Identity.Kind.EMAIL: Inbox.Kind.EMAIL, Identity.Kind.PHONE: Inbox.Kind.SMS}
_KIND_NAMES = {"email": "Email", "phone": "SMS", "sms": "SMS", "whatsapp": "WhatsApp", "voice": "Phone"}


@dataclass(frozen=True)
class ReplyVia:
    """A checked ``via``: the address a reply goes to, and the inbox it leaves through."""

    kind: str
    value: str
    inbox: Inbox

    @property
    def transport(self) -> str:
        return self.inbox.kind

    def payload(self) -> dict[str, Any]:
        """What the entry records under ``payload["via"]``."""
        return {"kind": self.kind, "value": self.value, "inbox": self.inbox.pk}


def check_via(agent: Agent, conversation: Conversation, identity_id) -> ReplyVia | None:
    """``identity_id`` (a frame's ``via``) checked against the conversation's customer; None for the
    conversation's own channel (``None`` given). Raises ``ValidationError`` for anything that is not an
    email or phone identity of this customer, or when no inbox the agent sees can send to it."""
    if identity_id is None:
        return None
    if isinstance(identity_id, bool) or not isinstance(identity_id, int):
        raise ValidationError("via is the id of one of the customer's addresses, or null")
    identity = Identity.objects.filter(pk=identity_id, customer_id=conversation.customer_id).first()
    if identity is None:
        raise ValidationError("that address is not one of this customer's")
    channel = CHANNEL_OF.get(identity.kind)
    if channel is None:
        raise ValidationError("a reply can go to an email address or a phone number only")
    if channel not in settings.PARLEY_TRANSPORTS:
        raise ValidationError(f"sending by {_KIND_NAMES[channel]} is not set up here")
    inbox = sending_inboxes(agent, conversation, [channel]).get(channel)
    if inbox is None:
        raise ValidationError(f"there is no {_KIND_NAMES[channel]} inbox you can send from")
    return ReplyVia(kind=identity.kind, value=identity.value, inbox=inbox)


def sending_inboxes(agent: Agent, conversation: Conversation, channels) -> dict[str, Inbox]:
    """For each inbox kind of ``channels``: the inbox a reply to another address leaves through (the
    rule in the module docstring). One query, none when the conversation's inbox serves them all."""
    found = {channel: conversation.inbox for channel in channels if channel == conversation.inbox.kind}
    missing = [channel for channel in channels if channel not in found]
    if missing:
        for inbox in visible_inboxes(agent).filter(kind__in=missing).order_by("name", "pk"):
            found.setdefault(inbox.kind, inbox)
    return found


def reply_options(agent: Agent, conversation: Conversation) -> list[dict[str, Any]]:
    """What the console's "Reply via" menu offers: first the conversation's own channel
    (``identity: null``), then each email address and phone number of the customer a reply could go to
    instead. An address that would be answered exactly as the default is (the one the customer wrote
    from, in its own inbox) is not listed twice. One query for the customer's identities, and one for
    inboxes when an address needs another inbox than the conversation's."""
    identities = sorted(
        Identity.objects.filter(customer_id=conversation.customer_id), key=lambda i: (i.kind, i.value, i.pk)
    )
    inbox = conversation.inbox
    own = next((i for i in identities if i.pk == conversation.identity_id), None)
    if conversation.reply_email:
        default = ("email", conversation.reply_email)
    elif own is not None and own.kind in (Identity.Kind.EMAIL, Identity.Kind.PHONE):
        default = (own.kind, own.value)
    else:
        default = (own.kind if own else None, "")
    default_channel = "email" if conversation.reply_email else inbox.kind
    options = [
        {
            "identity": None,
            "kind": default[0],
            "value": default[1],
            "verified": None,
            "inbox": {"id": inbox.pk, "name": inbox.name},
            "label": _default_label(default_channel, inbox, default[1]),
        }
    ]
    candidates = [
        i
        for i in identities
        if CHANNEL_OF.get(i.kind) in settings.PARLEY_TRANSPORTS
        # The default already goes there, the same way.
        and not ((i.kind, i.value) == default and CHANNEL_OF[i.kind] == default_channel)
    ]
    senders = sending_inboxes(agent, conversation, sorted({CHANNEL_OF[i.kind] for i in candidates}))
    for identity in candidates:
        sender = senders.get(CHANNEL_OF[identity.kind])
        if sender is None:
            continue
        label = f"{_KIND_NAMES[identity.kind]} · {identity.value}" + ("" if identity.verified else " (unverified)")
        options.append(
            {
                "identity": identity.pk,
                "kind": identity.kind,
                "value": identity.value,
                "verified": identity.verified,
                "inbox": {"id": sender.pk, "name": sender.name},
                "label": label,
            }
        )
    return options


def _default_label(channel: str, inbox: Inbox, value: str) -> str:
    if channel == Inbox.Kind.WIDGET:
        return f"Chat · {inbox.name}"
    name = _KIND_NAMES.get(channel, inbox.get_kind_display())
    return f"{name} · {value}" if value else f"{name} · {inbox.name}"
