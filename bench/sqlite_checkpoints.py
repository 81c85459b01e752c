"""Commit latency of the chat path's writes on SQLite, with SQLite's automatic checkpoints (the anchor) and
with Parley's background checkpoints (contact_center/sqlite_checkpoints.py), in the same invocation.

    .venv/bin/python bench/sqlite_checkpoints.py                 # 7,000 commits at 200/s, each mode twice
    .venv/bin/python bench/sqlite_checkpoints.py --commits 2000 --rounds 1

Each commit is what a message into an open conversation writes (an UPDATE of its conversation row and an
INSERT of a 600-byte entry with two indexes), paced at ``--rate`` per second on one connection, in WAL
mode with ``synchronous=NORMAL`` as settings configure it, on a fresh database file under var/. The
question is the tail: a commit that starts an automatic checkpoint copies the log into the database and
syncs it, inside the commit. Results: the latency percentiles of one commit and how many took over 10 ms.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contact_center.settings")
os.environ.setdefault("DEBUG", "1")

from contact_center.sqlite_checkpoints import BackgroundCheckpoints  # noqa: E402


def commits(mode: str, count: int, rate: float) -> dict:
    folder = tempfile.mkdtemp(dir=ROOT / "var")
    path = os.path.join(folder, "bench.sqlite3")
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE conversation (id INTEGER PRIMARY KEY, last_seq INTEGER, preview TEXT)")
    db.execute("CREATE TABLE entry (id INTEGER PRIMARY KEY, conversation INTEGER, seq INTEGER, body TEXT)")
    db.execute("CREATE UNIQUE INDEX entry_seq ON entry (conversation, seq)")
    db.execute("CREATE INDEX entry_page ON entry (conversation, id)")
    db.executemany("INSERT INTO conversation VALUES (?, 0, '')", [(n,) for n in range(1000)])
    background = None
    if mode == "background":
        db.execute("PRAGMA wal_autocheckpoint=0")
        background = BackgroundCheckpoints(path).start()
    body = "x" * 600
    latencies = []
    start = time.perf_counter()
    for n in range(count):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE conversation SET last_seq = last_seq + 1, preview = ? WHERE id = ?", (body[:80], n % 1000))
        db.execute("INSERT INTO entry (conversation, seq, body) VALUES (?, ?, ?)", (n % 1000, n, body))
        db.execute("COMMIT")
        latencies.append((time.perf_counter() - t) * 1000)
    if background is not None:
        background.stop()
    wal = os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
    db.close()
    latencies.sort()

    def at(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return {
        "p50": at(0.5),
        "p99": at(0.99),
        "p99.9": at(0.999),
        "max": latencies[-1],
        "over_10ms": sum(1 for x in latencies if x > 10),
        "wal_kib": wal / 1024,
        "restarts": background.restarts if background else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=7000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--rounds", type=int, default=2, help="each mode this many times, alternating")
    args = parser.parse_args(argv)
    (ROOT / "var").mkdir(exist_ok=True)
    before = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"{args.commits} commits at {args.rate:.0f}/s; load average before: {before}")
    header = ("mode", "p50 ms", "p99 ms", "p99.9 ms", "max ms", ">10 ms", "WAL KiB", "restarts")
    print(f"{header[0]:<12} " + " ".join(f"{h:>8}" for h in header[1:]))
    for _ in range(args.rounds):
        for mode in ("automatic", "background"):
            r = commits(mode, args.commits, args.rate)
            print(
                f"{mode:<12} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['p99.9']:>8.2f} {r['max']:>8.2f} "
                f"{r['over_10ms']:>8} {r['wal_kib']:>8.0f} {r['restarts'] if r['restarts'] is not None else '-':>8}",
                flush=True,
            )
    print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
