"""Specs of the actions: the only code that writes domain rows and publishes events."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection

# A bound on a stuck thread, not a performance claim: the test machine is shared and slow.
THREAD_WAIT = 120


def concurrently(fn: Callable[[Any], Any], arguments: Sequence[Any]) -> list[Any]:
    """Call ``fn(argument)`` for every argument, each in its own thread, all released at once.

    Each thread uses its own database connection (Django connections are per thread) and closes it,
    so the test database can be dropped afterwards. Returns the results in argument order and
    re-raises the first error any thread hit. Needs ``django_db(transaction=True)``: other threads
    cannot see rows of the test's own uncommitted transaction.
    """
    barrier = threading.Barrier(len(arguments))
    results: list[Any] = [None] * len(arguments)
    errors: list[BaseException] = []

    def run(index: int, argument: Any) -> None:
        try:
            barrier.wait(timeout=THREAD_WAIT)
            results[index] = fn(argument)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, argument)) for i, argument in enumerate(arguments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_WAIT)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    if errors:
        raise errors[0]
    return results
