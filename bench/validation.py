"""The schema layer's cost per frame (decision D15): what parsing and validating a typical frame costs on top
of reading it, with the no-validation anchor measured in the same invocation.

    .venv/bin/python bench/validation.py              # 20,000 rounds per frame, best of 5
    .venv/bin/python bench/validation.py --rounds 2000 --repeats 3

For each frame: `anchor` is orjson.loads plus the dict reads a handler makes (what the consumers did
before, less the crashes); `schema` is what JsonFrameConsumer.receive does now: orjson.loads, the NUL and
integer-range walk (check_json, skipped when the text cannot hold either), the frame's pydantic model and
the dict the handler reads. The goal (issue 10): under 20 us per typical frame. Pure CPU, one thread, timed
as this process's CPU time; no socket or database is involved.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contact_center.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

import orjson  # noqa: E402

from contact_center.frames import FRAMES as CONSOLE_FRAMES  # noqa: E402
from contact_center.lib.schema import parse_frame  # noqa: E402
from widget.frames import FRAMES as WIDGET_FRAMES  # noqa: E402

GOAL_US = 20.0
BODY = "Hi! Do you ship the Trailblazer 2 tent to Norway, and how long does it usually take to arrive?"

FRAMES = [
    (
        "widget send",
        WIDGET_FRAMES,
        {
            "type": "send",
            "client_id": "3f0b6a2e-8c1d-4e59-9a7b-0d2c5e6f7a81",
            "body": BODY,
            "page": {"url": "https://shop.example/tents/trailblazer-2", "title": "Trailblazer 2 | Shop"},
        },
    ),
    ("widget hello", WIDGET_FRAMES, {"type": "hello", "last_seq": 42}),
    ("widget typing", WIDGET_FRAMES, {"type": "typing", "preview": BODY[:40]}),
    (
        "console reply",
        CONSOLE_FRAMES,
        {"type": "reply", "conversation": 12345, "body": BODY, "client_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
    ),
    (
        "console hello",
        CONSOLE_FRAMES,
        {"type": "hello", "resume": {str(1000 + n): 7 * n for n in range(20)}},
    ),
]


def anchor(text: str) -> dict:
    content = orjson.loads(text)
    content.get("type"), content.get("client_id"), content.get("body"), content.get("conversation")
    return content


def schema(table: dict, text: str) -> dict:
    content = orjson.loads(text)
    frame = parse_frame(table[content["type"]], content, text)
    return frame.content()


def best_us(call, rounds: int, repeats: int) -> float:
    # CPU time of this process, not wall time: on a shared machine, time spent waiting for a core is
    # not the layer's cost.
    return min(timeit.repeat(call, number=rounds, repeat=repeats, timer=time.process_time)) / rounds * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; best of {args.repeats} x {args.rounds} rounds")
    print(f"{'frame':<16} {'bytes':>6} {'anchor us':>10} {'schema us':>10} {'added us':>9}  goal < {GOAL_US:.0f} us")
    worst = 0.0
    for name, table, content in FRAMES:
        text = orjson.dumps(content).decode()
        assert schema(table, text) == content, "the model must hand the handler the frame as sent"
        base = best_us(lambda text=text: anchor(text), args.rounds, args.repeats)
        full = best_us(lambda table=table, text=text: schema(table, text), args.rounds, args.repeats)
        worst = max(worst, full)
        print(f"{name:<16} {len(text):>6} {base:>10.2f} {full:>10.2f} {full - base:>9.2f}")
    verdict = "meets" if worst < GOAL_US else "misses"
    print(f"slowest frame through the schema layer: {worst:.2f} us ({verdict} the goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
