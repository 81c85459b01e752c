"""The SMTP (or LMTP) listener of ``manage.py serve --roles mail``: mail delivered over the network, by
Postfix in front or by senders directly, into ``receive_email`` (channels_adapters/email/inbound.py).

It runs on the event loop of whatever else the process serves (daphne's, or the worker's), and does
every database call on the database threads (contact_center/database_threads.py), so a slow disk or a
locked database delays mail, never the sockets.

What a sender hears, and why (docs/email.md, "The SMTP listener"):

- RCPT for an address no email inbox has: 550 5.1.1. Refused while the sender is still connected, so
  the bounce comes from the sender's own server and Parley never has to send one (backscatter).
- More than ``PARLEY_MAIL_MAX_BYTES``: 552 (announced as SIZE in EHLO, so most senders never try).
- More than ``PARLEY_MAIL_MAX_CONNECTIONS_PER_IP`` connections at once from one address: 421, closed.
  More than ``PARLEY_MAIL_RATE_PER_IP`` messages: 451 at MAIL, so a well-behaved sender queues and
  retries later.
- After DATA: 250 once the mail is kept, stored on a timeline or quarantined alike (a quarantined
  mail is kept with its reason; sending it again would not help); 451 4.3.0 when the database failed,
  so the sender retries. A retry of a mail stored for one recipient is not stored twice: the same
  bytes for the same address are one entry (``receive_email``).
- LMTP answers after DATA once per recipient, as RFC 2033 asks, so Postfix retries only those that
  failed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from dataclasses import dataclass, field

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError

from channels_adapters.email.inbound import inbox_for, receive_email
from contact_center.database_threads import db_call
from contact_center.lib.ratelimit import hit
from contact_center.models import RawInbound

logger = logging.getLogger(__name__)
_aiosmtpd_log = logging.getLogger("mail.log")

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 2525


class ListenerError(Exception):
    """The listener cannot start: its port or its TLS files. The message says which and why."""


@dataclass
class ConnectionLimits:
    """Connections open per client address, in this process (the listener's only one)."""

    per_ip: int
    open: dict[str, int] = field(default_factory=dict)

    def admit(self, ip: str) -> bool:
        if self.open.get(ip, 0) >= self.per_ip:
            return False
        self.open[ip] = self.open.get(ip, 0) + 1
        return True

    def release(self, ip: str) -> None:
        left = self.open.get(ip, 0) - 1
        if left > 0:
            self.open[ip] = left
        else:
            self.open.pop(ip, None)


class _Limited:
    """Refuses a connection over its address's limit with 421 before the greeting. Mixed into aiosmtpd's
    SMTP and LMTP, which have no hook for a new connection."""

    # RFC 5321 caps a line at 1,000 bytes, and aiosmtpd answers 500 to anything longer, so the sender
    # bounces the mail. Some senders (one-line HTML, bare LF endings) break the cap: kept instead, as
    # Postfix does; the whole message stays within PARLEY_MAIL_MAX_BYTES either way.
    line_length_limit = 1 << 16
    limits: ConnectionLimits
    _admitted = False
    _client_ip = ""

    def connection_made(self, transport):
        # Called again after STARTTLS with the encrypted transport: the same connection, counted once.
        if self._original_transport is None:
            peer = transport.get_extra_info("peername")
            self._client_ip = _ip(peer)
            self._admitted = self.limits.admit(self._client_ip)
        super().connection_made(transport)

    async def _handle_client(self):
        if not self._admitted:
            logger.info("mail connection from %s refused: over %s at once", self._client_ip, self.limits.per_ip)
            await self.push("421 4.7.0 Too many connections from your address, try again later")
            self.transport.close()
            return
        await super()._handle_client()

    def connection_lost(self, error):
        if self._admitted:
            self._admitted = False
            self.limits.release(self._client_ip)
        super().connection_lost(error)


class LimitedSMTP(_Limited, SMTP):
    def __init__(self, handler, *, limits: ConnectionLimits, **kwargs):
        self.limits = limits
        super().__init__(handler, **kwargs)


class LimitedLMTP(_Limited, LMTP):
    def __init__(self, handler, *, limits: ConnectionLimits, **kwargs):
        self.limits = limits
        super().__init__(handler, **kwargs)


class MailHandler:
    """aiosmtpd's hooks: who may send (rate), to whom (an email inbox's address), and what becomes of it."""

    def __init__(self, *, messages_per_ip: tuple[int, int] | None, lmtp: bool = False):
        self.messages_per_ip = messages_per_ip
        self.lmtp = lmtp

    async def handle_MAIL(self, server, session: Session, envelope: Envelope, address: str, mail_options):
        # Counted per message begun, in the cache as every rate limit is (contact_center/lib/ratelimit.py);
        # off the loop, since that cache may be Redis.
        wait = await sync_to_async(hit, thread_sensitive=False)("mail_per_ip", _ip(session.peer), self.messages_per_ip)
        if wait is not None:
            return f"451 4.7.1 Too many messages from your address, try again in {wait} seconds"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session: Session, envelope: Envelope, address: str, rcpt_options):
        try:
            found = await db_call(inbox_for, address)
        except DatabaseError as exc:
            logger.warning("mail for %s deferred at RCPT, the database failed: %s", address, exc)
            return "451 4.3.0 Temporary failure, try again later"
        if found is None:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session: Session, envelope: Envelope):
        # Once per address, however often the sender named it (each naming still gets its reply in LMTP).
        delivered: dict[str, str] = {}
        for rcpt in envelope.rcpt_tos:
            if rcpt.lower() not in delivered:
                delivered[rcpt.lower()] = await self._deliver(envelope.content, rcpt, session)
        replies = [delivered[rcpt.lower()] for rcpt in envelope.rcpt_tos]
        if self.lmtp:
            # One reply line per accepted recipient, in their order (RFC 2033, 4.2).
            return "\r\n".join(replies)
        # SMTP has one answer for the message: a retry when any recipient failed (those stored already
        # are not stored twice).
        return next((reply for reply in replies if not reply.startswith("250")), replies[0])

    async def _deliver(self, raw: bytes, recipient: str, session: Session) -> str:
        client = _ip(session.peer)
        try:
            row = await db_call(receive_email, raw, recipient, via="lmtp" if self.lmtp else "smtp")
        except DatabaseError as exc:
            logger.warning(
                "mail for %s (%d bytes) from %s deferred, the database failed: %s", recipient, len(raw), client, exc
            )
            return "451 4.3.0 Temporary failure, try again later"
        except Exception:
            # A bug must not lose the mail either: the sender keeps it and retries.
            logger.exception("mail for %s (%d bytes) from %s deferred by an error", recipient, len(raw), client)
            return "451 4.3.0 Temporary failure, try again later"
        if row.state == RawInbound.State.QUARANTINED:
            logger.info(
                "mail for %s (%d bytes) from %s quarantined as raw #%s: %s",
                recipient,
                len(raw),
                client,
                row.pk,
                row.error,
            )
            return f"250 2.0.0 Kept as #{row.pk}"
        logger.info(
            "mail for %s (%d bytes) from %s stored as raw #%s, %s",
            recipient,
            len(raw),
            client,
            row.pk,
            # A bounce of our own mail is stored without an entry: it marked that reply failed.
            f"entry #{row.entry_id}" if row.entry_id else "a bounce of our mail",
        )
        return f"250 2.0.0 Stored as #{row.pk}"


class MailListener:
    """The listener, set up in two steps so that whatever can fail does so before anything serves:
    the constructor reads the settings, loads the TLS files and binds the port (``ListenerError``);
    ``start()`` then serves on the running event loop."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, lmtp: bool = False):
        config = settings.PARLEY_MAIL_LISTENER
        if _aiosmtpd_log.level == logging.NOTSET:
            # aiosmtpd logs every command of every session at INFO; one line per message (ours) is what
            # an operator reads. LOG_LEVEL=DEBUG, or a level set for "mail.log", shows them again.
            _aiosmtpd_log.setLevel(logging.WARNING if logger.getEffectiveLevel() > logging.DEBUG else logging.DEBUG)
        self.lmtp = lmtp
        self.max_bytes = config["max_bytes"]
        self.limits = ConnectionLimits(config["max_connections_per_ip"])
        self.handler = MailHandler(messages_per_ip=config["messages_per_ip"], lmtp=lmtp)
        self.tls = _tls_context(config["tls_cert"], config["tls_key"])
        self.socket = _bind(host, port)
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"{'lmtp' if self.lmtp else 'smtp'}://{f'[{host}]' if ':' in host else host}:{port}"

    async def start(self) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        protocol = LimitedLMTP if self.lmtp else LimitedSMTP
        # The host name is the greeting's; socket.getfqdn(), aiosmtpd's default, can wait on DNS.
        hostname = socket.gethostname()

        def connection():
            return protocol(
                self.handler,
                limits=self.limits,
                data_size_limit=self.max_bytes,
                enable_SMTPUTF8=True,
                tls_context=self.tls,
                hostname=hostname,
                ident="Parley",
                loop=loop,
            )

        self.server = await loop.create_server(connection, sock=self.socket)
        return self.server

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        else:
            self.socket.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        sock = socket.create_server((host.strip("[]"), port), family=family, backlog=128)
    except OSError as exc:
        raise ListenerError(f"the mail listener cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.setblocking(False)
    return sock


def _tls_context(cert: str, key: str) -> ssl.SSLContext | None:
    """STARTTLS only with a certificate: offered without one, every sender would fail the handshake."""
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ListenerError(
            f"PARLEY_MAIL_TLS_CERT/PARLEY_MAIL_TLS_KEY ({cert}, {key}) cannot be loaded: {exc}"
        ) from exc
    return context


def _ip(peer) -> str:
    return peer[0] if isinstance(peer, tuple) and peer else str(peer or "")
