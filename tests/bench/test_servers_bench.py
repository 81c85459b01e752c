"""bench/servers.py's smoke run: Parley starts under daphne and under another server, the sockets open in
steps, and memory is read after a collection in the process that serves them.

Runs ``--quick`` (200 then 500 sockets, 2 s idle) on two systems in a subprocess: ``parley-daphne`` (what
production runs) and ``parley-granian`` (the application in a forked worker, the hardest case for finding
the process to measure and for the garbage-collection hook). Timings and sizes are not asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    output = tmp_path_factory.mktemp("bench") / "servers.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "servers.py"),
            "--quick",
            "--systems",
            "parley-daphne,parley-granian",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(output.read_text())


def test_it_opens_every_socket_in_steps_on_each_server(report):
    assert [system["system"] for system in report["systems"]] == ["parley-daphne", "parley-granian"]
    for system in report["systems"]:
        assert [step["sockets_open"] for step in system["steps"]] == [200, 500]
        for step in system["steps"]:
            assert step["open_errors"] == 0 and step["dropped_while_idle"] == 0
            assert step["kib_per_socket"] > 0
            assert step["server_cpu_ms_per_connect"] > 0  # the serving process's CPU, not a supervisor's
            assert len(step["loadavg"]) == 3
        assert system["close_errors"] == 0
        assert system["server_log_tracebacks"] == 0


def test_it_reads_memory_after_a_collection_in_the_serving_process(report):
    for system in report["systems"]:
        assert system["baseline_gc"] is not None
        assert all(step["gc"] is not None for step in system["steps"])


def test_it_records_whether_the_server_took_permessage_deflate(report):
    # The client offers it on every socket; neither of these servers accepts it.
    for system in report["systems"]:
        assert [step["deflate_accepted"] for step in system["steps"]] == [0, 0]
