"""Run Parley: every role in one process by default, or chosen roles for production.

manage.py serve                       # web + websockets + outbox worker (the embedded default)
manage.py serve --roles web --port 8001
manage.py serve --roles worker
"""

from __future__ import annotations

import asyncio
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

logger = logging.getLogger("parley.serve")

ROLES = {"web", "worker"}


class Command(BaseCommand):
    help = "Serve Parley (web and websockets through daphne, and the outbox worker)."

    def add_arguments(self, parser):
        parser.add_argument("--roles", default="web,worker", help="comma-separated: web, worker (default: both)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--demo-banner", action="store_true", help="print the demo URLs and login once ready")

    def handle(self, *args, roles, host, port, demo_banner, **options):
        chosen = {r.strip() for r in roles.split(",") if r.strip()}
        if not chosen or chosen - ROLES:
            raise CommandError(f"--roles takes a comma-separated subset of {sorted(ROLES)}, not {roles!r}")
        self._checkpoint_sqlite_in_the_background()
        if "web" in chosen:
            if demo_banner:
                from contact_center.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

                # The banner goes to a terminal the visitor of the sign-in page may never see.
                settings.PARLEY_DEMO_LOGIN = (DEMO_USERNAME, DEMO_PASSWORD)
            self._serve_web(host, port, with_worker="worker" in chosen, demo_banner=demo_banner)
        else:
            self._serve_worker_only()

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
        roles = "web + worker" if with_worker else "web"
        self.stdout.write(f"Parley is serving ({roles}) on {base}", ending="\n")
        if demo_banner:
            from contact_center.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

            self.stdout.write(
                "\n"
                f"  Demo site with the chat widget:  {base}/\n"
                f"  Agent console:                   {base}/console/\n"
                f"  Demo login:                      {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
                "\n  Press Ctrl+C to stop.\n"
            )
        self.stdout.flush()

    def _serve_worker_only(self):
        from contact_center.worker import OutboxWorker

        async def main():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            self.stdout.write("Parley outbox worker running; Ctrl+C to stop.")
            self.stdout.flush()
            await OutboxWorker().run_forever(stop)

        asyncio.run(main())
