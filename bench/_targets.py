"""The systems chat_latency.py measures, each started as its own server process on loopback.

A target's ``start()`` returns once the server listens and its data is seeded; ``dialect`` then says
how to talk to it, ``pid`` is the process whose CPU is measured, ``persisted(ids)`` checks storage
(None for the anchors, which store nothing) and ``stop()`` stops it and removes what it created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import redis

from bench._loadgen import ChatRoomDialect, ParleyDialect
from tests.support.live import ROOT, LiveStack, free_port, wait_for_port

BENCH = Path(__file__).resolve().parent


def _delete_redis_keys(redis_url: str, prefix: str) -> None:
    """Remove whatever a run left under its own channel-layer prefix (groups live a day otherwise)."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


class RelayTarget:
    """The floor: bench/_relay.py, a bare websockets relay."""

    name = "relay"
    description = "bare websockets relay (floor)"
    kind = "anchor"

    def __init__(self, deflate: bool = False):
        self.deflate = deflate  # accept permessage-deflate (bench/widget.py's soak); chat_latency.py refuses it
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-relay-", suffix=".log")  # noqa: SIM115
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(BENCH / "_relay.py"), "--port", str(port), *(["--deflate"] if self.deflate else [])],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(port, proc=self.proc)
        self.pid = self.proc.pid
        self.dialect = ChatRoomDialect(lambda room, role: f"ws://127.0.0.1:{port}/room/{room}/{role}")

    def persisted(self, ids: list[str]) -> dict | None:
        return None

    def logs(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        _terminate(self.proc)
        self.log.close()


class ChannelsTarget:
    """The Channels tutorial's group chat on channels-redis, under daphne (bench/anchors/)."""

    name = "channels-redis"
    description = "stock Channels group chat on channels-redis (daphne)"
    kind = "anchor"

    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self.prefix = "bench-anchor-" + uuid.uuid4().hex[:8]
        self.log = tempfile.NamedTemporaryFile("w+", prefix="bench-channels-", suffix=".log")  # noqa: SIM115
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        port = free_port()
        env = {
            **_clean_env(),
            "DJANGO_SETTINGS_MODULE": "bench.anchors.settings",
            "REDIS_URL": self.redis_url,
            "ANCHOR_CHANNEL_PREFIX": self.prefix,
            "PYTHONPATH": str(ROOT),
        }
        daphne = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0"]
        self.proc = subprocess.Popen(
            [*daphne, "bench.anchors.asgi:application"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_for_port(port, proc=self.proc)
        self.pid = self.proc.pid
        origin = f"http://127.0.0.1:{port}"
        self.dialect = ChatRoomDialect(lambda room, role: f"ws://127.0.0.1:{port}/ws/chat/{room}/", origin)

    def persisted(self, ids: list[str]) -> dict | None:
        return None

    def logs(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        _terminate(self.proc)
        self.log.close()
        _delete_redis_keys(self.redis_url, self.prefix)


# Run inside `manage.py shell` against the stack's database. Agents log in the way Django's test
# client's force_login does (a session row with the user's id and auth hash), because hashing 2,000
# passwords would take longer than the benchmark. One inbox per pair: the console socket follows
# whole inboxes, so an inbox with one member is how a conversation reaches exactly one agent socket.
_SEED = """
import json
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from contact_center.models import Agent, Inbox
from widget.tokens import issue_visitor_token, new_visitor_id

PAIRS, FANOUT = {pairs}, {fanout}
with transaction.atomic():
    inboxes = Inbox.objects.bulk_create(
        [Inbox(name=f"Bench pair {{i}}", kind="widget") for i in range(PAIRS)]
        + [Inbox(name="Bench fan-out", kind="widget")]
    )
    password = make_password(None)
    agents = Agent.objects.bulk_create(
        [Agent(username=f"bench-pair-{{i}}", password=password) for i in range(PAIRS)]
        + [Agent(username=f"bench-fanout-{{j}}", password=password) for j in range(FANOUT)]
    )
    fanout_inbox = inboxes[-1]
    Inbox.members.through.objects.bulk_create(
        [Inbox.members.through(inbox_id=inboxes[i].pk, agent_id=agents[i].pk) for i in range(PAIRS)]
        + [Inbox.members.through(inbox_id=fanout_inbox.pk, agent_id=a.pk) for a in agents[PAIRS:]]
    )
    sessions = []
    for agent in agents:
        store = SessionStore()
        store[SESSION_KEY] = str(agent.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = agent.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
print(json.dumps({{
    "pair_tokens": [issue_visitor_token(inbox.public_key, new_visitor_id()) for inbox in inboxes[:PAIRS]],
    "pair_sessions": sessions[:PAIRS],
    "fanout_token": issue_visitor_token(fanout_inbox.public_key, new_visitor_id()),
    "fanout_sessions": sessions[PAIRS:],
}}))
"""

_PERSISTED = """
import json
from contact_center.models import TimelineEntry
rows = TimelineEntry.objects.filter(kind="message", direction="in").values_list("external_id", flat=True)
print(json.dumps([external_id.rsplit(":", 1)[1] for external_id in rows]))
"""


class ParleyTarget:
    """Parley: one `manage.py serve --roles web,worker` process on its own fresh database."""

    kind = "parley"

    def __init__(self, backend: str, *, conversations: int, fanout: int, database_url: str, redis_url: str):
        self.backend = backend
        self.name = f"parley-{backend}"
        self.description = {
            "embedded": "Parley, embedded default (SQLite + in-memory layer)",
            "services": "Parley on PostgreSQL + Redis",
        }[backend]
        self.conversations, self.fanout = conversations, fanout
        self.database_url, self.redis_url = database_url, redis_url
        self.stack: LiveStack | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="parley-bench-")

    def start(self) -> None:
        if self.backend == "services":
            self.stack = LiveStack(Path(self._tmp.name), database_url=self.database_url, redis_url=self.redis_url)
        else:
            self.stack = LiveStack(Path(self._tmp.name))
        # A bench visitor writes far faster than a person (--quick: 20 messages in 5 s), past the default
        # 20/minute. The limit stays on, high, so its counting is still paid on every message.
        self.stack.env["PARLEY_RATE_MESSAGES_PER_VISITOR"] = "100000/minute"
        seed = json.loads(self.stack.shell(_SEED.format(pairs=self.conversations, fanout=self.fanout)).splitlines()[-1])
        base_url = self.stack.start("web,worker")
        self.pid = self.stack.processes[0].pid
        self.dialect = ParleyDialect(base_url, seed)

    def persisted(self, ids: list[str]) -> dict | None:
        """Compare the inbound message rows with the ids sent: each must be stored exactly once."""
        stored = json.loads(self.stack.shell(_PERSISTED).splitlines()[-1])
        expected, stored_set = set(ids), set(stored)
        return {
            "rows": len(stored),
            "missing": len(expected - stored_set),
            "duplicated": len(stored) - len(stored_set),
            "unexpected": len(stored_set - expected),
        }

    def logs(self) -> str:
        return self.stack.logs() if self.stack else ""

    def stop(self) -> None:
        if self.stack is not None:
            prefix = self.stack.env["PARLEY_CHANNEL_PREFIX"]
            self.stack.stop()
            if self.backend == "services":
                _delete_redis_keys(self.redis_url, prefix)
            self.stack = None
        self._tmp.cleanup()


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}


def _terminate(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
