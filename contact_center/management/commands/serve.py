"""Run Parley: every role in one process by default, or chosen roles for production.

manage.py serve                       # web + websockets + outbox worker (the embedded default)
manage.py serve --roles web --port 8001
manage.py serve --roles worker
manage.py serve --roles mail --mail-host 0.0.0.0 --mail-port 25   # the SMTP listener (docs/email.md)
"""

from __future__ import annotations

import asyncio
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

logger = logging.getLogger("parley.serve")

ROLES = {"web", "worker", "mail"}


class Command(BaseCommand):
    help = "Serve Parley (web and websockets through daphne, the outbox worker, the mail listener)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--roles", default="web,worker", help="comma-separated: web, worker, mail (default: web,worker)"
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--mail-host", default="127.0.0.1", help="where the mail role listens")
        parser.add_argument("--mail-port", type=int, default=2525)
        parser.add_argument("--lmtp", action="store_true", help="the mail role speaks LMTP instead of SMTP")
        parser.add_argument("--demo-banner", action="store_true", help="print the demo URLs and login once ready")

    def handle(
        self, *args, roles, host, port, demo_banner, mail_host="127.0.0.1", mail_port=2525, lmtp=False, **options
    ):
        chosen = {r.strip() for r in roles.split(",") if r.strip()}
        if not chosen or chosen - ROLES:
            raise CommandError(f"--roles takes a comma-separated subset of {sorted(ROLES)}, not {roles!r}")
        self._checkpoint_sqlite_in_the_background()
        # Bound here, before anything serves, so a port in use or a bad certificate stops the process
        # with its reason; it then serves on the event loop of the other roles.
        self._mail = self._mail_listener(mail_host, mail_port, lmtp) if "mail" in chosen else None
        self._mail_to = self._demo_mail_address() if self._mail and demo_banner else None
        if "web" in chosen:
            if demo_banner:
                from contact_center.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

                # The banner goes to a terminal the visitor of the sign-in page may never see.
                settings.PARLEY_DEMO_LOGIN = (DEMO_USERNAME, DEMO_PASSWORD)
            self._serve_web(host, port, with_worker="worker" in chosen, demo_banner=demo_banner)
        else:
            self._serve_without_web(with_worker="worker" in chosen)

    def _mail_listener(self, host: str, port: int, lmtp: bool):
        from channels_adapters.email.listener import ListenerError, MailListener

        try:
            return MailListener(host, port, lmtp=lmtp)
        except ListenerError as exc:
            raise CommandError(str(exc)) from exc

    def _demo_mail_address(self) -> str | None:
        """The demo's email inbox, for the banner (read now: the ORM is not for the event loop)."""
        from contact_center.models import Inbox

        return Inbox.objects.filter(kind=Inbox.Kind.EMAIL).order_by("pk").values_list("address", flat=True).first()

    def _serve_web(self, host: str, port: int, *, with_worker: bool, demo_banner: bool):
        # daphne.server installs Twisted's asyncio reactor on import: import it before anything else
        # touches Twisted.
        from daphne.server import Server
        from twisted.internet import reactor

        from contact_center.asgi import application
        from contact_center.lib import env
        from contact_center.lib.sockets import MAX_MESSAGE_BYTES
        from contact_center.worker import OutboxWorker

        # Read before serving, so a value that does not parse stops the process here.
        gc_tuning = env.get_bool("PARLEY_GC_TUNING", default=True)
        gc_stats_file = env.get_str("PARLEY_GC_STATS_FILE")

        def ready():
            self._tune_gc(gc_tuning, gc_stats_file)
            if with_worker:
                reactor.callLater(0, lambda: asyncio.ensure_future(OutboxWorker().run_forever()))
            if self._mail:
                reactor.callLater(0, lambda: asyncio.ensure_future(self._mail.start()))
            reactor.callLater(0.5, lambda: self._announce(host, port, with_worker, demo_banner))

        interface = host.strip("[]")
        # backlog: Twisted's default queue of 50 pending connections made a reconnect storm (every
        # widget after a restart) retry its SYNs for a second each (docs/benchmarks.md, widget soak).
        endpoint = f"tcp:port={port}:interface={interface.replace(':', chr(92) + ':')}:backlog=1024"
        trust_proxy = settings.PARLEY_TRUST_X_FORWARDED_FOR
        Server(
            application=application,
            endpoints=[endpoint],
            signal_handlers=True,
            ready_callable=ready,
            application_close_timeout=10,
            websocket_timeout=-1,  # visitor sockets stay open as long as the page does
            # Handshakes queue behind the database thread during a reconnect storm; 5 s dropped them.
            websocket_handshake_timeout=20,
            # Every frame over MAX_FRAME_CHARS up to this size gets bad_frame from the consumer (the
            # socket stays open); a larger one is dropped unread (contact_center/lib/sockets.py).
            websocket_max_message_size=MAX_MESSAGE_BYTES,
            websocket_max_frame_size=MAX_MESSAGE_BYTES,
            # Only behind a proxy that sets these headers: a client reaching daphne directly could
            # otherwise pick its own address and slip past the per-IP limits.
            proxy_forwarded_address_header="X-Forwarded-For" if trust_proxy else None,
            proxy_forwarded_port_header="X-Forwarded-Port" if trust_proxy else None,
            proxy_forwarded_proto_header="X-Forwarded-Proto" if trust_proxy else None,
            verbosity=0,
        ).run()

    def _checkpoint_sqlite_in_the_background(self):
        """On SQLite, checkpoints run on a thread of their own, never inside a write
        (contact_center/sqlite_checkpoints.py)."""
        from django.db import connection

        from contact_center.sqlite_checkpoints import BackgroundCheckpoints

        if connection.vendor == "sqlite":
            # Opened before (system checks) with automatic checkpoints: reopened without them when next used.
            connection.close()
            BackgroundCheckpoints(connection.settings_dict["NAME"]).start()

    def _tune_gc(self, tuning: bool, stats_file: str | None):
        """Everything loaded by now lives as long as the process: frozen out of every later collection,
        and the thresholds raised so that full collections stay rare (contact_center/lib/gc_pauses.py).
        ``PARLEY_GC_TUNING=off`` keeps CPython's defaults; ``PARLEY_GC_STATS_FILE`` names a file where the
        collector's pauses are written every second (docs/configuration.md)."""
        from twisted.internet import task

        from contact_center.lib.gc_pauses import GcPauses, tune_for_serving

        if tuning:
            tune_for_serving()
        if stats_file:
            pauses = GcPauses().install()
            self._gc_stats = task.LoopingCall(pauses.write, stats_file)
            self._gc_stats.start(1.0)

    def _announce(self, host: str, port: int, with_worker: bool, demo_banner: bool):
        base = f"http://{host}:{port}"
        roles = " + ".join(["web"] + (["worker"] if with_worker else []) + (["mail"] if self._mail else []))
        self.stdout.write(f"Parley is serving ({roles}) on {base}", ending="\n")
        if self._mail and not demo_banner:
            self.stdout.write(f"Mail listener on {self._mail.url}", ending="\n")
        if demo_banner:
            from contact_center.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

            self.stdout.write(
                "\n"
                f"  Demo site with the chat widget:  {base}/\n"
                f"  Agent console:                   {base}/console/\n"
                f"  Demo login:                      {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
                + (f"  {self._mail_banner()}\n" if self._mail else "")
                + "\n  Press Ctrl+C to stop.\n"
            )
        self.stdout.flush()

    def _mail_banner(self) -> str:
        where = f"send to {self._mail_to}" if self._mail_to else "no email inbox yet: add one in Settings"
        return f"Mail:                            {self._mail.url} ({where})"

    def _serve_without_web(self, *, with_worker: bool):
        from contact_center.worker import OutboxWorker

        async def main():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            if self._mail:
                await self._mail.start()
                self.stdout.write(f"Parley mail listener on {self._mail.url}; Ctrl+C to stop.")
            if with_worker:
                self.stdout.write("Parley outbox worker running; Ctrl+C to stop.")
            self.stdout.flush()
            if with_worker:
                await OutboxWorker().run_forever(stop)
            else:
                await stop.wait()
            if self._mail:
                self._mail.close()

        asyncio.run(main())
