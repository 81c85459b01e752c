"""deploy/gunicorn.conf.py serves Parley as the http nodes of docker-compose.yml run it.

gunicorn starts on a free loopback port (the command line's --bind overrides the file's 0.0.0.0:8001), one
worker, against a fresh SQLite database: /healthz only runs SELECT 1, so no migration is needed.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import urllib.request
import uuid

import pytest

from tests.support.live import ROOT, free_port, wait_for_port

CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
HOST = "parley.test"


@pytest.fixture
def start_gunicorn(tmp_path):
    started: list[subprocess.Popen] = []

    def start(**env_changes: str) -> int:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
        env.update(
            {
                "DEBUG": "0",
                "SECRET_KEY": "gunicorn-test-" + uuid.uuid4().hex + uuid.uuid4().hex,
                "PARLEY_VAR_DIR": str(tmp_path / "var"),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.sqlite3'}",
                "PUBLIC_BASE_URL": f"http://{HOST}",
                "ALLOWED_HOSTS": HOST,
                "PARLEY_HTTP_WORKERS": "1",
                "PARLEY_HTTP_THREADS": "2",
                **env_changes,
            }
        )
        log = tmp_path / f"gunicorn-{port}.log"
        with open(log, "w") as out:
            argv = ["-c", str(CONFIG), "--bind", f"127.0.0.1:{port}", "contact_center.wsgi"]
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *argv],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started.append(proc)
        try:
            wait_for_port(port, timeout=30, proc=proc)
        except Exception:
            raise AssertionError(log.read_text()) from None
        return port

    yield start
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def get(port: int, path: str, **headers: str):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": HOST, **headers})
    # The master listens before its worker has loaded Django: the first request waits in the backlog.
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  (loopback)
        return response.status, dict(response.headers), response.read()


def socket_sources(headers: dict) -> str:
    """The connect-src of the Content-Security-Policy: it lists the page's own socket address, ws:// or
    wss:// by the scheme the request arrived with (contact_center/security_headers.py)."""
    directive = next(d for d in headers["Content-Security-Policy"].split(";") if d.strip().startswith("connect-src"))
    return directive


def test_behind_the_proxy_it_serves_health_and_takes_the_scheme_from_x_forwarded_proto(start_gunicorn):
    port = start_gunicorn(PARLEY_TRUST_X_FORWARDED_FOR="1")

    status, _, body = get(port, "/healthz")
    assert (status, body) == (200, b'{"status": "ok"}')
    # What the compose healthcheck of an http node runs.
    check = subprocess.run(
        [sys.executable, ROOT / "deploy" / "healthcheck.py"],
        env={**os.environ, "PARLEY_HEALTHCHECK_PORT": str(port), "PUBLIC_BASE_URL": f"http://{HOST}"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert check.returncode == 0, check.stderr

    # nginx terminated TLS: the request is secure, and the console's sockets would be allowed on wss://.
    _, headers, _ = get(port, "/healthz", **{"X-Forwarded-Proto": "https"})
    assert f"wss://{HOST}" in socket_sources(headers)
    _, headers, _ = get(port, "/healthz", **{"X-Forwarded-Proto": "http"})
    assert f"wss://{HOST}" not in socket_sources(headers)
    # Only nginx's header counts: X-Forwarded-Ssl passes through nginx from the client, and neither
    # contradicts nginx's (which gunicorn's default would answer with a 400) nor picks the scheme.
    status, headers, _ = get(port, "/healthz", **{"X-Forwarded-Proto": "http", "X-Forwarded-Ssl": "on"})
    assert status == 200
    assert f"wss://{HOST}" not in socket_sources(headers)


def test_it_keeps_connections_alive_for_nginx_upstream_keepalive(start_gunicorn):
    port = start_gunicorn(PARLEY_TRUST_X_FORWARDED_FOR="1")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for _ in range(2):
            conn.request("GET", "/healthz", headers={"Host": HOST})
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection", "").lower() != "close"
        first_socket = conn.sock
        conn.request("GET", "/healthz", headers={"Host": HOST})
        conn.getresponse().read()
        assert conn.sock is first_socket  # the same connection served all three
    finally:
        conn.close()


def test_without_a_trusted_proxy_a_client_cannot_choose_the_scheme(start_gunicorn):
    # Not even from loopback, which gunicorn's own default trusts.
    port = start_gunicorn(PARLEY_TRUST_X_FORWARDED_FOR="0")

    _, headers, _ = get(port, "/healthz", **{"X-Forwarded-Proto": "https"})
    assert f"wss://{HOST}" not in socket_sources(headers)
    assert f"ws://{HOST}" in socket_sources(headers)
