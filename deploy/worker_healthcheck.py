"""Container health check for an outbox worker: exit 0 if its heartbeat file is fresh.

The worker (`serve --roles worker` with PARLEY_WORKER_HEARTBEAT_FILE set) touches the file after every
poll that reached the database, every few seconds at most. A file older than MAX_AGE_SECONDS means the
worker is stuck, cannot reach PostgreSQL, or never started. Standard library only.
"""

import os
import sys
import time

# Twenty polls of the default 2 s, and far above one slow batch of deliveries.
MAX_AGE_SECONDS = 60


def main() -> int:
    path = os.environ.get("PARLEY_WORKER_HEARTBEAT_FILE")
    if not path:
        print("unhealthy: PARLEY_WORKER_HEARTBEAT_FILE is not set", file=sys.stderr)
        return 1
    try:
        age = time.time() - os.stat(path).st_mtime
    except OSError as exc:
        print(f"unhealthy: no heartbeat yet ({exc.strerror})", file=sys.stderr)
        return 1
    if age > MAX_AGE_SECONDS:
        print(f"unhealthy: last heartbeat {age:.0f} s ago", file=sys.stderr)
        return 1
    print(f"ok: last heartbeat {age:.0f} s ago")
    return 0


if __name__ == "__main__":
    sys.exit(main())
