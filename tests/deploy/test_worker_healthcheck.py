"""deploy/worker_healthcheck.py, as the worker container runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.support.live import ROOT

SCRIPT = ROOT / "deploy" / "worker_healthcheck.py"


def healthcheck(heartbeat) -> subprocess.CompletedProcess:
    env = {**os.environ, "PARLEY_WORKER_HEARTBEAT_FILE": str(heartbeat)}
    return subprocess.run([sys.executable, SCRIPT], env=env, capture_output=True, text=True, timeout=30)


def test_it_reports_a_worker_with_a_fresh_heartbeat_healthy(tmp_path):
    (tmp_path / "heartbeat").touch()
    result = healthcheck(tmp_path / "heartbeat")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_it_reports_a_heartbeat_older_than_a_minute_unhealthy(tmp_path):
    heartbeat = tmp_path / "heartbeat"
    heartbeat.touch()
    long_ago = time.time() - 61
    os.utime(heartbeat, (long_ago, long_ago))
    result = healthcheck(heartbeat)
    assert result.returncode == 1
    assert "last heartbeat 61 s ago" in result.stderr


def test_it_reports_a_worker_that_never_wrote_a_heartbeat_unhealthy(tmp_path):
    result = healthcheck(tmp_path / "never-written")
    assert result.returncode == 1
    assert "no heartbeat yet" in result.stderr
