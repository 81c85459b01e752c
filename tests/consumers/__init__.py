"""Helpers shared by the socket specs: open real sockets through the project's ASGI application.

Every socket goes through ``contact_center.asgi.application``, so the routing, the session and
origin middleware and the consumers are the ones production runs.

Every socket opened here is remembered, and ``close_sockets_left_open`` (autouse for the socket specs)
disconnects whichever a test left open, while the test's event loop still runs. Otherwise the loop's
shutdown cancels each consumer and its channel-layer receive at once: a receive blocked in Redis's
BZPOPMIN could then swallow that cancellation and start another wait, so the loop never closed and the
whole run hung. Disconnecting is also what daphne does when a browser goes away.
"""

from __future__ import annotations

import contextlib

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from contact_center.asgi import application
from contact_center.worker import OutboxWorker
from widget.tokens import issue_visitor_token

# A bound on waiting for a frame, not a performance claim: the test machine is shared and slow.
WAIT = 5
SHOP_ORIGIN = "https://shop.example"
CONSOLE_ORIGIN = "http://127.0.0.1:8000"


def headers(origin: str | None = None, cookie: str | None = None) -> list[tuple[bytes, bytes]]:
    found = []
    if origin is not None:
        found.append((b"origin", origin.encode()))
    if cookie is not None:
        found.append((b"cookie", cookie.encode()))
    return found


_opened: list[WebsocketCommunicator] = []


def _communicator(path: str, socket_headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=socket_headers)
    _opened.append(communicator)
    return communicator


async def disconnect_all() -> None:
    """Disconnect every socket opened since the last call whose consumer still runs."""
    while _opened:
        communicator = _opened.pop()
        # ``future`` would start the application of a socket that never connected; ``_future`` does not.
        if communicator._future is None or communicator._future.done():
            continue
        # A consumer that crashed raises here; its test has already failed or will notice otherwise.
        with contextlib.suppress(Exception):
            await communicator.disconnect(timeout=WAIT)


def visitor_socket(token: str | None, origin: str | None = SHOP_ORIGIN) -> WebsocketCommunicator:
    path = "/ws/widget/" if token is None else f"/ws/widget/?token={token}"
    return _communicator(path, headers(origin))


async def open_visitor(inbox, visitor_id: str, origin: str = SHOP_ORIGIN) -> WebsocketCommunicator:
    """A connected visitor socket for ``visitor_id`` of ``inbox``. Connected is not accepted: a refused
    socket is accepted too, then closed with its code (``close_code``); ``hello`` tells them apart."""
    communicator = visitor_socket(issue_visitor_token(inbox.public_key, visitor_id), origin)
    connected, code = await communicator.connect(timeout=WAIT)
    assert connected, f"visitor socket refused with {code}"
    return communicator


async def hello(communicator: WebsocketCommunicator, last_seq: int = 0) -> tuple[list[dict], dict]:
    """Say hello; returns (the replayed messages, the ready frame)."""
    await communicator.send_json_to({"type": "hello", "last_seq": last_seq})
    ready, replayed = await receive_until(communicator, "ready")
    assert all(frame["type"] == "message" for frame in replayed), replayed
    return [frame["message"] for frame in replayed], ready


async def send(communicator: WebsocketCommunicator, client_id: str, body: str) -> dict:
    """Send a visitor message and return its ack (live copies that come first are dropped)."""
    await communicator.send_json_to({"type": "send", "client_id": client_id, "body": body})
    ack, _ = await receive_until(communicator, "ack")
    return ack


async def receive_until(communicator: WebsocketCommunicator, frame_type: str) -> tuple[dict, list[dict]]:
    """Receive frames until one of ``frame_type``; returns it and the frames received before it."""
    before = []
    while True:
        frame = await communicator.receive_json_from(timeout=WAIT)
        if frame["type"] == frame_type:
            return frame, before
        before.append(frame)


def _session_cookie(agent) -> str:
    client = Client()
    client.force_login(agent)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def close_code(communicator: WebsocketCommunicator) -> int:
    """The close code a browser sees for a refused socket: it must open, then close with the code.

    A close before the handshake is accepted is answered with HTTP 403 (ASGI spec): the browser then
    reports 1006 and the client cannot tell a refusal from a network failure.
    """
    connected, code = await communicator.connect(timeout=WAIT)
    assert connected, f"closed ({code}) before the handshake was accepted: a browser would only see 1006"
    message = await communicator.receive_output(timeout=WAIT)
    assert message["type"] == "websocket.close", message
    return message["code"]


async def session_cookie(agent) -> str:
    """The cookie header of a fresh login session of ``agent``, as the login page would set it."""
    return await database_sync_to_async(_session_cookie)(agent)


def console_socket(cookie: str | None, origin: str | None = CONSOLE_ORIGIN) -> WebsocketCommunicator:
    return _communicator("/ws/console/", headers(origin, cookie))


async def open_agent(agent, origin: str = CONSOLE_ORIGIN) -> WebsocketCommunicator:
    """A connected console socket of ``agent`` (logged in through a real session)."""
    communicator = console_socket(await session_cookie(agent), origin)
    connected, code = await communicator.connect(timeout=WAIT)
    assert connected, f"console socket refused with {code}"
    return communicator


async def deliver_outbox() -> int:
    """Run one pass of a real outbox worker; returns how many deliveries it attempted."""
    return await OutboxWorker(name="test-worker").run_once()
