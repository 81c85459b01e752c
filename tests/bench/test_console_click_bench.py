"""bench/console_click.py: its command line, its statistics and (in the browser suite) a short real run.

The smoke run measures this tree twice, as two trees, for one warm round of each cache mode on a small
set, in a subprocess; timings are not asserted, only that every measure came out and the caches behaved
as each mode says.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import console_click

ROOT = Path(__file__).resolve().parents[2]


def test_it_measures_this_tree_alone_unless_told():
    args = console_click.parse_args([])
    assert args.trees == {"current": ROOT}
    assert args.repeat == 15
    assert args.cache == ["fresh", "revalidate", "versioned"]


def test_it_takes_trees_in_order_the_first_being_the_baseline():
    args = console_click.parse_args(["--tree", "before=.", "--tree", f"after={ROOT}", "--quick", "--cache", "fresh"])
    assert list(args.trees) == ["before", "after"]
    assert args.repeat == 3
    assert args.cache == ["fresh"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--tree", "no-path"],
        ["--tree", "=."],
        ["--tree", "x=/nonexistent"],
        ["--tree", "a=.", "--tree", "a=."],
        ["--conversations", "49"],
        ["--entries", "51"],
        ["--repeat", "0"],
    ],
)
def test_it_refuses_what_it_cannot_measure(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        console_click.parse_args(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def sample(cache: str, round_no: int, page: float, click: float) -> dict:
    return {
        "cache": cache,
        "round": round_no,
        "cold": round_no == 0,
        "page_to_usable_ms": page,
        "html_ms": 10.0,
        "scripts_ms": page / 2,
        "live_ms": page - 10,
        "rows_ms": page,
        "click_to_usable_ms": click,
        "js_files": 5,
        "js_bytes": 1000,
        "js_over_network": 5 if round_no == 0 or cache == "revalidate" else 0,
        "page_errors": [],
    }


def synthetic_report(shift: float) -> dict:
    trees = []
    for name, extra in (("before", 0.0), ("after", shift)):
        samples = [sample("fresh", r, 300 + 10 * r + extra, 80 + r) for r in range(11)]
        trees.append({"name": name, "path": "/x", "version": None, "seed": {}, "samples": samples})
    return {
        "args": {"cache": ["fresh"], "conversations": 100, "entries": 20, "repeat": 10},
        "machine": {"nproc": 2, "cpu": "test"},
        "loadavg_before": (0.0, 0.0, 0.0),
        "loadavg_after": (0.0, 0.0, 0.0),
        "trees": trees,
    }


def test_it_keeps_the_cold_round_out_of_the_warm_percentiles():
    report = synthetic_report(0)
    console_click.compute_stats(report)
    stats = report["trees"][0]["stats"]["fresh"]["page_to_usable_ms"]
    assert stats["cold"] == 300
    assert (stats["samples"], stats["min"], stats["p50"], stats["max"]) == (10, 310, 355, 400)
    assert stats["p90"] == 390


def test_it_gives_each_tree_minus_the_baseline_with_an_interval():
    report = synthetic_report(50)
    console_click.compute_stats(report)
    difference = report["trees"][1]["difference"]["fresh"]["page_to_usable_ms"]
    assert difference["against"] == "before"
    assert difference["median"] == 50
    assert difference["min"] == 50
    low, high = difference["ci95"]
    assert low <= 50 <= high
    text = console_click.summary(report)
    assert "page to usable: after - before = +50 ms on the warm medians" in text


@pytest.mark.browser
def test_it_measures_two_trees_in_every_cache_mode(tmp_path):
    output = tmp_path / "console-click.json"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "console_click.py"),
            *("--tree", "a=.", "--tree", "b=."),
            *("--repeat", "1", "--conversations", "50", "--entries", "4", "--output", str(output)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(output.read_text())
    assert [t["name"] for t in report["trees"]] == ["a", "b"]
    for tree in report["trees"]:
        assert tree["seed"]["code"] == str(ROOT / "contact_center" / "__init__.py")
        assert tree["server_log_tracebacks"] == 0
        by_mode = {(s["cache"], s["cold"]): s for s in tree["samples"]}
        assert set(by_mode) == {(mode, cold) for mode in ("fresh", "revalidate", "versioned") for cold in (True, False)}
        for s in tree["samples"]:
            assert 0 < s["scripts_ms"] <= s["page_to_usable_ms"] and s["click_to_usable_ms"] > 0
            assert s["js_files"] > 0 and not s["page_errors"]
        # Cold: everything over the network; fresh: nothing; revalidate: every file again (a 304).
        assert by_mode["fresh", True]["js_over_network"] == by_mode["fresh", True]["js_files"]
        assert by_mode["fresh", False]["js_over_network"] == 0
        assert by_mode["revalidate", False]["js_over_network"] == by_mode["revalidate", False]["js_files"]
        # Production's versioned URLs, cached for good: a returning browser asks for nothing.
        assert by_mode["versioned", False]["js_over_network"] == 0
    assert "click to usable: b - a =" in result.stdout
