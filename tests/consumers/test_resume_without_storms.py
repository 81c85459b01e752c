"""Resume without storms (issue 10): clients that follow docs/protocols to the letter, and what they cost.

The two clients here are written from the protocol pages alone (widget-socket.md section 5 and 6,
console-socket.md sections 3 and 5), not from the project's test helpers, so a rule the docs get wrong
shows up here. They count every frame a fault-free exchange did not need:

- a copy of an entry the client already holds (an ack and its live echo, a live event after a replay);
- a ``sync`` (a gap that outlasted the grace period);
- a write sent again (after a ``ready``, or anything else).

The grace period is the clients' clock, advanced by the test with ``grace_passed()`` once both sides
hold what the database holds: events that overtake each other meanwhile (an ack before the live event
of an earlier entry) are gaps of a few milliseconds, and a gap still open at that point is one a real
client would sync for. No timing is asserted.
"""

from __future__ import annotations

from collections import Counter

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import override_settings

from contact_center.models import TimelineEntry
from tests.consumers import WAIT, deliver_outbox, open_agent, open_visitor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("whole_rate_window")]

ROUNDS = 100  # a visitor message and an agent reply each: a 200-message exchange
UNLIMITED = override_settings(
    PARLEY_RATE_LIMITS={**settings.PARLEY_RATE_LIMITS, "messages_per_visitor": None, "messages_per_ip": None}
)


class DocClient:
    """What both protocol pages prescribe alike: seen/last per conversation, a gap waits out the grace
    period, one sync in flight per conversation, writes pending until acknowledged and sent once per
    connection (after its ``ready``, what this connection has not carried)."""

    def __init__(self, open_socket):
        self.open_socket = open_socket
        self.socket = None
        self.connection = 0
        self.seen: dict[int, set[int]] = {}
        self.last: dict[int, int] = {}
        self.syncing: set[int] = set()
        self.pending: dict[str, dict] = {}  # client id -> the write frame
        self.sent_on: dict[str, int] = {}  # client id -> the connection that carried it last
        self.sends = Counter()  # client id -> write frames sent
        self.duplicates = 0
        self.syncs = 0
        self.readies = 0
        self.gaps_noticed = 0  # gaps seen at all, most of them filled within the grace period

    # --- the socket ------------------------------------------------------------------------------

    async def connect(self):
        self.socket = await self.open_socket()
        self.connection += 1
        self.syncing.clear()  # the hello replays every gap
        await self.socket.send_json_to(self.hello())
        await self.pump(lambda: self.readies == self.connection)

    async def drop(self):
        """The network goes away: whatever the server sent and the client did not read is lost."""
        await self.socket.disconnect()
        self.socket = None

    async def pump(self, done):
        while not done():
            await self.on_frame(await self.socket.receive_json_from(timeout=WAIT))

    async def write(self, client_id: str, frame: dict):
        self.pending[client_id] = {**frame, "client_id": client_id}
        if self.socket is not None:
            await self.send_write(client_id)

    async def send_write(self, client_id: str):
        self.sends[client_id] += 1
        self.sent_on[client_id] = self.connection
        await self.socket.send_json_to(self.pending[client_id])

    async def on_frame(self, frame: dict):
        kind = frame["type"]
        if kind == "ready":
            self.readies += 1
            for client_id in list(self.pending):
                if self.sent_on.get(client_id) != self.connection:
                    await self.send_write(client_id)
        elif kind == "synced":
            self.syncing.discard(frame["conversation"])
        elif kind == "error":
            raise AssertionError(f"a fault-free exchange got an error: {frame}")
        else:
            entry = self.entry_of(frame)
            if entry is not None:
                self.hold(entry)

    def hold(self, entry: dict):
        conversation, seq = entry["conversation"], entry["seq"]
        seen = self.seen.setdefault(conversation, set())
        self.last.setdefault(conversation, self.baseline(entry))
        if seq in seen or seq <= self.last[conversation]:
            self.duplicates += 1
            return
        seen.add(seq)
        self.pending.pop(self.client_id_of(entry), None)
        while self.last[conversation] + 1 in seen:
            self.last[conversation] += 1
        if max(seen) > self.last[conversation]:
            self.gaps_noticed += 1

    async def grace_passed(self):
        """The grace period is over: a gap still open is a real one; sync it (one in flight each)."""
        for conversation, seen in self.seen.items():
            if max(seen, default=0) > self.last[conversation] and conversation not in self.syncing:
                self.syncing.add(conversation)
                self.syncs += 1
                await self.socket.send_json_to(self.sync(conversation))
        await self.pump(lambda: not self.syncing)

    def holds(self, conversation: int, upto: int) -> bool:
        return self.last.get(conversation, 0) >= upto

    @property
    def redundant(self) -> dict:
        resent = sum(count - 1 for count in self.sends.values())
        return {"duplicates": self.duplicates, "syncs": self.syncs, "resent": resent}


class DocVisitor(DocClient):
    """widget-socket.md: hello with last_seq, message/ack frames, sync {after}, send {client_id, body}."""

    conversation = None

    def hello(self):
        return {"type": "hello", "last_seq": self.last.get(self.conversation, 0)}

    def sync(self, conversation):
        return {"type": "sync", "after": self.last[conversation]}

    def entry_of(self, frame):
        if frame["type"] in ("message", "ack"):
            self.conversation = frame["message"]["conversation"]
            return frame["message"]
        return None

    def baseline(self, entry):
        return 0  # the widget holds its conversation from seq 1

    def client_id_of(self, entry):
        return entry["client_id"]


class DocAgent(DocClient):
    """console-socket.md: hello with resume {id: last}, entry.created/ack frames, sync {conversation,
    after}, reply {conversation, body, client_id}; a conversation met live starts at its seq - 1."""

    def hello(self):
        return {"type": "hello", "resume": {str(c): last for c, last in self.last.items()}}

    def sync(self, conversation):
        return {"type": "sync", "conversation": conversation, "after": self.last[conversation]}

    def entry_of(self, frame):
        return frame["entry"] if frame["type"] in ("entry.created", "ack") else None

    def baseline(self, entry):
        return entry["seq"] - 1

    def client_id_of(self, entry):
        return (entry.get("payload") or {}).get("client_id")


@database_sync_to_async
def latest_seqs(conversation_id: int) -> tuple[int, int]:
    """(the agents' latest seq, the visitor's latest public seq) of the conversation."""
    entries = TimelineEntry.objects.filter(conversation_id=conversation_id)
    return (
        max(entries.values_list("seq", flat=True)),
        max(s for s in entries.values_list("public_seq", flat=True) if s is not None),
    )


@database_sync_to_async
def stored_client_ids(conversation_id: int) -> Counter:
    payloads = TimelineEntry.objects.filter(conversation_id=conversation_id).values_list("payload", flat=True)
    return Counter(p["client_id"] for p in payloads if p and p.get("client_id"))


async def settle(vera: DocVisitor, alice: DocAgent, conversation_id: int):
    """Deliver agent replies, wait until both hold everything stored, then let the grace period pass."""
    await deliver_outbox()
    agent_seq, public_seq = await latest_seqs(conversation_id)
    await vera.pump(lambda: vera.holds(conversation_id, public_seq))
    await alice.pump(lambda: alice.holds(conversation_id, agent_seq))
    await vera.grace_passed()
    await alice.grace_passed()


async def exchange(vera: DocVisitor, alice: DocAgent, rounds: range, conversation_id: int):
    """Each round the visitor writes and the agent replies at the same moment, neither waiting."""
    for n in rounds:
        await vera.write(f"vera-{n:05d}", {"type": "send", "body": f"Visitor message {n}"})
        await alice.write(f"alice-{n:05d}", {"type": "reply", "conversation": conversation_id, "body": f"Reply {n}"})
        await alice.pump(lambda n=n: f"alice-{n:05d}" not in alice.pending)
        await settle(vera, alice, conversation_id)


async def start(website, agent) -> tuple[DocVisitor, DocAgent, int]:
    alice = DocAgent(lambda: open_agent(agent))
    vera = DocVisitor(lambda: open_visitor(website, "vera"))
    await alice.connect()
    await vera.connect()
    await vera.write("vera-first", {"type": "send", "body": "Hello?"})
    await vera.pump(lambda: not vera.pending)
    conversation_id = vera.conversation
    await alice.pump(lambda: alice.holds(conversation_id, 1))
    return vera, alice, conversation_id


@UNLIMITED
async def test_it_exchanges_200_messages_without_a_redundant_frame(website, alice):
    vera, agent, conversation_id = await start(website, alice)

    await exchange(vera, agent, range(ROUNDS), conversation_id)

    assert vera.redundant == {"duplicates": 0, "syncs": 0, "resent": 0}
    assert agent.redundant == {"duplicates": 0, "syncs": 0, "resent": 0}
    agent_seq, public_seq = await latest_seqs(conversation_id)
    assert public_seq == 2 * ROUNDS + 1
    assert vera.seen[conversation_id] == set(range(1, public_seq + 1))
    assert agent.seen[conversation_id] == set(range(1, agent_seq + 1))
    assert (vera.readies, agent.readies) == (1, 1)  # one per connection, none after a gap


@UNLIMITED
async def test_a_reconnect_resends_each_pending_message_once_and_stores_it_once(website, alice):
    vera, agent, conversation_id = await start(website, alice)
    await exchange(vera, agent, range(10), conversation_id)

    # Both sockets drop right after writing: the server reads and stores the writes, its acks are lost.
    for n in range(3):
        await vera.write(f"vera-lost-ack-{n}", {"type": "send", "body": f"Unacknowledged {n}"})
        await agent.write(f"alice-lost-ack-{n}", {"type": "reply", "conversation": conversation_id, "body": f"R{n}"})
    await vera.drop()
    await agent.drop()
    # More is typed while away: pending, never sent.
    for n in range(2):
        await vera.write(f"vera-offline-{n}", {"type": "send", "body": f"Typed offline {n}"})
        await agent.write(f"alice-offline-{n}", {"type": "reply", "conversation": conversation_id, "body": f"O{n}"})
    assert (len(vera.pending), len(agent.pending)) == (5, 5)

    await vera.connect()
    await agent.connect()
    await vera.pump(lambda: not vera.pending)
    await agent.pump(lambda: not agent.pending)
    await settle(vera, agent, conversation_id)
    await exchange(vera, agent, range(10, 20), conversation_id)

    # The replay after hello carried the stored ones (their client ids), so only the never-sent were sent
    # after ready, once each; nothing at all was sent twice.
    assert vera.redundant == {"duplicates": 0, "syncs": 0, "resent": 0}
    assert agent.redundant == {"duplicates": 0, "syncs": 0, "resent": 0}
    assert all(vera.sends[f"vera-offline-{n}"] == 1 for n in range(2))
    assert all(agent.sends[f"alice-offline-{n}"] == 1 for n in range(2))
    stored = await stored_client_ids(conversation_id)
    assert set(stored.values()) == {1}
    assert len(stored) == 1 + 2 * 20 + 2 * (3 + 2)
    agent_seq, public_seq = await latest_seqs(conversation_id)
    assert vera.seen[conversation_id] == set(range(1, public_seq + 1))
    assert agent.seen[conversation_id] == set(range(1, agent_seq + 1))


@UNLIMITED
async def test_a_write_whose_ack_was_lost_and_was_not_replayed_is_resent_once(website, alice):
    """A write the server never read (the socket died first) is the one that must be sent again."""
    vera, agent, conversation_id = await start(website, alice)
    await vera.drop()
    await vera.write("vera-unread", {"type": "send", "body": "Lost on the way"})
    vera.sends["vera-unread"] += 1  # it was sent once on the dead socket, which never delivered it
    vera.sent_on["vera-unread"] = vera.connection

    await vera.connect()
    await vera.pump(lambda: not vera.pending)
    await settle(vera, agent, conversation_id)

    assert vera.sends["vera-unread"] == 2  # resent exactly once, after the new connection's ready
    assert (await stored_client_ids(conversation_id))["vera-unread"] == 1
    assert (vera.duplicates, vera.syncs, agent.duplicates, agent.syncs) == (0, 0, 0, 0)


@UNLIMITED
async def test_a_lost_live_event_costs_one_sync_and_nothing_twice(website, alice, monkeypatch):
    """The channel layer is at-most-once: a reply whose push is lost is a real gap. The client syncs once
    when the grace period is over; the answer carries only what it lacks and ends with synced, not ready."""
    vera, agent, conversation_id = await start(website, alice)
    await exchange(vera, agent, range(3), conversation_id)

    async def lost(self, message):
        return None  # handed to the layer, never arrived

    monkeypatch.setattr("widget.transport.WidgetTransport.send", lost)
    await agent.write("alice-lost", {"type": "reply", "conversation": conversation_id, "body": "Never pushed"})
    await agent.pump(lambda: not agent.pending)
    await deliver_outbox()
    monkeypatch.undo()
    await vera.write("vera-after", {"type": "send", "body": "Anyone?"})  # its ack shows the gap
    await vera.pump(lambda: not vera.pending)
    await vera.grace_passed()  # sends the sync and reads until its synced

    assert vera.syncs == 1
    assert (vera.duplicates, vera.redundant["resent"]) == (0, 0)
    _, public_seq = await latest_seqs(conversation_id)
    assert vera.seen[conversation_id] == set(range(1, public_seq + 1))
