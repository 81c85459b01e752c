"""Loaded by the server processes bench/servers.py starts (this folder is first on their PYTHONPATH):
a full garbage collection on request, so memory per socket is read after one.

bench/servers.py creates ``$PARLEY_BENCH_GC_DIR/<pid>.request``; a daemon thread of process <pid>
notices it within 0.2 s, runs ``gc.collect()`` and answers with ``<pid>.done`` (objects collected and
seconds taken). A thread rather than a signal handler: a handler runs only when the main thread
executes Python, and an idle server's main thread may sit in C (uvloop, granian's runtime) for as long
as it stays idle. Without the environment variable this does nothing. The polling costs each server a
wake-up every 0.2 s, the same in every system measured.
"""

import os

_DIR = os.environ.get("PARLEY_BENCH_GC_DIR")

if _DIR:
    import gc
    import threading
    import time

    def _watch() -> None:
        pid = os.getpid()
        request = os.path.join(_DIR, f"{pid}.request")
        while True:
            time.sleep(0.2)
            if os.path.exists(request):
                os.unlink(request)
                started = time.perf_counter()
                collected = gc.collect()
                done = os.path.join(_DIR, f"{pid}.done")
                with open(done + ".tmp", "w") as f:
                    f.write(f"{collected} {time.perf_counter() - started:.6f}")
                os.replace(done + ".tmp", done)
            trace = os.path.join(_DIR, f"{pid}.trace")
            if os.path.exists(trace):
                _trace(trace)

    def _trace(request: str) -> None:
        """bench/socket_memory.py: ``start FRAMES`` starts tracemalloc; ``dump PATH`` collects, then writes
        a snapshot to PATH. Answered with ``<pid>.trace-done``."""
        import tracemalloc

        with open(request) as f:
            verb, argument = f.read().split(maxsplit=1)
        os.unlink(request)
        if verb == "start":
            tracemalloc.start(int(argument))
        else:
            gc.collect()
            tracemalloc.take_snapshot().dump(argument)
        done = request + "-done"
        open(done + ".tmp", "w").close()
        os.replace(done + ".tmp", done)

    def _start() -> None:
        threading.Thread(target=_watch, name="bench-gc", daemon=True).start()

    _start()
    # A forked child (granian's worker) has no copy of the thread: it starts its own.
    os.register_at_fork(after_in_child=_start)
