"""Container health check for a web node: exit 0 if GET /healthz answers 200 with {"status": "ok"}.

Run inside the container (docker-compose.yml calls it). /healthz runs `SELECT 1`, so a node that cannot
reach PostgreSQL reports unhealthy. The request carries the Host of PUBLIC_BASE_URL because Django
refuses hosts outside ALLOWED_HOSTS, and the public host must be in that list anyway.
Standard library only: the slim image has no curl.
"""

import json
import os
import sys
import urllib.request
from urllib.parse import urlsplit


def main() -> int:
    port = os.environ.get("PARLEY_HEALTHCHECK_PORT", "8000")
    host = urlsplit(os.environ.get("PUBLIC_BASE_URL") or "http://localhost").netloc
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310  (fixed http URL)
            ok = response.status == 200 and json.load(response).get("status") == "ok"
    except Exception as exc:  # any failure is "unhealthy"; say why in the container's health log
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    print("ok" if ok else "unhealthy: unexpected answer")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
