"""The garbage collector's pauses in this process, and the tuning ``manage.py serve`` applies.

A collection stops the event loop for as long as it scans; a full (generation 2) collection scans every
tracked object the process holds, which grows with the open sockets. ``tune_for_serving`` makes those
rare and small; ``GcPauses`` times each collection (``gc.callbacks``) so that the benchmarks, and an
operator who sets ``PARLEY_GC_STATS_FILE``, can see what they cost.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections import deque

# The numbers, measured with bench/widget.py (idle widget sockets on one embedded process, 2026-12-07,
# docs/benchmarks.md). With CPython's defaults (700, 10, 10) and nothing frozen, 2,000 connects ran five
# full collections, the longest 210 ms of CPU; a full collection scans everything the sockets hold, and at
# 10,000 sockets one took 1.1 s. Young collections are cheap only while they stay small: raising generation
# 0 to 5,000 or 20,000 made each one cost up to 30 ms of CPU at 10,000 sockets, against under 5 ms at 700.
#
# Generation 0 at CPython's default: small, frequent, a few ms at most.
GEN0_THRESHOLD = 700
# Generation 1 at CPython's default too (one stayed under 10 ms of CPU at 10,000 sockets).
GEN1_THRESHOLD = 10
# Full collections: CPython runs one after this many generation-1 collections, and only when the objects
# waiting to join generation 2 are at least a quarter of those already there. At 100, a storm of 10,000
# connects (about 350 generation-1 collections) still ran three; at 1,000, none. One still comes after
# about 7 million net allocations while the process grows or churns, so the cyclic garbage of closed
# sockets is collected, less often; and when it comes with 10,000 sockets open it pauses for about a
# second: rare, not short (CPython 3.11 has no incremental collector).
GEN2_THRESHOLD = 1000

# Pauses at least this long are kept with their time (the rest only counted), so a benchmark can read
# the longest pause of each phase of its run.
KEEP_PAUSES_OVER_S = 0.001


def tune_for_serving() -> None:
    """After start-up: collect once, move everything alive into the permanent generation (``gc.freeze``:
    modules, settings, URL patterns and templates are never garbage, and full collections stop scanning
    them) and set the thresholds above. Call once the application is loaded, before serving."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)


class GcPauses:
    """Times every collection of this process once ``install``ed."""

    def __init__(self):
        self.collections = [0, 0, 0]  # per generation
        self.total_s = 0.0
        self.max_s = 0.0
        self.over_20ms = 0
        # (wall time, generation, seconds, seconds of this thread's CPU): a pause longer than its CPU was
        # stretched by the machine (the process waited for a core), not by the collector's work.
        self.pauses: deque[tuple[float, int, float, float]] = deque(maxlen=10_000)
        self.max_cpu_s = 0.0
        self._started: tuple[float, float] | None = None
        self.frozen = 0

    def install(self) -> GcPauses:
        # Counted once: gc.get_freeze_count() walks the whole permanent generation (over 100,000 objects
        # after tune_for_serving), about 1% of a core if a snapshot asked every second.
        self.frozen = gc.get_freeze_count()
        gc.callbacks.append(self._callback)
        return self

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = (time.perf_counter(), time.thread_time())
            return
        if self._started is None:
            return
        pause, cpu = time.perf_counter() - self._started[0], time.thread_time() - self._started[1]
        self._started = None
        self.max_cpu_s = max(self.max_cpu_s, cpu)
        generation = info.get("generation", 2)
        self.collections[generation] += 1
        self.total_s += pause
        self.max_s = max(self.max_s, pause)
        if pause > 0.020:
            self.over_20ms += 1
        if pause >= KEEP_PAUSES_OVER_S:
            self.pauses.append((time.time(), generation, pause, cpu))

    def snapshot(self) -> dict:
        return {
            "at": time.time(),
            "collections": list(self.collections),
            "total_s": self.total_s,
            "max_s": self.max_s,
            "max_cpu_s": self.max_cpu_s,
            "over_20ms": self.over_20ms,
            "threshold": list(gc.get_threshold()),
            "frozen": self.frozen,
            "pauses": list(self.pauses),
        }

    def write(self, path: str) -> None:
        """The snapshot as JSON at ``path``, replaced whole (a reader never sees half a file)."""
        partial = f"{path}.partial"
        with open(partial, "w") as f:
            json.dump(self.snapshot(), f)
        os.replace(partial, path)
