"""The console benchmark's data: a fresh, migrated database filled with a large, realistic installation.

``generate(spec, progress)`` runs inside a configured Django process whose default database is empty
and migrated. Small tables (teams, inboxes, agents and their memberships) go through the ORM, so they
get the model's own defaults; customers, identities, conversations, timeline entries and mentions go in
as bulk SQL: COPY on PostgreSQL, ``executemany`` on SQLite, in one transaction. The rows keep the
invariants the application relies on (models' docstrings):

- ``seq`` is 1..n without gaps in each conversation and ``Conversation.last_seq`` is n;
- ``public_seq`` numbers the entries the customer may see (messages and calls that are not internal)
  1..m without gaps, ``last_public_seq`` is m, and the others have none;
- ``last_activity_at`` is the newest entry's time, ``first_response_at`` the first agent reply's,
  ``resolved_at`` the last entry's for resolved conversations, ``snoozed_until`` only on snoozed ones;
- every entry carries its conversation's customer and inbox; authors and assignees are members of
  the inbox (or see every inbox); a mention names a member and sits on an internal note.

Two fixtures the measurements need are built in: ``bench-agent``, an ordinary agent who is a member
of three of the eight inboxes, and ``bench-admin``; and one customer with exactly
``spec.customer_entries`` entries over eight conversations in five inboxes, one of which holds just
over half of them, and a fifth of which (two conversations) are in inboxes ``bench-agent`` is not a
member of. Everything is drawn from a seeded generator, so a spec always yields the same rows
(times are relative to the moment of generation).
"""

from __future__ import annotations

import itertools
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from django.db import connection, transaction

BENCH_PASSWORD = "bench-console-password"
ADMIN_USERNAME = "bench-admin"
AGENT_USERNAME = "bench-agent"
HEAVY_CUSTOMER_NAME = "Hannah Heavy (bench)"

DAY = 86400.0
HISTORY_DAYS = 365

# name, kind, team, share of the conversations
INBOXES = [
    ("Website", "widget", "Support", 0.24),
    ("Shop widget", "widget", "Sales", 0.14),
    ("support@", "email", "Support", 0.20),
    ("billing@", "email", "Billing", 0.10),
    ("SMS", "sms", "Support", 0.09),
    ("WhatsApp", "whatsapp", "Sales", 0.11),
    ("Phone", "voice", "Support", 0.07),
    ("VIP", "email", "VIP", 0.05),
]
TEAMS = ["Support", "Sales", "Billing", "VIP"]
# Response-time targets (contact_center/lib/sla.py) of some inboxes, in minutes: first reply, next reply.
SLAS = {"Website": (15, 60), "support@": (240, 480), "VIP": (30, 120), "WhatsApp": (60, None)}
# bench-agent's inboxes: Website, support@ and SMS, about half of all conversations.
AGENT_INBOXES = (0, 2, 4)
# The heavy customer's conversations, by inbox; the first is the long one. Shop widget (1) and
# billing@ (3) are outside bench-agent's inboxes.
HEAVY_INBOXES = (0, 2, 2, 4, 0, 2, 1, 3)
HEAVY_HIDDEN_SHARE = 0.2
HEAVY_LONG_SHARE = 0.505

IDENTITY_KIND = {"widget": "visitor", "email": "email", "sms": "phone", "whatsapp": "phone", "voice": "phone"}

IN_BODIES = [
    "Hi, my order #{n} has not arrived yet. Can you check where it is?",
    "Hello! I was charged twice for invoice {n}, could you refund one of them?",
    "Is the blue jacket (item {n}) coming back in size M?",
    "I can't log in to my account, the reset link says it expired.",
    "Thanks, that worked. One more question: can I change the delivery address for order #{n}?",
    "The parcel arrived damaged, the box was open. What should I do?",
    "Do you ship to Norway? I could not find it in the list.",
    "ok",
    "Still waiting for an answer on this one, it has been two days.",
    "Can I pay by bank transfer instead of card?",
]
OUT_BODIES = [
    "Thanks for reaching out! I have checked order #{n}: it left our warehouse yesterday.",
    "I am sorry about that. I have refunded the duplicate charge; it shows within 3-5 working days.",
    "Good news: it is back in stock next week. Shall I reserve one for you?",
    "I have sent you a new reset link, it is valid for one hour.",
    "Done, the new address is on the order. Anything else I can help with?",
    "Could you send us a photo of the box? We will ship a replacement right away.",
    "Yes, we ship to Norway; customs are included in the price shown at checkout.",
    "You are welcome! Have a nice day.",
]
NOTE_BODIES = [
    "Repeat customer, third order this month. Offered a 10% voucher.",
    "Carrier confirms the parcel is stuck in the depot; escalated.",
    "Refund approved by billing.",
    "Customer sounded upset on the phone, handle with care.",
]
MENTION_BODIES = ["@{user} can you take this one? It is about a refund.", "@{user} FYI, see the thread above."]
# (kind, direction) of the entries after the customer's first message, and their weights.
ENTRY_MIX = [
    (("message", "in"), 52),
    (("message", "out"), 32),
    (("note", "internal"), 7),
    (("activity", "internal"), 7),
    (("call", "in"), 1),
    (("call", "out"), 1),
]
MENTION_RATE = 0.15


@dataclass(frozen=True)
class Spec:
    conversations: int
    entries: int
    customers: int
    agents: int = 50
    customer_entries: int = 10_000
    seed: int = 20261201

    def check(self) -> None:
        heavy_conversations = len(HEAVY_INBOXES)
        if self.conversations <= heavy_conversations:
            raise ValueError(f"--conversations must be above {heavy_conversations}")
        if self.customer_entries < 10 * heavy_conversations:
            raise ValueError("--customer-entries must be at least 80")
        if self.entries < self.customer_entries + (self.conversations - heavy_conversations):
            raise ValueError("--entries must leave at least one entry for every other conversation")
        if self.agents < 5:
            raise ValueError("--agents must be at least 5")


@dataclass
class Dataset:
    """What the measurements need to know about a generated database."""

    conversations: int
    entries: int
    customers: int
    identities: int
    mentions: int
    agents: int
    inboxes: int
    admin_id: int
    agent_id: int
    agent_inbox_ids: list[int]
    heavy_customer_id: int
    heavy_entries: int
    heavy_entries_visible_to_agent: int
    long_conversation_id: int
    long_conversation_entries: int
    open_conversations: int
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


# --- Loading rows ------------------------------------------------------------------------------------


class _Loader:
    """Streams rows into one table: COPY on PostgreSQL, batched executemany on SQLite."""

    BATCH = 5000

    def __init__(self):
        self.vendor = connection.vendor
        if self.vendor == "postgresql":
            self.stamp = lambda t: datetime.fromtimestamp(t, UTC)
        else:
            # Django's SQLite backend stores aware datetimes as naive UTC text.
            self.stamp = lambda t: datetime.fromtimestamp(t, UTC).replace(tzinfo=None).isoformat(" ")

    @contextmanager
    def rows(self, model, columns: list[str]) -> Iterator[Callable[[tuple], None]]:
        """A ``write(row)`` for ``columns`` of ``model``'s table. Columns the model has and the caller
        does not give get the field's default, so a column someone adds later cannot break the load."""
        table = model._meta.db_table
        fields = {f.column: f for f in model._meta.concrete_fields}
        unknown = set(columns) - set(fields)
        if unknown:
            raise ValueError(f"{table} has no column {sorted(unknown)}")
        rest = [f for column, f in fields.items() if column not in columns]
        extra = tuple(_default(f) for f in rest)
        names = [*columns, *(f.column for f in rest)]
        with connection.cursor() as cursor:
            raw = cursor.cursor
            quoted = ", ".join(connection.ops.quote_name(n) for n in names)
            if self.vendor == "postgresql":
                with raw.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
                    if extra:
                        yield lambda row: copy.write_row(row + extra)
                    else:
                        yield copy.write_row
            else:
                marks = ", ".join(["%s"] * len(names))
                sql = f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) VALUES ({marks})"
                batch: list[tuple] = []

                def write(row):
                    batch.append(row + extra)
                    if len(batch) >= self.BATCH:
                        raw.executemany(sql, batch)
                        batch.clear()

                yield write
                if batch:
                    raw.executemany(sql, batch)


def _default(field):
    if field.null and not field.has_default():
        return None
    value = field.get_db_prep_save(field.get_default(), connection)
    if connection.vendor == "postgresql" and hasattr(value, "obj"):  # psycopg's Jsonb wrapper
        return json.dumps(value.obj)
    return value


# --- Generating ------------------------------------------------------------------------------------


def generate(spec: Spec, progress: Callable[[str], None]) -> Dataset:
    spec.check()
    started = time.monotonic()
    rng = random.Random(spec.seed)
    now = time.time()
    loader = _Loader()
    with transaction.atomic():
        if loader.vendor == "postgresql":
            # Foreign keys are checked by deferred triggers at COMMIT, one queued event per row and key:
            # millions for this load. The generator keeps every reference valid itself (and the load is
            # verified afterwards), so this connection skips the triggers while it loads.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        world = _small_tables(spec, rng, progress)
        customers, identity_of = _customers(spec, rng, now, loader, progress)
        plan = _plan_conversations(spec, rng, now, world, customers)
        progress(f"planned {len(plan):,} conversations; writing {spec.entries:,} timeline entries")
        aggregates, mentions = _entries(spec, rng, now, world, plan, loader, progress)
        _conversations(plan, aggregates, identity_of, world, loader, now)
        progress(f"wrote {len(plan):,} conversations")
        _mentions(mentions, loader)
        progress(f"wrote {len(mentions):,} mentions")
    _reset_sequences()
    progress("ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if loader.vendor == "postgresql" else "ANALYZE")
    heavy = plan[0]
    long_entries = plan[0]["entries"]
    visible = sum(p["entries"] for p in plan[: len(HEAVY_INBOXES)] if p["inbox"] in AGENT_INBOXES)
    dataset = Dataset(
        conversations=len(plan),
        entries=sum(p["entries"] for p in plan),
        customers=spec.customers,
        identities=len(identity_of),
        mentions=len(mentions),
        agents=len(world["agent_ids"]),
        inboxes=len(world["inbox_ids"]),
        admin_id=world["admin_id"],
        agent_id=world["agent_id"],
        agent_inbox_ids=[world["inbox_ids"][i] for i in AGENT_INBOXES],
        heavy_customer_id=heavy["customer"],
        heavy_entries=spec.customer_entries,
        heavy_entries_visible_to_agent=visible,
        long_conversation_id=heavy["id"],
        long_conversation_entries=long_entries,
        open_conversations=sum(1 for p in plan if p["status"] == "open"),
        seconds=round(time.monotonic() - started, 1),
    )
    progress(f"generated in {dataset.seconds:.0f}s")
    return dataset


def _small_tables(spec: Spec, rng: random.Random, progress) -> dict:
    from django.contrib.auth.hashers import make_password

    from contact_center.models import Agent, Inbox, Team

    teams = {name: Team.objects.create(name=name) for name in TEAMS}
    inboxes = [
        Inbox.objects.create(
            name=name,
            kind=kind,
            team=teams[team],
            address={"email": f"{name.rstrip('@')}@bench.example", "sms": "+15550100", "voice": "+15550101"}.get(
                kind, ""
            ),
            config={"sla": _sla_config(name)} if name in SLAS else {},
        )
        for name, kind, team, _ in INBOXES
    ]
    # Everyone but the two who log in gets an unusable password: hashing fifty would cost a minute.
    unusable, usable = make_password(None), make_password(BENCH_PASSWORD)
    agents = [
        Agent(username=ADMIN_USERNAME, display_name="Ada Admin", role="admin", password=usable),
        Agent(username="bench-supervisor", display_name="Sam Supervisor", role="supervisor", password=unusable),
        Agent(username=AGENT_USERNAME, display_name="Alex Agent", role="agent", password=usable),
    ]
    agents += [
        Agent(username=f"agent-{i:02d}", display_name=f"Agent {i:02d}", role="agent", password=unusable)
        for i in range(len(agents), spec.agents)
    ]
    agents = Agent.objects.bulk_create(agents)
    members: dict[int, list[int]] = {i: [] for i in range(len(inboxes))}
    for a, agent in enumerate(agents):
        if agent.username == AGENT_USERNAME:
            chosen = list(AGENT_INBOXES)
        else:
            chosen = rng.sample(range(len(inboxes)), rng.randint(2, 4))
        for i in chosen:
            members[i].append(a)
    for i in range(len(inboxes)):
        if not members[i]:
            members[i].append(3)
    Inbox.members.through.objects.bulk_create(
        [
            Inbox.members.through(inbox_id=inboxes[i].pk, agent_id=agents[a].pk)
            for i, who in members.items()
            for a in who
        ]
    )
    Team.members.through.objects.bulk_create(
        [
            Team.members.through(team_id=teams[INBOXES[i][2]].pk, agent_id=agents[a].pk)
            for i, who in members.items()
            for a in who
        ],
        ignore_conflicts=True,
    )
    progress(f"{len(teams)} teams, {len(inboxes)} inboxes, {len(agents)} agents")
    return {
        "inbox_ids": [i.pk for i in inboxes],
        "inbox_kinds": [i.kind for i in inboxes],
        "team_of_inbox": [teams[INBOXES[i][2]].pk for i in range(len(inboxes))],
        "agent_ids": [a.pk for a in agents],
        "usernames": [a.username for a in agents],
        "members": members,  # inbox index -> agent indexes
        "sla_of_inbox": [SLAS.get(name, (None, None)) for name, *_ in INBOXES],
        "admin_id": agents[0].pk,
        "agent_id": agents[2].pk,
    }


def _sla_config(inbox_name: str) -> dict[str, int]:
    first, following = SLAS[inbox_name]
    config = {"first_response_minutes": first}
    if following:
        config["next_response_minutes"] = following
    return config


def _customers(spec: Spec, rng: random.Random, now: float, loader: _Loader, progress):
    """Customers 1..n (customer 1 is the heavy one) and their identities; returns their creation times
    and {(customer, identity kind): identity id}."""
    from contact_center.models import Customer, Identity

    created = [0.0] * (spec.customers + 1)
    identity_of: dict[tuple[int, str], int] = {}
    first_names = ["Maria", "John", "Aiko", "Lars", "Fatima", "Chen", "Olga", "Pedro", "Amara", "Tom"]
    last_names = ["Smith", "Garcia", "Tanaka", "Berg", "Khan", "Li", "Petrova", "Silva", "Okafor", "Brown"]
    with loader.rows(Customer, ["id", "name", "attributes", "created_at", "last_seen_at"]) as write:
        for c in range(1, spec.customers + 1):
            at = now - HISTORY_DAYS * DAY * rng.random() - DAY
            if c == 1:
                at = now - (HISTORY_DAYS + 30) * DAY
                name, attributes = HEAVY_CUSTOMER_NAME, {"plan": "enterprise", "bench": "heavy"}
            else:
                # A quarter have no name: visitors who never said who they are.
                name = "" if rng.random() < 0.25 else f"{rng.choice(first_names)} {rng.choice(last_names)}"
                attributes = {"plan": rng.choice(["free", "pro", "business"])} if rng.random() < 0.3 else {}
            created[c] = at
            write((c, name, json.dumps(attributes), loader.stamp(at), None))
    next_id = 1
    with loader.rows(Identity, ["id", "customer_id", "kind", "value", "verified", "created_at"]) as write:
        for c in range(1, spec.customers + 1):
            kinds = ["email"]
            if c == 1 or rng.random() < 0.5:
                kinds.append("phone")
            if c == 1 or rng.random() < 0.6:
                kinds.append("visitor")
            for kind in kinds:
                value = {
                    "email": f"customer{c}@mail.example",
                    "phone": f"+1555{c:07d}",
                    "visitor": f"v{rng.getrandbits(64):016x}{c:x}",
                }[kind]
                write((next_id, c, kind, value, kind == "email" and rng.random() < 0.7, loader.stamp(created[c])))
                identity_of[(c, kind)] = next_id
                next_id += 1
    progress(f"wrote {spec.customers:,} customers, {len(identity_of):,} identities")
    return created, identity_of


def _pick_status(rng: random.Random, age_days: float) -> str:
    r = rng.random()
    if age_days < 3:
        table = [("open", 0.5), ("pending", 0.2), ("snoozed", 0.1)]
    elif age_days < 30:
        table = [("open", 0.15), ("pending", 0.1), ("snoozed", 0.05)]
    else:
        table = [("open", 0.03), ("pending", 0.01), ("snoozed", 0.005)]
    for status, share in table:
        if r < share:
            return status
        r -= share
    return "resolved"


def _entry_counts(spec: Spec, rng: random.Random, n: int) -> list[int]:
    """Entries per ordinary conversation: between 1 and about 3x the mean, summing to exactly what is left."""
    total = spec.entries - spec.customer_entries
    mean = total / n
    counts = [max(1, round(rng.expovariate(1 / mean))) if mean > 1 else 1 for _ in range(n)]
    counts = [min(c, max(1, math.ceil(mean * 4))) for c in counts]
    diff = total - sum(counts)
    step = 1 if diff > 0 else -1
    while diff:
        i = rng.randrange(n)
        if step < 0 and counts[i] <= 1:
            continue
        counts[i] += step
        diff -= step
    return counts


def _plan_conversations(spec: Spec, rng: random.Random, now: float, world: dict, customer_created) -> list[dict]:
    weights = [share for *_, share in INBOXES]
    heavy_n = len(HEAVY_INBOXES)
    ordinary = spec.conversations - heavy_n
    counts = _entry_counts(spec, rng, ordinary)
    # Every customer gets one conversation first, the rest go to a skewed few: regulars write often.
    customers = list(range(2, spec.customers + 1))
    rng.shuffle(customers)
    while len(customers) < ordinary:
        customers.append(2 + int((spec.customers - 1) * rng.random() ** 3))
    customers = customers[:ordinary]

    # The heavy customer: the long conversation first, a fifth in inboxes bench-agent does not see.
    hidden = [i for i, inbox in enumerate(HEAVY_INBOXES) if inbox not in AGENT_INBOXES]
    heavy_counts = [0] * heavy_n
    heavy_counts[0] = round(spec.customer_entries * HEAVY_LONG_SHARE)
    hidden_total = round(spec.customer_entries * HEAVY_HIDDEN_SHARE)
    for k, i in enumerate(hidden):
        heavy_counts[i] = hidden_total // len(hidden) + (1 if k < hidden_total % len(hidden) else 0)
    rest = [i for i in range(1, heavy_n) if i not in hidden]
    left = spec.customer_entries - sum(heavy_counts)
    for k, i in enumerate(rest):
        heavy_counts[i] = left // len(rest) + (1 if k < left % len(rest) else 0)

    plan = []
    for n in range(spec.conversations):
        heavy = n < heavy_n
        if heavy:
            inbox, customer, entries = HEAVY_INBOXES[n], 1, heavy_counts[n]
            # Its conversations run side by side over the last months (the long chat for a year), so
            # the customer's timeline interleaves them; the newest is still open.
            created = math.floor(now - (HISTORY_DAYS if n == 0 else 120 - 12 * n) * DAY)
            status = "open" if n in (0, 1) else "resolved"
        else:
            inbox = rng.choices(range(len(INBOXES)), weights)[0]
            customer = customers[n - heavy_n]
            entries = counts[n - heavy_n]
            # More conversations lately than a year ago: the installation grew.
            age = HISTORY_DAYS * DAY * rng.random() ** 1.3
            # At least ten minutes old, so its entries fit between its start and the moment of generation.
            created = min(max(now - age, customer_created[customer]), now - 600)
            status = _pick_status(rng, (now - created) / DAY)
        members = world["members"][inbox]
        assigned = rng.random() < (0.6 if status == "open" else 0.9)
        plan.append(
            {
                "id": n + 1,
                "inbox": inbox,
                "customer": customer,
                "entries": entries,
                "created": created,
                "status": status,
                "assignee": rng.choice(members) if assigned or heavy else None,
                "priority": rng.choices([0, 1, 2, 3, 4], [70, 10, 10, 7, 3])[0],
            }
        )
    return plan


def _entries(spec, rng, now, world, plan, loader, progress):
    """Streams every entry; returns per-conversation aggregates and the mentions to write."""
    from contact_center.models import TimelineEntry

    columns = [
        "id",
        "conversation_id",
        "customer_id",
        "inbox_id",
        "seq",
        "public_seq",
        "kind",
        "direction",
        "author_id",
        "body",
        "payload",
        "external_id",
        "delivery_status",
        "created_at",
    ]
    kinds, kind_weights = zip(*ENTRY_MIX, strict=True)
    cum_weights = list(itertools.accumulate(kind_weights))
    agent_ids, usernames, members_of = world["agent_ids"], world["usernames"], world["members"]
    aggregates = [None] * len(plan)
    mentions: list[tuple] = []
    entry_id = 0
    report_every = max(1, spec.entries // 10)
    heavy_n = len(HEAVY_INBOXES)
    with loader.rows(TimelineEntry, columns) as write:
        for p in plan:
            n = p["entries"]
            inbox, kind_of_inbox = p["inbox"], world["inbox_kinds"][p["inbox"]]
            conversation_id, customer_id, inbox_id = p["id"], p["customer"], world["inbox_ids"][inbox]
            members = members_of[inbox]
            handler = p["assignee"] if p["assignee"] is not None else rng.choice(members)
            # Gaps between entries: minutes in a chat, hours by email; squeezed to end before now.
            mean_gap = {"email": 4 * 3600.0, "voice": 1800.0}.get(kind_of_inbox, 300.0)
            gaps = [rng.expovariate(1 / mean_gap) for _ in range(n - 1)]
            span = now - 60 - p["created"]
            total = sum(gaps)
            if total > span:
                gaps = [g * span / total for g in gaps]
            t = p["created"]
            # The heavy customer's entries are on whole seconds, so its conversations' entries collide
            # now and then: the timeline's keyset must order ties by id.
            whole_seconds = p["id"] <= heavy_n
            public = 0
            first_response = None
            # What append_entry keeps (contact_center/actions/timeline.py): the customer's newest public
            # seq, and since when they wait for an answer, with the inbox's target for it.
            customer_seq, waiting, due = 0, None, None
            first_minutes, next_minutes = world["sla_of_inbox"][inbox]
            for seq in range(1, n + 1):
                if seq > 1:
                    t += gaps[seq - 2]
                at = math.floor(t) if whole_seconds else t
                if seq == 1:
                    kind, direction = ("call", "in") if kind_of_inbox == "voice" else ("message", "in")
                elif seq == n and p["status"] == "resolved":
                    kind, direction = "activity", "internal"
                else:
                    kind, direction = rng.choices(kinds, cum_weights=cum_weights)[0]
                entry_id += 1
                author = None
                payload = "{}"
                external_id = None
                delivery = ""
                number = rng.randrange(10000, 99999)
                if kind in ("message", "call"):
                    public += 1
                    public_seq = public
                    if direction == "out":
                        author = agent_ids[handler]
                        delivery = rng.choice(["sent", "delivered", "read"])
                        first_response = first_response or at
                        waiting = due = None
                        body = rng.choice(OUT_BODIES).format(n=number)
                        external_id = f"console:bench-{entry_id}"
                    else:
                        body = rng.choice(IN_BODIES).format(n=number)
                        external_id = f"bench-{entry_id}"
                        customer_seq = public_seq
                        if waiting is None:
                            waiting = at
                            minutes = first_minutes if first_response is None else next_minutes
                            due = at + 60 * minutes if minutes else None
                    if kind == "call":
                        body = ""
                        payload = json.dumps({"duration": rng.randint(20, 900), "call_sid": f"CA{entry_id:032x}"})
                    elif kind_of_inbox == "email":
                        payload = json.dumps({"message_id": f"<bench-{entry_id}@mail.example>"})
                else:
                    public_seq = None
                    if kind == "note":
                        author = agent_ids[handler]
                        if rng.random() < MENTION_RATE and len(members) > 1:
                            named = rng.choice([m for m in members if m != handler])
                            body = rng.choice(MENTION_BODIES).format(user=usernames[named])
                            mentions.append((entry_id, agent_ids[named], conversation_id, at))
                        else:
                            body = rng.choice(NOTE_BODIES)
                        external_id = f"console:bench-{entry_id}"
                    else:
                        if seq == n and p["status"] == "resolved":
                            body, event = "Resolved", {"event": "status", "from": "open", "to": "resolved"}
                        else:
                            body, event = "Assigned", {"event": "assigned", "to": agent_ids[handler]}
                        payload = json.dumps(event)
                write(
                    (
                        entry_id,
                        conversation_id,
                        customer_id,
                        inbox_id,
                        seq,
                        public_seq,
                        kind,
                        direction,
                        author,
                        body,
                        payload,
                        external_id,
                        delivery,
                        loader.stamp(at),
                    )
                )
                if entry_id % report_every == 0:
                    progress(f"  {entry_id:,} entries")
            if p["status"] == "resolved":
                waiting = due = None  # resolving ends every wait (do_set_status)
            aggregates[p["id"] - 1] = (n, public, at, first_response, customer_seq, waiting, due)
    return aggregates, mentions


def _conversations(plan, aggregates, identity_of, world, loader, now):
    from contact_center.models import Conversation

    columns = [
        "id",
        "customer_id",
        "inbox_id",
        "identity_id",
        "status",
        "assignee_id",
        "team_id",
        "priority",
        "subject",
        "created_at",
        "first_response_at",
        "resolved_at",
        "snoozed_until",
        "last_activity_at",
        "last_seq",
        "last_public_seq",
        "agent_read_seq",
        "visitor_context",
        "reply_email",
        "last_customer_seq",
        "waiting_since",
        "sla_due_at",
    ]
    rng = random.Random(len(plan))
    with loader.rows(Conversation, columns) as write:
        for p, aggregate in zip(plan, aggregates, strict=True):
            last_seq, last_public, last_at, first_response, customer_seq, waiting, due = aggregate
            kind = world["inbox_kinds"][p["inbox"]]
            status = p["status"]
            snoozed_until = None
            if status == "snoozed" and rng.random() < 0.8:
                snoozed_until = loader.stamp(now + rng.uniform(3600, 3 * DAY))
            subject = f"Order #{rng.randrange(10000, 99999)}: a question" if kind == "email" else ""
            context = (
                {"url": "https://shop.example/products/jacket", "referrer": "https://www.example/"}
                if kind == "widget"
                else {}
            )
            write(
                (
                    p["id"],
                    p["customer"],
                    world["inbox_ids"][p["inbox"]],
                    identity_of.get((p["customer"], IDENTITY_KIND[kind])),
                    status,
                    world["agent_ids"][p["assignee"]] if p["assignee"] is not None else None,
                    world["team_of_inbox"][p["inbox"]],
                    p["priority"],
                    subject,
                    loader.stamp(p["created"]),
                    loader.stamp(first_response) if first_response is not None else None,
                    loader.stamp(last_at) if status == "resolved" else None,
                    snoozed_until,
                    loader.stamp(last_at),
                    last_seq,
                    last_public,
                    # Agents have read everything but, in open conversations, the customer's newest.
                    customer_seq if status == "resolved" else max(0, customer_seq - 1),
                    json.dumps(context),
                    "",
                    customer_seq,
                    loader.stamp(waiting) if waiting is not None else None,
                    loader.stamp(due) if due is not None else None,
                )
            )


def _mentions(mentions, loader):
    from contact_center.models import Mention

    with loader.rows(Mention, ["id", "entry_id", "agent_id", "conversation_id", "created_at"]) as write:
        for i, (entry_id, agent_id, conversation_id, at) in enumerate(mentions, start=1):
            write((i, entry_id, agent_id, conversation_id, loader.stamp(at)))


def _reset_sequences() -> None:
    """Rows were written with explicit ids: move PostgreSQL's identity sequences past them."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    from contact_center.models import Conversation, Customer, Identity, Mention, TimelineEntry

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [Customer, Identity, Conversation, TimelineEntry, Mention]
        ):
            cursor.execute(sql)


# --- Checking and finding a generated database ---------------------------------------------------------


def verify() -> dict:
    """The invariants the generator promises, checked in SQL on what was written; every count must be 0."""
    checks = {
        "conversations whose last_seq is not their entry count and max seq": """
            SELECT COUNT(*) FROM cc_conversation c LEFT JOIN (
                SELECT conversation_id, COUNT(*) AS n, MAX(seq) AS top, MIN(seq) AS low,
                       COUNT(public_seq) AS np, MAX(public_seq) AS ptop, MAX(created_at) AS newest
                FROM cc_timeline_entry GROUP BY conversation_id
            ) e ON e.conversation_id = c.id
            WHERE e.n IS NULL OR e.n <> c.last_seq OR e.top <> c.last_seq OR e.low <> 1
               OR e.np <> c.last_public_seq OR COALESCE(e.ptop, 0) <> c.last_public_seq
               OR e.newest <> c.last_activity_at""",
        "conversations whose last_customer_seq is not the customer's newest public seq": """
            SELECT COUNT(*) FROM cc_conversation c LEFT JOIN (
                SELECT conversation_id, MAX(public_seq) AS top FROM cc_timeline_entry
                WHERE direction = 'in' AND public_seq IS NOT NULL GROUP BY conversation_id
            ) e ON e.conversation_id = c.id
            WHERE COALESCE(e.top, 0) <> c.last_customer_seq""",
        "resolved conversations with someone waiting, or a target without a wait": """
            SELECT COUNT(*) FROM cc_conversation
            WHERE (status = 'resolved' AND waiting_since IS NOT NULL)
               OR (waiting_since IS NULL AND sla_due_at IS NOT NULL)""",
        "entries whose customer or inbox is not their conversation's": """
            SELECT COUNT(*) FROM cc_timeline_entry e JOIN cc_conversation c ON c.id = e.conversation_id
            WHERE e.customer_id <> c.customer_id OR e.inbox_id <> c.inbox_id""",
        "entries with a public_seq that the customer may not see (or the reverse)": """
            SELECT COUNT(*) FROM cc_timeline_entry
            WHERE (public_seq IS NULL) = (kind IN ('message', 'call') AND direction <> 'internal')""",
        "mentions not on a note of their conversation": """
            SELECT COUNT(*) FROM cc_mention m JOIN cc_timeline_entry e ON e.id = m.entry_id
            WHERE e.kind <> 'note' OR e.conversation_id <> m.conversation_id""",
    }
    with connection.cursor() as cursor:
        out = {}
        for name, sql in checks.items():
            cursor.execute(sql)
            out[name] = cursor.fetchone()[0]
    return out


def find_dataset() -> Dataset:
    """The Dataset of a database ``generate`` filled earlier (``--reuse``)."""
    from django.db.models import Count, Max

    from contact_center.models import Agent, Conversation, Customer, Identity, Inbox, Mention, TimelineEntry

    admin = Agent.objects.get(username=ADMIN_USERNAME)
    agent = Agent.objects.get(username=AGENT_USERNAME)
    heavy = Customer.objects.get(name=HEAVY_CUSTOMER_NAME)
    agent_inboxes = sorted(agent.inboxes.values_list("pk", flat=True))
    per_conversation = (
        TimelineEntry.objects.filter(customer=heavy).values("conversation_id", "inbox_id").annotate(n=Count("pk"))
    )
    long = max(per_conversation, key=lambda row: row["n"])
    return Dataset(
        conversations=Conversation.objects.count(),
        entries=TimelineEntry.objects.aggregate(n=Max("pk"))["n"] or 0,
        customers=Customer.objects.count(),
        identities=Identity.objects.count(),
        mentions=Mention.objects.count(),
        agents=Agent.objects.count(),
        inboxes=Inbox.objects.count(),
        admin_id=admin.pk,
        agent_id=agent.pk,
        agent_inbox_ids=agent_inboxes,
        heavy_customer_id=heavy.pk,
        heavy_entries=sum(row["n"] for row in per_conversation),
        heavy_entries_visible_to_agent=sum(row["n"] for row in per_conversation if row["inbox_id"] in agent_inboxes),
        long_conversation_id=long["conversation_id"],
        long_conversation_entries=long["n"],
        open_conversations=Conversation.objects.filter(status="open").count(),
        seconds=0.0,
    )
