"""What one idle widget socket holds, by owner: tracemalloc snapshots of a Parley server around N sockets.

Run from the repository root (it starts the server itself, on a loopback port):

    .venv/bin/python bench/socket_memory.py                  # 2,000 sockets
    .venv/bin/python bench/socket_memory.py --sockets 500 --frames 40

The server is bench/servers.py's ``parley-daphne`` (``manage.py serve --roles web``, embedded default, a
fresh database, every socket a widget visitor with its own token and an open conversation, ``hello``
until ``ready``). After the warm-up the server starts tracemalloc (through bench/_gchook, which
servers.py already puts on its PYTHONPATH), takes a snapshot after a full collection, the sockets are
opened and held idle, and a second snapshot is taken. Every allocation still alive in the second and not
in the first is charged to an owner: the innermost frame of its traceback that is not a general-purpose
standard-library module (asyncio, collections, copy...), so a deque that Channels' layer asked asyncio
for is Channels' and a dict that daphne built is daphne's.

Traced bytes are Python's allocations only: the RSS per socket (also printed, though tracemalloc's own
bookkeeping inflates it here; bench/servers.py gives the figure without it) also holds the allocator's
slack and the kernel's side of each socket is not in RSS at all. Tracing slows the server several times:
read no connect rate from this script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._loadgen import Drops, _read  # noqa: E402
from bench._soak import WARMUP_SOCKETS, open_many, rss_kib, source_addresses  # noqa: E402
from bench.chat_latency import raise_open_files_limit  # noqa: E402
from bench.servers import ParleyOnServer, collect_garbage, install_gc_hook  # noqa: E402

SITE = f"{os.sep}site-packages{os.sep}"
# Modules that allocate on behalf of whoever called them: the caller is the owner.
GENERIC = (
    "asyncio",
    "collections",
    "copy",
    "typing",
    "weakref",
    "functools",
    "threading",
    "contextlib",
    "enum",
    "abc",
    "json",
    "re",
    "urllib",
    "queue",
    "traceback",
    "linecache",
    "logging",
    "<frozen",
    "<string>",
    "<unknown>",
)


def _where(filename: str) -> tuple[str, str]:
    """(package, file) of a source file: site-packages' top-level package, Parley's first folder, or the
    standard library's module."""
    if SITE in filename:
        rel = filename.split(SITE, 1)[1]
        return rel.split(os.sep, 1)[0].removesuffix(".py"), rel
    if filename.startswith(str(ROOT) + os.sep):
        rel = os.path.relpath(filename, ROOT)
        return rel.split(os.sep, 1)[0], rel
    stdlib = filename.rsplit(f"{os.sep}python3.", 1)[-1].split(os.sep, 1)[-1]
    return "stdlib:" + stdlib.split(os.sep, 1)[0].removesuffix(".py"), stdlib


def _generic(filename: str) -> bool:
    package, _ = _where(filename)
    return package.startswith("stdlib:") and package.removeprefix("stdlib:").startswith(GENERIC)


def owner(traceback: tracemalloc.Traceback) -> tuple[str, str]:
    """(package, file:line) of the innermost frame that is not a general-purpose stdlib module."""
    frames = list(traceback)  # oldest first
    for frame in reversed(frames):
        if not _generic(frame.filename):
            package, rel = _where(frame.filename)
            return package, f"{rel}:{frame.lineno}"
    package, rel = _where(frames[-1].filename)
    return package, f"{rel}:{frames[-1].lineno}"


def charge(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot) -> dict:
    by_package: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_site: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    by_leaf: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for diff in after.compare_to(before, "traceback"):
        if diff.size_diff == 0 and diff.count_diff == 0:
            continue
        package, site = owner(diff.traceback)
        leaf = diff.traceback[-1]
        for table, key in (
            (by_package, package),
            (by_site, (package, site)),
            (by_leaf, f"{_where(leaf.filename)[1]}:{leaf.lineno}"),
        ):
            table[key][0] += diff.size_diff
            table[key][1] += diff.count_diff
    return {"by_package": by_package, "by_site": by_site, "by_leaf": by_leaf}


def ask(pid: int, directory: str, verb: str, argument: str, timeout: float = 120.0) -> None:
    """A request to the server's bench hook (bench/_gchook/sitecustomize.py), waited for."""
    request = Path(directory, f"{pid}.trace")
    done = Path(directory, f"{pid}.trace-done")
    done.unlink(missing_ok=True)
    tmp = request.with_suffix(".tmp")
    tmp.write_text(f"{verb} {argument}")
    tmp.replace(request)
    deadline = time.monotonic() + timeout
    while not done.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server did not answer {verb}")
        time.sleep(0.1)
    done.unlink()


async def run(args, gc_dir: str, out: Path) -> dict:
    system = ParleyOnServer("daphne")
    system.start(WARMUP_SOCKETS + args.sockets)
    try:
        sources = source_addresses(4)
        warm = await open_many(system.endpoints[:WARMUP_SOCKETS], system.handshake, concurrency=50, sources=sources)
        await asyncio.gather(*(ws.close() for ws in warm.sockets), return_exceptions=True)
        await asyncio.sleep(2)
        ask(system.pid, gc_dir, "start", str(args.frames))
        await asyncio.to_thread(collect_garbage, system.pid)
        before_rss = rss_kib(system.pid)
        ask(system.pid, gc_dir, "dump", str(out / "before.snapshot"))
        t = time.monotonic()
        opened = await open_many(
            system.endpoints[WARMUP_SOCKETS:], system.handshake, concurrency=args.concurrency, sources=sources
        )
        drops = Drops()
        readers = [asyncio.create_task(_read(ws, "visitor", lambda frame: None, drops)) for ws in opened.sockets]
        print(
            f"{len(opened.sockets)} open in {time.monotonic() - t:.1f}s, {len(opened.errors)} errors", file=sys.stderr
        )
        await asyncio.sleep(args.hold)
        await asyncio.to_thread(collect_garbage, system.pid)
        after_rss = rss_kib(system.pid)
        ask(system.pid, gc_dir, "dump", str(out / "after.snapshot"))
        drops.closing = True
        await asyncio.gather(*(ws.close() for ws in opened.sockets), return_exceptions=True)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        return {
            "sockets": len(opened.sockets),
            "errors": len(opened.errors),
            "dropped_while_idle": len(drops.reasons),
            "rss_kib_per_socket_traced": (after_rss - before_rss) / max(1, len(opened.sockets)),
        }
    finally:
        system.stop()


def report(result: dict, tables: dict, top: int) -> str:
    n = result["sockets"]
    total = sum(size for size, _ in tables["by_package"].values())
    lines = [
        f"{n} sockets; traced {total / 1024 / n:.2f} KiB/socket; "
        f"RSS under tracing {result['rss_kib_per_socket_traced']:.1f} KiB/socket; "
        f"errors {result['errors']}, dropped while idle {result['dropped_while_idle']}",
        "",
        f"{'owner (package)':<40} {'KiB/socket':>10} {'share':>6} {'blocks/socket':>13}",
    ]
    for package, (size, count) in sorted(tables["by_package"].items(), key=lambda kv: -kv[1][0]):
        if abs(size) / n >= 8:
            lines.append(f"{package:<40} {size / 1024 / n:>10.2f} {100 * size / total:>5.1f}% {count / n:>13.1f}")
    lines += ["", f"{'owner (package, first non-generic frame)':<90} {'B/socket':>9} {'blocks':>7}"]
    for (package, site), (size, count) in sorted(tables["by_site"].items(), key=lambda kv: -kv[1][0])[:top]:
        lines.append(f"{package + '  ' + site:<90} {size / n:>9.0f} {count / n:>7.2f}")
    lines += ["", f"{'allocation site (innermost frame)':<90} {'B/socket':>9} {'blocks':>7}"]
    for leaf, (size, count) in sorted(tables["by_leaf"].items(), key=lambda kv: -kv[1][0])[:top]:
        lines.append(f"{leaf:<90} {size / n:>9.0f} {count / n:>7.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=2000, help="idle sockets (default 2000)")
    parser.add_argument("--frames", type=int, default=30, help="traceback frames kept per allocation (default 30)")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight (default 100)")
    parser.add_argument("--hold", type=float, default=5, help="idle seconds before the second snapshot (default 5)")
    parser.add_argument("--top", type=int, default=30, help="rows of the per-site tables (default 30)")
    parser.add_argument(
        "--output", type=Path, help="JSON file of the tables (default var/bench/socket-memory-<time>.json)"
    )
    args = parser.parse_args(argv)
    raise_open_files_limit(args.sockets + WARMUP_SOCKETS + 1024)
    gc_dir = tempfile.TemporaryDirectory(prefix="parley-bench-gc-")
    install_gc_hook(gc_dir.name)
    with tempfile.TemporaryDirectory(prefix="parley-socket-memory-") as tmp:
        result = asyncio.run(run(args, gc_dir.name, Path(tmp)))
        before = tracemalloc.Snapshot.load(str(Path(tmp, "before.snapshot")))
        after = tracemalloc.Snapshot.load(str(Path(tmp, "after.snapshot")))
    tables = charge(before, after)
    text = report(result, tables, args.top)
    print(text)
    output = args.output or ROOT / "var" / "bench" / f"socket-memory-{time.strftime('%Y%m%d-%H%M%S')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    result.update(
        loadavg=os.getloadavg(),
        by_package={k: v for k, v in tables["by_package"].items()},
        by_site={f"{p}  {s}": v for (p, s), v in tables["by_site"].items()},
    )
    output.write_text(json.dumps(result, indent=1))
    print(f"\nfull results: {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
