"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives: the mail double of the suite.

``SmtpSink`` runs aiosmtpd's ``Controller`` (its own thread and event loop) on a free port. Tests read
``sink.messages`` (parsed ``EmailMessage`` objects, in arrival order) and script failures with
``sink.refuse_data`` (SMTP replies given to the next DATA commands, after the mail was recorded: a lost
acknowledgement) and ``sink.refuse_recipients`` (addresses answered 550 at RCPT).
"""

from __future__ import annotations

import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.live import free_port


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.sink.refuse_recipients:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.sink.lock:
            self.sink.messages.append(message)
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            if self.sink.refuse_data:
                return self.sink.refuse_data.pop(0)
        return "250 OK"


class SmtpSink:
    def __init__(self):
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_data: list[str] = []
        self.refuse_recipients: set[str] = set()
        self.lock = threading.Lock()
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The first ``count`` messages, waiting for them up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} emails, got {len(self.messages)}")
            time.sleep(0.05)
        return self.messages[:count]

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()
