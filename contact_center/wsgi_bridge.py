"""Django's WSGI handler served from daphne: an ASGI application that runs a WSGI one on a fixed pool
of threads, handing each request over once and back once.

Every Parley view is synchronous. Django's own ASGI handler runs each on a new thread and crosses
between the event loop and that thread for every middleware hook and signal; general WSGI-to-ASGI
adapters (a2wsgi, which this replaced) cross back for the response's start, for each body chunk and
for its end, and the request body is pulled across chunk by chunk. Here the request body is read on
the event loop first (kept in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE, then in a temporary file, as
Django's ASGI handler does), the thread runs the whole request, and a response of up to INLINE_BODY
bytes, which is nearly every response, comes back to the loop whole: one hop each way
(docs/decisions.md D14). A longer or streaming response (a file download, an export) is sent from
the thread as it is produced, in pieces of up to STREAM_PIECE bytes, waiting for each send, so a slow
client holds back the producer instead of filling memory.

The response is closed on the thread that ran it: closing is what fires Django's request_finished
signal, which hands that thread's database connection back.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

INLINE_BODY = 256 * 1024
STREAM_PIECE = 64 * 1024

Message = dict[str, Any]


class WSGIBridge:
    """The ASGI application for HTTP (lifespan and WebSockets go elsewhere: asgi.py routes them)."""

    def __init__(self, app: Callable, *, threads: int, spool_max_size: int):
        self.app = app
        self.spool_max_size = spool_max_size
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            raise ValueError(f"WSGIBridge serves HTTP, not {scope['type']}")
        body = await self._read_body(receive)
        if body is None:
            return  # the client went away before it finished asking
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(
                self.executor, contextvars.copy_context().run, self._respond, environ_of(scope, body), loop, send
            )
        finally:
            body.close()
        if response is not None:
            start, content = response
            await send(start)
            await send({"type": "http.response.body", "body": content})

    async def _read_body(self, receive: Callable):
        body = tempfile.SpooledTemporaryFile(max_size=self.spool_max_size, mode="w+b")  # noqa: SIM115 (closed by __call__)
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body.close()
                return None
            if message.get("body"):
                body.write(message["body"])
            if not message.get("more_body"):
                body.seek(0)
                return body

    def _respond(self, environ: dict, loop: asyncio.AbstractEventLoop, send: Callable) -> tuple[Message, bytes] | None:
        """On a pool thread: run the request. Returns (start message, whole body) for the loop to send,
        or None when the response was longer than INLINE_BODY and this thread has sent it already."""
        start: Message | None = None
        sent_start = False

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            nonlocal start
            if exc_info is not None and sent_start:
                raise exc_info[1].with_traceback(exc_info[2])  # PEP 3333: too late to change the status
            start = {
                "type": "http.response.start",
                "status": int(status.split(" ", 1)[0]),
                "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
            }
            return _no_write

        def send_now(message: Message) -> None:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        result: Iterable[bytes] = self.app(environ, start_response)
        try:
            pending = bytearray()
            for chunk in result:
                pending += chunk
                if not sent_start and len(pending) <= INLINE_BODY:
                    continue
                if not sent_start:
                    send_now(_checked(start))
                    sent_start = True
                while len(pending) >= STREAM_PIECE:
                    send_now({"type": "http.response.body", "body": bytes(pending[:STREAM_PIECE]), "more_body": True})
                    del pending[:STREAM_PIECE]
            if not sent_start:
                return _checked(start), bytes(pending)
            send_now({"type": "http.response.body", "body": bytes(pending)})
            return None
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


def _checked(start: Message | None) -> Message:
    if start is None:
        raise RuntimeError("the WSGI application returned without calling start_response")
    return start


def _no_write(data: bytes) -> None:
    # PEP 3333's write() callable is for applications older than iterables; Django never calls it.
    raise NotImplementedError("write() is not supported: return the body as an iterable")


def environ_of(scope: dict, body) -> dict[str, Any]:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333's strings are latin-1 "bytes as unicode")."""
    script_name = scope.get("root_path", "")
    path = scope["path"]
    if script_name and path.startswith(script_name):
        path = path[len(script_name) :]
    server_name, server_port = scope.get("server") or ("localhost", 80)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port or 0),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if scope.get("client"):
        environ["REMOTE_ADDR"], port = scope["client"][:2]
        environ["REMOTE_PORT"] = str(port)
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        value = raw_value.decode("latin-1")
        # Repeated headers join with commas (RFC 9110 5.3), cookies with "; " (RFC 6265 5.4).
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value
    return environ
