"""bench/console.py's smoke run: the generator, the in-process measurements and the HTTP load all work.

Runs ``--quick`` (a tiny set on SQLite, a few requests per case, one second of HTTP load on daphne,
then on gunicorn) in a subprocess, because the benchmark configures Django itself, on its own
database. Timings are not asserted: only that every measurement came out, the timeline's page 100
among them, with its queries counted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> dict:
    output = tmp_path_factory.mktemp("bench") / "console.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "console.py"), "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(output.read_text())


@pytest.fixture(scope="module")
def sqlite(report) -> dict:
    (run,) = report["results"]
    assert run["backend"] == "sqlite"
    return run


def test_it_generates_a_consistent_dataset(sqlite):
    dataset = sqlite["dataset"]
    assert dataset["conversations"] == 200
    assert dataset["entries"] == 7_000
    assert dataset["heavy_entries"] == 6_500
    assert dataset["heavy_entries_visible_to_agent"] < dataset["heavy_entries"]
    assert set(sqlite["verify"].values()) == {0}


def test_it_walks_the_customer_timeline_to_page_100_for_both_personas(sqlite):
    personas = sqlite["inprocess"]["personas"]
    assert set(personas) == {"admin", "agent"}
    for data in personas.values():
        walk = data["timeline_walk"]
        assert walk["pages"] == 100
        assert walk["entries_seen"] == 5_000
        assert isinstance(walk["max_view_queries"], int)
        assert walk["problems"] == []
        assert "before=" in data["timeline_urls"][-1]


def test_it_times_and_counts_the_queries_of_every_case(sqlite):
    for data in sqlite["inprocess"]["personas"].values():
        cases = {case["case"]: case for case in data["cases"]}
        assert "customer timeline page 100" in cases
        assert "counts" in cases
        for view in ("all", "mine", "unassigned", "mentions"):
            for sort in ("activity", "oldest", "priority"):
                assert f"list {view} / {sort}" in cases
        assert "list all / activity, one inbox" in cases
        for case in cases.values():
            assert case["ms"]["samples"] == 3
            # Every request loads its agent before the view's own queries (the session comes from the cache).
            assert case["queries"] - case["view_queries"] == 1
            assert case["plan"]


def test_it_drives_timeline_pages_over_http(sqlite):
    runs = [run for run in sqlite["http"]["runs"] if run.get("loadgen") != "wrk" and run["server"] == "daphne"]
    assert [(run["persona"], run["servers"]) for run in runs] == [("agent", 1), ("admin", 1)]
    for run in runs:
        assert run["statuses"].get("200", 0) > 0
        assert set(run["statuses"]) == {"200"}
        assert run["latency_ms"]["samples"] == run["requests"]
        assert isinstance(run["db_connections_at_end"], int)
    assert sqlite["http"]["server_log_tracebacks"] == 0


def test_it_drives_the_same_pages_from_wrk_where_wrk_is_installed(sqlite):
    runs = [run for run in sqlite["http"]["runs"] if run.get("loadgen") == "wrk" and run["server"] == "daphne"]
    assert len(runs) == (1 if shutil.which("wrk") else 0)
    for run in runs:
        assert run["persona"] == "agent"
        assert run["requests"] > 0 and run["statuses"] == {"200": run["requests"]}
        assert 0 < run["latency_ms"]["p50"] <= run["latency_ms"]["p99"] <= run["latency_ms"]["max"]


def test_it_drives_the_same_pages_on_gunicorn_serving_the_wsgi_application(sqlite):
    runs = [run for run in sqlite["http"]["runs"] if run["server"] != "daphne"]
    assert [(run["server"], run.get("loadgen")) for run in runs] == [("gunicorn gthread:2x4", None)] + (
        [("gunicorn gthread:2x4", "wrk")] if shutil.which("wrk") else []
    )
    for run in runs:
        assert run["persona"] == "agent"
        assert run["requests"] > 0 and set(run["statuses"]) == {"200"}
        # The master's CPU and its two workers': the workers serve, so the sum is not the master's alone.
        assert run["server_cpu_ms_per_page"] > 0
    assert isinstance(runs[0]["db_connections_at_end"], int)
    assert sqlite["http"]["gunicorn_log_tracebacks"] == 0


def test_it_prints_the_goals(report):
    from bench.console import goals

    names = [name for name, _, _ in goals(report["results"][0])]
    assert any("customer timeline <= 3 queries" in name for name in names)
    assert any("pages/s over HTTP" in name for name in names)
