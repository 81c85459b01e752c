"""SQLite checkpoints on a thread of their own (contact_center/sqlite_checkpoints.py): the writers of `serve`
never run one inside a commit, and the log is still copied back and kept bounded."""

from __future__ import annotations

import os
import sqlite3
import time
from types import SimpleNamespace

from django.db.backends.signals import connection_created

from contact_center.sqlite_checkpoints import BackgroundCheckpoints, without_automatic_checkpoints

PAGE = 4096


def writer(path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # as serve's connections are
    db.execute("CREATE TABLE IF NOT EXISTS entry (id INTEGER PRIMARY KEY, body TEXT)")
    return db


def write_pages(db: sqlite3.Connection, pages: int) -> None:
    for _ in range(pages):
        db.execute("INSERT INTO entry (body) VALUES (?)", ("x" * PAGE,))


def until(condition, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_the_log_is_copied_into_the_database_by_the_background_thread(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    db = writer(path)
    write_pages(db, 500)
    # Nothing copies the log back while no checkpoint runs: the database file holds next to nothing.
    assert os.path.getsize(path) < 100 * PAGE

    checkpoints = BackgroundCheckpoints(path, interval=0.05).start()
    try:
        assert until(lambda: os.path.getsize(path) > 400 * PAGE)
    finally:
        checkpoints.stop()
        db.close()


def test_the_log_starts_over_under_a_steady_stream_of_writes(tmp_path):
    """A passive checkpoint alone never catches up with a writer that never pauses, and the log only grows."""
    path = str(tmp_path / "db.sqlite3")
    db = writer(path)
    checkpoints = BackgroundCheckpoints(path, interval=0.02, restart_frames=200).start()
    try:
        for _ in range(40):
            write_pages(db, 50)
            time.sleep(0.005)
    finally:
        checkpoints.stop()
    assert checkpoints.restarts > 0
    # 2,000 pages written; the log holds a fraction of them.
    assert os.path.getsize(path + "-wal") < 1000 * PAGE
    db.close()


def test_sqlite_connections_opened_while_it_runs_leave_checkpoints_to_it(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    checkpoints = BackgroundCheckpoints(path, interval=60).start()
    try:
        raw = sqlite3.connect(path)
        connection_created.send(sender=None, connection=SimpleNamespace(vendor="sqlite", connection=raw))
        assert raw.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    finally:
        checkpoints.stop()

    later = sqlite3.connect(path)
    connection_created.send(sender=None, connection=SimpleNamespace(vendor="sqlite", connection=later))
    assert later.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)


def test_other_databases_are_left_alone():
    untouched = SimpleNamespace(vendor="postgresql", connection=None)
    without_automatic_checkpoints(sender=None, connection=untouched)  # would fail on None if it tried
