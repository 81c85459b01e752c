"""contact_center/wsgi_bridge.py: a WSGI application served over ASGI, one thread hand-off each way.

Driven here with plain WSGI applications through asgiref's communicator; every integration and browser
test serves the real Django application through it (manage.py serve).
"""

from __future__ import annotations

import threading

import pytest
from asgiref.testing import ApplicationCommunicator

from contact_center.wsgi_bridge import INLINE_BODY, STREAM_PIECE, WSGIBridge, environ_of

SCOPE = {
    "type": "http",
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/console/caf\u00e9/",
    "root_path": "",
    "query_string": b"q=1&r=%C3%A9",
    "headers": [
        (b"host", b"parley.example"),
        (b"cookie", b"a=1"),
        (b"cookie", b"b=2"),
        (b"x-forwarded-for", b"1.2.3.4"),
    ],
    "client": ("127.0.0.1", 50123),
    "server": ("127.0.0.1", 8000),
}


async def call(app, scope=SCOPE, body_messages=None):
    """Run one request; returns (start message, body bytes, number of body messages)."""
    communicator = ApplicationCommunicator(WSGIBridge(app, threads=2, spool_max_size=1024), scope)
    for message in body_messages or [{"type": "http.request", "body": b""}]:
        await communicator.send_input(message)
    start = await communicator.receive_output(5)
    body, pieces = b"", 0
    while True:
        message = await communicator.receive_output(5)
        body += message.get("body", b"")
        pieces += 1
        if not message.get("more_body"):
            break
    await communicator.wait(5)
    return start, body, pieces


async def run_to_the_end(app) -> None:
    communicator = ApplicationCommunicator(WSGIBridge(app, threads=1, spool_max_size=1024), SCOPE)
    await communicator.send_input({"type": "http.request", "body": b""})
    await communicator.wait(5)


def answering(body_of, status="200 OK", headers=(("Content-Type", "text/plain"),)):
    def app(environ, start_response):
        start_response(status, list(headers))
        return body_of(environ)

    return app


async def test_a_short_response_arrives_whole_in_one_body_message():
    start, body, pieces = await call(answering(lambda environ: [b"hello, ", b"world"], "201 Created"))

    assert start == {"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"text/plain")]}
    assert (body, pieces) == (b"hello, world", 1)


async def test_a_long_response_streams_in_pieces_and_loses_nothing():
    chunks = [bytes([n % 251]) * 10_000 for n in range(60)]  # 600 KB, over INLINE_BODY

    start, body, pieces = await call(answering(lambda environ: iter(chunks)))

    assert start["status"] == 200
    assert body == b"".join(chunks)
    assert len(body) > INLINE_BODY
    assert pieces == len(body) // STREAM_PIECE + 1


async def test_the_response_is_closed_on_the_thread_that_ran_it():
    # Closing fires Django's request_finished, which returns that thread's database connection.
    threads = {}

    class Body:
        def __iter__(self):
            threads["ran"] = threading.get_ident()
            yield b"x" * (INLINE_BODY + 1)  # streamed from the thread, too

        def close(self):
            threads["closed"] = threading.get_ident()

    await call(answering(lambda environ: Body()))

    assert threads["ran"] == threads["closed"] != threading.get_ident()


async def test_the_environ_says_what_the_request_said():
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    await call(app)

    assert seen["REQUEST_METHOD"] == "GET"
    assert seen["PATH_INFO"] == "/console/caf\u00e9/".encode().decode("latin-1")  # PEP 3333 bytes-as-unicode
    assert seen["QUERY_STRING"] == "q=1&r=%C3%A9"
    assert seen["HTTP_HOST"] == "parley.example"
    assert seen["HTTP_COOKIE"] == "a=1; b=2"
    assert seen["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"
    assert (seen["REMOTE_ADDR"], seen["REMOTE_PORT"]) == ("127.0.0.1", "50123")
    assert (seen["SERVER_NAME"], seen["SERVER_PORT"], seen["SERVER_PROTOCOL"]) == ("127.0.0.1", "8000", "HTTP/1.1")
    assert seen["wsgi.url_scheme"] == "http"


def test_a_mounted_application_sees_its_path_below_the_mount():
    environ = environ_of({**SCOPE, "root_path": "/parley", "path": "/parley/console/"}, None)

    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/parley", "/console/")


async def test_a_request_body_in_many_messages_reaches_the_application_whole():
    # Larger than the spool's memory (1 KB here), so it goes through a temporary file.
    parts = [b"%05d," % n for n in range(1000)]
    echo = answering(lambda environ: [environ["wsgi.input"].read()])
    scope = {**SCOPE, "method": "POST", "headers": [(b"content-type", b"text/plain"), (b"content-length", b"6000")]}
    messages = [{"type": "http.request", "body": part, "more_body": True} for part in parts]

    _, body, _ = await call(echo, scope, [*messages, {"type": "http.request", "body": b""}])

    assert body == b"".join(parts)


async def test_a_client_gone_before_its_body_ended_is_never_run():
    ran = []
    communicator = ApplicationCommunicator(
        WSGIBridge(answering(lambda environ: ran.append(1) or [b""]), threads=1, spool_max_size=1024), SCOPE
    )
    await communicator.send_input({"type": "http.request", "body": b"part", "more_body": True})
    await communicator.send_input({"type": "http.disconnect"})

    await communicator.wait(5)

    assert ran == []
    assert await communicator.receive_nothing()


async def test_an_application_that_fails_fails_the_request():
    def broken(environ, start_response):
        raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        await run_to_the_end(broken)


async def test_an_application_that_never_starts_a_response_is_an_error():
    with pytest.raises(RuntimeError, match="start_response"):
        await run_to_the_end(lambda environ, start_response: [b"body"])
