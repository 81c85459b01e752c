"""bench/layers.py's smoke run: every in-memory row comes out (the Redis part needs a Redis: the
services suite's own tests cover the layer there). Timings are not asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_measures_both_in_memory_layers_at_every_size():
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "layers.py"), "--skip-redis", "--sizes", "10,50"]
        + ["--calls", "20", "--batch", "10", "--fanout", "20", "--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-4000:]
    rows = [line.split()[:3] for line in result.stdout.splitlines()]
    for size in ("10", "50"):
        assert ["stock", "in-memory", size] in rows
        assert ["parley", "in-process", size] in rows
        assert ["parley", "sweep", size] in rows
    assert sum(1 for row in rows if row[1:2] in (["in-memory"], ["in-process"])) == 6
