"""Socket clients that speak Parley's protocols as a careful widget or console would, over real sockets.

``VisitorClient`` speaks docs/protocols/widget-socket.md and ``AgentClient`` docs/protocols/console-socket.md.
Each runs one asyncio task that connects, says ``hello``, records what arrives and reconnects with
backoff whenever the socket drops or cannot be opened (a web node restarting, Redis down), until
``close()``. Writes carry a client id, are kept until acknowledged and resent after every ``ready``:
the server stores each client id once, so a resend never duplicates.

``resume=False`` makes a naive client that trusts the live stream: it asks for no replay on ``hello``
and never fills a gap with ``sync``. It loses whatever is published while it is away; the tests use
it to prove that they notice a loss.

Both clients keep two views of what arrived:

- the record, deduplicated by ``seq`` (what a UI renders): ``messages`` / ``entries(conversation)``;
- every frame that carried an entry of the other side, counted by entry id: ``frame_counts``, and
  ``arrivals``, the entries in the order they first arrived. A duplicate there is harmless on the
  wire (the protocol says to deduplicate) but lets a test check that live delivery ran exactly once.

Usable from any asyncio code (tests, benchmarks); HTTP calls run in a thread so the loop never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import json
import logging
import random
import re
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

logger = logging.getLogger(__name__)

# With resume=False the visitor's hello asks for what follows this seq: nothing, ever.
NO_REPLAY_SEQ = 2**31 - 1


class _ReconnectingClient:
    """The connect / hello / read / back off loop shared by both clients."""

    name = "client"

    def __init__(self, base_url: str, *, resume: bool, backoff: float = 0.1, backoff_cap: float = 2.0):
        self.base_url = base_url.rstrip("/")
        self.ws_base = "ws" + self.base_url.removeprefix("http")
        self.resume = resume
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.connections = 0  # sockets opened so far
        self.failed_attempts = 0  # connection attempts that never opened a socket
        self.readies = 0  # `ready` frames received so far (one per hello; a sync ends with `synced`)
        self.close_codes: list[int | None] = []
        self.errors: list[dict] = []  # `error` frames
        self.frame_counts: Counter[int] = Counter()
        self._pending: dict[str, dict] = {}  # client id -> the write frame, until acknowledged
        self._requests: list[dict] = []  # frames _on_frame wants sent (gap fills)
        self._ws: ClientConnection | None = None
        self._ready = False
        self._online = asyncio.Event()
        self._online.set()
        self._closing = False
        self._task: asyncio.Task | None = None
        self._changed = asyncio.Condition()

    # --- lifecycle --------------------------------------------------------------------------------

    async def start(self, within: float = 10.0) -> None:
        """Start the connection loop and wait for the first ``ready``."""
        self._task = asyncio.create_task(self._run(), name=f"{self.name} socket")
        # A bug in the loop must fail the waiting test at once, not after its timeout.
        self._task.add_done_callback(lambda _: asyncio.ensure_future(self._notify()))
        await self.wait_until(lambda: self.readies > 0, within, "the first ready")

    async def close(self) -> None:
        self._closing = True
        self._online.set()
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def go_offline(self) -> None:
        """Drop the socket and stay away until ``go_online()``: a laptop lid closed."""
        self._online.clear()
        if self._ws is not None:
            await self._ws.close()

    def go_online(self) -> None:
        self._online.set()

    @property
    def is_ready(self) -> bool:
        """True while a socket is open and its ``hello`` has been answered."""
        return self._ready

    @property
    def pending(self) -> list[str]:
        """Client ids of writes not acknowledged yet."""
        return list(self._pending)

    async def wait_until(self, predicate: Callable[[], bool], within: float, what: str = "the condition") -> None:
        """Wait until ``predicate()`` holds (checked after every frame and state change).

        ``within`` is a liveness bound, not a performance claim: raises AssertionError past it.
        """

        def check() -> bool:
            task = self._task
            if task is not None and task.done() and not task.cancelled() and task.exception() is not None:
                raise RuntimeError(f"{self.name}: the socket loop crashed") from task.exception()
            return predicate()

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(check), within)
            except TimeoutError:
                raise AssertionError(f"{self.name}: no {what} within {within}s ({self._describe()})") from None

    async def wait_acked(self, client_id: str, within: float) -> None:
        """Wait until the write ``client_id`` is acknowledged (stored by the server)."""
        await self.wait_until(lambda: client_id not in self._pending, within, f"ack of {client_id}")

    # --- to implement -----------------------------------------------------------------------------

    async def _socket_url(self) -> tuple[str, dict[str, str]]:
        raise NotImplementedError

    def _hello(self) -> dict:
        raise NotImplementedError

    def _on_frame(self, frame: dict) -> None:
        raise NotImplementedError

    def _describe(self) -> str:
        return f"connections={self.connections} readies={self.readies} pending={len(self._pending)}"

    # --- the loop ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.backoff
        while not self._closing:
            await self._online.wait()
            if self._closing:
                break
            try:
                url, headers = await self._socket_url()
                async with connect(url, origin=self.base_url, additional_headers=headers, open_timeout=5) as ws:
                    self._ws = ws
                    self.connections += 1
                    delay = self.backoff  # reset after a successful open, as the protocols ask
                    if not self._online.is_set():
                        continue  # went offline while connecting
                    await ws.send(json.dumps(self._hello()))
                    async for raw in ws:
                        await self._dispatch(ws, json.loads(raw))
                    self.close_codes.append(ws.close_code)
            except (OSError, TimeoutError, WebSocketException) as exc:
                # Connection refused, HTTP errors of the session or login pages (URLError is an OSError),
                # handshake refused (Redis down: the consumer fails before accepting), dropped mid-stream:
                # all mean "try again later".
                logger.debug("%s: socket failed: %r", self.name, exc)
                if self._ws is not None:
                    self.close_codes.append(self._ws.close_code)
                else:
                    self.failed_attempts += 1
            finally:
                self._ws = None
                await self._set_ready(False)
            if self._closing:
                break
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(self.backoff_cap, delay * 2)

    async def _dispatch(self, ws: ClientConnection, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "error":
            self.errors.append(frame)
            # A write the server refused for good never succeeds: drop it from the resend queue.
            if frame.get("code") in {"invalid", "not_found"} and frame.get("client_id"):
                self._pending.pop(frame["client_id"], None)
        else:
            self._on_frame(frame)
        for request in self._requests:
            await ws.send(json.dumps(request))
        self._requests.clear()
        if kind == "ready":
            self.readies += 1
            await self._set_ready(True)
            for write in list(self._pending.values()):
                await ws.send(json.dumps(write))
        await self._notify()

    async def _set_ready(self, ready: bool) -> None:
        self._ready = ready
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _write(self, frame: dict) -> str:
        """Queue ``frame`` until acknowledged; send it now if the session is ready."""
        self._pending[frame["client_id"]] = frame
        ws = self._ws
        if ws is not None and self._ready:
            # On failure it stays in _pending: resent after the next ready.
            with contextlib.suppress(WebSocketException):
                await ws.send(json.dumps(frame))
        return frame["client_id"]


def _new_client_id() -> str:
    return uuid.uuid4().hex


class VisitorClient(_ReconnectingClient):
    """A widget visitor: session token over HTTP, then /ws/widget/ (docs/protocols/widget-socket.md)."""

    name = "visitor"

    def __init__(self, base_url: str, inbox_key: str, *, resume: bool = True, **backoff):
        super().__init__(base_url, resume=resume, **backoff)
        self.inbox_key = inbox_key
        self.token: str | None = None
        self.visitor_id: str | None = None
        self.conversation: int | None = None
        self.seen: dict[int, dict] = {}  # seq -> message, for the current conversation
        self.last = 0  # highest contiguous seq
        self.arrivals: list[dict] = []  # agent messages, in the order they first arrived

    @property
    def messages(self) -> list[dict]:
        """The conversation as a widget renders it: each message once, by seq."""
        return [self.seen[seq] for seq in sorted(self.seen)]

    def bodies(self, direction: str | None = None) -> list[str]:
        return [m["body"] for m in self.messages if direction is None or m["direction"] == direction]

    async def send(self, body: str, client_id: str | None = None) -> str:
        """Send a message; returns its client id. Kept and resent until acknowledged."""
        return await self._write({"type": "send", "client_id": client_id or _new_client_id(), "body": body})

    async def _socket_url(self) -> tuple[str, dict[str, str]]:
        # Asking again on every connection is what the frame does: it renews a token that went bad.
        answer = await asyncio.to_thread(
            _post_json, self.base_url + "/widget/api/session/", {"inbox": self.inbox_key, "token": self.token}
        )
        self.token, self.visitor_id = answer["token"], answer["visitor_id"]
        return f"{self.ws_base}/ws/widget/?{urllib.parse.urlencode({'token': self.token})}", {}

    def _hello(self) -> dict:
        return {"type": "hello", "last_seq": self.last if self.resume else NO_REPLAY_SEQ}

    def _on_frame(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind == "message":
            message = frame["message"]
            if message["direction"] == "out":
                self.frame_counts[message["id"]] += 1
            self._record(message)
        elif kind == "ack":
            self._pending.pop(frame["client_id"], None)
            self._record(frame["message"])
        elif kind == "ready":
            conversation = frame.get("conversation")
            if conversation is not None and self.conversation not in (None, conversation):
                self._start_conversation(conversation)
                if self.resume:
                    self._requests.append({"type": "sync", "after": 0})

    def _start_conversation(self, conversation: int) -> None:
        self.conversation, self.seen, self.last = conversation, {}, 0

    def _record(self, message: dict) -> None:
        if message["conversation"] != self.conversation:
            self._start_conversation(message["conversation"])
        if message.get("client_id"):
            self._pending.pop(message["client_id"], None)
        seq = message["seq"]
        if seq in self.seen:
            return
        self.seen[seq] = message
        if message["direction"] == "out":
            self.arrivals.append(message)
        while self.last + 1 in self.seen:
            self.last += 1
        if seq > self.last + 1 and self.resume:
            self._requests.append({"type": "sync", "after": self.last})

    def _describe(self) -> str:
        return f"{super()._describe()} conversation={self.conversation} last={self.last} bodies={self.bodies()}"


class AgentClient(_ReconnectingClient):
    """An agent's console: session login over HTTP, then /ws/console/ (docs/protocols/console-socket.md).

    Follows every conversation it hears of: from the seq before the first entry it sees live, or from
    ``follow(conversation, after)``.
    """

    name = "agent"

    def __init__(self, base_url: str, username: str, password: str, *, resume: bool = True, **backoff):
        super().__init__(base_url, resume=resume, **backoff)
        self.username = username
        self.password = password
        self.cookies: dict[str, str] = {}
        self.seen: dict[int, dict[int, dict]] = {}  # conversation -> seq -> entry
        self.last: dict[int, int] = {}  # conversation -> highest contiguous seq
        self.arrivals: list[dict] = []  # customer entries (direction "in"), in the order they first arrived

    def entries(self, conversation: int) -> list[dict]:
        """The conversation's timeline as the console renders it: each entry once, by seq."""
        held = self.seen.get(conversation, {})
        return [held[seq] for seq in sorted(held)]

    def bodies(self, conversation: int, direction: str | None = None) -> list[str]:
        return [e["body"] for e in self.entries(conversation) if direction is None or e["direction"] == direction]

    def conversations(self) -> list[int]:
        return list(self.seen)

    def follow(self, conversation: int, after: int = 0) -> None:
        """Start following ``conversation`` from ``after``; takes effect on the next ``hello``."""
        self.seen.setdefault(conversation, {})
        self.last.setdefault(conversation, after)

    async def reply(self, conversation: int, body: str, client_id: str | None = None) -> str:
        """Reply to the customer; returns the client id. Kept and resent until acknowledged."""
        return await self._write(
            {"type": "reply", "conversation": conversation, "body": body, "client_id": client_id or _new_client_id()}
        )

    async def note(self, conversation: int, body: str, client_id: str | None = None) -> str:
        return await self._write(
            {"type": "note", "conversation": conversation, "body": body, "client_id": client_id or _new_client_id()}
        )

    async def _socket_url(self) -> tuple[str, dict[str, str]]:
        if "sessionid" not in self.cookies or 4401 in self.close_codes[-1:]:
            self.cookies = await asyncio.to_thread(_login, self.base_url, self.username, self.password)
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return f"{self.ws_base}/ws/console/", {"Cookie": cookie}

    def _hello(self) -> dict:
        resume = {str(conversation): last for conversation, last in self.last.items()} if self.resume else {}
        return {"type": "hello", "resume": resume}

    def _on_frame(self, frame: dict) -> None:
        kind = frame.get("type")
        if kind in {"entry.created", "entry.updated"}:
            entry = frame["entry"]
            if kind == "entry.created" and entry["direction"] == "in":
                self.frame_counts[entry["id"]] += 1
            self._record(entry)
        elif kind == "ack":
            self._pending.pop(frame["client_id"], None)
            self._record(frame["entry"])

    def _record(self, entry: dict) -> None:
        conversation, seq = entry["conversation"], entry["seq"]
        if conversation not in self.seen:
            self.follow(conversation, seq - 1)
        client_id = (entry.get("payload") or {}).get("client_id")
        if client_id and entry.get("author"):
            self._pending.pop(client_id, None)
        held = self.seen[conversation]
        first = seq not in held
        held[seq] = entry  # an update replaces what is held
        if not first:
            return
        if entry["direction"] == "in":
            self.arrivals.append(entry)
        while self.last[conversation] + 1 in held:
            self.last[conversation] += 1
        if seq > self.last[conversation] + 1 and self.resume:
            self._requests.append({"type": "sync", "conversation": conversation, "after": self.last[conversation]})

    def _describe(self) -> str:
        return f"{super()._describe()} last={self.last}"


# --- HTTP ---------------------------------------------------------------------------------------------


def _post_json(url: str, data: dict) -> dict:
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(url))
    request = urllib.request.Request(  # noqa: S310  (the caller's Parley URL)
        url, data=json.dumps(data).encode(), headers={"Origin": origin, "Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.load(response)


def _login(base_url: str, username: str, password: str) -> dict[str, str]:
    """Log in through the console's login form; returns the session cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = base_url + "/console/login/"
    with opener.open(login_url, timeout=5) as response:
        page = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if match is None:
        raise RuntimeError(f"no CSRF token on {login_url}")
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": match[1]})
    request = urllib.request.Request(login_url, data=form.encode(), headers={"Referer": login_url})  # noqa: S310
    with opener.open(request, timeout=5):
        pass
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"could not log in as {username!r} at {login_url}")
    return cookies
