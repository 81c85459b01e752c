"""SQLite's checkpoints on a thread of their own, off the path of every write (the embedded default).

In WAL mode SQLite copies the log back into the database file (a checkpoint) once a commit takes the log
past 1,000 pages, and it does so inside that commit, with a sync to disk: one commit in a few hundred
takes 10-30 ms instead of 0.2 (bench/sqlite_checkpoints.py). On the embedded default every socket's
write runs on one database thread, so that commit holds up every message queued behind it, which is
what the chat path's 99.9th percentile was made of (docs/benchmarks.md).

``serve`` therefore turns automatic checkpoints off for the connections it opens and runs a PASSIVE
checkpoint every ``interval`` seconds from a thread of its own. A passive checkpoint takes no lock that
a writer waits for (writers go on appending to the log meanwhile), and the log starts over from its
beginning once a checkpoint has caught up with it. Other processes (``manage.py`` commands) keep
SQLite's automatic checkpoints, and the last connection to close checkpoints what is left.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

INTERVAL = 1.0
# Log pages (4 KiB each) past which the log is made to start over (below).
RESTART_FRAMES = 4000


class BackgroundCheckpoints:
    """Checkpoints the SQLite database at ``path`` every ``interval`` seconds until ``stop()``."""

    def __init__(self, path: str, interval: float = INTERVAL, restart_frames: int = RESTART_FRAMES):
        self.path = path
        self.interval = interval
        self.restart_frames = restart_frames
        self.restarts = 0
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0

    def start(self) -> BackgroundCheckpoints:
        connection_created.connect(without_automatic_checkpoints)
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoints", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        connection_created.disconnect(without_automatic_checkpoints)
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        database = sqlite3.connect(self.path, timeout=20, check_same_thread=False)
        try:
            while not self._stopped.wait(self.interval):
                try:
                    _, log, _ = database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if log > self.restart_frames:
                        # Under a steady stream of writes a passive checkpoint never quite catches up, and
                        # the log starts over only once one has: without this it grows without bound. The
                        # passive one has just copied nearly everything, so the writers wait only for the
                        # last few frames and a sync.
                        database.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
                        self.restarts += 1
                    self.checkpoints += 1
                except sqlite3.Error:
                    # The next round tries again; meanwhile the log only grows.
                    logger.exception("SQLite checkpoint of %s failed", self.path)
        finally:
            database.close()


def without_automatic_checkpoints(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: a new SQLite connection of this process leaves checkpoints to the
    background thread."""
    if connection.vendor == "sqlite":
        connection.connection.execute("PRAGMA wal_autocheckpoint=0")
