"""A stand-in for Twilio's Messages API on loopback: the SMS double of the suite, for the real SDK.

``TwilioStandIn`` serves HTTP on 127.0.0.1 (``http.server`` on a thread) and answers
``POST /2010-04-01/Accounts/<sid>/Messages.json`` as Twilio does: 201 with the new message (a fresh
``SM…`` sid, status ``queued``, to, from, body), 401 (error 20003) to other credentials, 404 elsewhere.
Point the transport at ``standin.url`` with ``TWILIO_API_URL`` (``settings.PARLEY_TWILIO["api_url"]``).

Tests read ``standin.requests`` (what arrived, in order: path, form fields, basic-auth credentials)
and ``standin.created`` (the messages it answered 201 for, sid included). They script what comes
next with ``standin.answers`` (``(status, json)`` given to the next requests, e.g.
``(400, {"code": 21211, "message": "...", "status": 400})``) and ``standin.stall_seconds`` (answer
that late, to make a client time out).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.support.live import free_port


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    form: dict[str, str]
    auth: tuple[str, str] | None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self):
        standin = self.server.standin
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
        request = ReceivedRequest("POST", self.path, form, _basic_auth(self.headers.get("Authorization")))
        with standin.lock:
            standin.requests.append(request)
            scripted = standin.answers.pop(0) if standin.answers else None
        status, payload = scripted or standin.message_created(request)
        if status == 201:
            with standin.lock:
                standin.created.append(payload)
        if standin.stall_seconds:
            standin.released.wait(standin.stall_seconds)
        self._answer(status, payload)

    def _answer(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # quiet: pytest shows stderr of failing tests
        pass


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: TwilioStandIn


class TwilioStandIn:
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.port = free_port()
        self.requests: list[ReceivedRequest] = []
        self.answers: list[tuple[int, dict]] = []
        # The messages it answered 201 for, as it answered them.
        self.created: list[dict] = []
        self.stall_seconds = 0.0
        self.lock = threading.Lock()
        self.released = threading.Event()
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.standin = self
        # A short poll interval: shutdown() waits up to one, at the end of every test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="twilio-standin", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def messages_path(self) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def message_created(self, request: ReceivedRequest) -> tuple[int, dict]:
        """Twilio's answer to ``request``: the message it queued, or its refusal."""
        if request.auth != (self.account_sid, self.auth_token):
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        if request.path != self.messages_path:
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        return 201, {
            "sid": "SM" + secrets.token_hex(16),
            "account_sid": self.account_sid,
            "status": "queued",
            "to": request.form.get("To"),
            "from": request.form.get("From"),
            "body": request.form.get("Body"),
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "api_version": "2010-04-01",
        }

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """The first ``count`` requests, waiting for them up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} requests to Twilio, got {len(self.requests)}")
            time.sleep(0.05)
        return self.requests[:count]

    def __enter__(self) -> TwilioStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.released.set()  # a stalled answer goes out now instead of holding the shutdown
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
