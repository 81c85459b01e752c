"""The outbox worker loop: claim due deliveries, hand each to its transport, record the outcome.

Each pass also reopens conversations whose snooze is over and gives waiting conversations out
(actions/autoassign.py): the same "something is due" clock, and any number of workers may do it
(each change happens under the conversation's row lock).

Any number of workers may run (leases make them safe). Each sleeps on the wake channel between
polls, so a new reply leaves at once, and polls anyway so a lost wake-up or a retry falls due in time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from pathlib import Path

from channels.layers import get_channel_layer
from django.conf import settings

from contact_center.actions import outbox
from contact_center.actions.autoassign import do_assign_waiting
from contact_center.actions.conversations import do_wake_snoozed
from contact_center.database_threads import db_call
from contact_center.transports import TransportError, get_transport

logger = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class OutboxWorker:
    def __init__(self, name: str | None = None, batch: int = 20):
        self.name = name or worker_name()
        self.batch = batch

    async def run_once(self) -> int:
        """Reopen conversations whose snooze is over, give waiting conversations to available agents
        (automatic assignment), then deliver what is due now; returns how many deliveries were attempted."""
        await db_call(do_wake_snoozed)
        await db_call(do_assign_waiting)
        ids = await db_call(outbox.claim_due_deliveries, self.name, self.batch)
        if ids:
            await asyncio.gather(*(self.deliver(delivery_id) for delivery_id in ids))
        return len(ids)

    async def deliver(self, delivery_id: int) -> None:
        message = await db_call(outbox.load_outbound, delivery_id)
        try:
            transport = get_transport(message.transport or message.inbox["kind"])
            provider_id = await transport.send(message)
        except TransportError as exc:
            state = await db_call(outbox.do_mark_failed, delivery_id, self.name, str(exc), permanent=exc.permanent)
            logger.warning("delivery %s failed (%s): %s", delivery_id, state, exc)
            return
        except Exception as exc:  # a transport bug must not kill the worker; retry like a transient error
            logger.exception("delivery %s crashed in its transport", delivery_id)
            await db_call(
                outbox.do_mark_failed, delivery_id, self.name, f"{type(exc).__name__}: {exc}", permanent=False
            )
            return
        await db_call(outbox.do_mark_sent, delivery_id, self.name, provider_id)

    async def run_forever(self, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        layer = get_channel_layer()
        poll = settings.PARLEY_OUTBOX["poll_seconds"]
        heartbeat = settings.PARLEY_OUTBOX.get("heartbeat_file")
        logger.info("outbox worker %s started", self.name)
        while not stop.is_set():
            try:
                # Drain: a full batch means more may be waiting.
                while await self.run_once() >= self.batch:
                    pass
            except Exception:
                logger.exception("outbox worker %s: claiming failed; retrying after a poll interval", self.name)
            else:
                if heartbeat:
                    # Only after a pass that reached the database: a worker that cannot claim is unhealthy
                    # even though its loop still turns.
                    _touch(heartbeat)
            try:
                await asyncio.wait_for(layer.receive(outbox.WAKE_CHANNEL), timeout=poll)
            except TimeoutError:
                pass
            except Exception:
                # The channel layer is down (Redis restarting): fall back to plain polling.
                await asyncio.sleep(poll)


def _touch(path: str) -> None:
    try:
        Path(path).touch()
    except OSError:
        logger.warning("cannot write the worker heartbeat file %s", path, exc_info=True)
