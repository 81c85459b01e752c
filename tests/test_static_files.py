"""Production serves static files under their version, cacheable for good (contact_center/static_files.py):
a returning agent's browser asks for none of the console's modules again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from contact_center import static_files

ROOT = Path(__file__).resolve().parents[1]

PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
def get(url):
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return {"status": response.status_code, "cache": response.get("Cache-Control", ""), "body": body.decode()[:20000]}
print(json.dumps({
    "static_url": settings.STATIC_URL,
    "versioned": get(settings.STATIC_URL + "console/main.js"),
    "imported": get(settings.STATIC_URL + "console/list.js"),
    "plain": get("/static/console/main.js"),
    "login": get("/console/login/"),
}))
"""


def test_the_version_changes_when_any_file_changes_and_only_then(tmp_path):
    (tmp_path / "console").mkdir()
    module = tmp_path / "console" / "main.js"
    module.write_text('import "./list.js";\n')
    first = static_files.version([tmp_path])

    assert static_files.version([tmp_path]) == first
    module.write_text('import "./list.js";\nimport "./thread.js";\n')
    assert static_files.version([tmp_path]) != first
    assert static_files.version([tmp_path], salt="5.2.20") != static_files.version([tmp_path], salt="5.2.19")


def test_production_serves_each_file_under_the_version_cached_for_good(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "static-files-test-key-0123456789abcdef0123456789abcdef",
        "PUBLIC_BASE_URL": "http://testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PARLEY_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "contact_center.settings",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen["static_url"].startswith("/static/") and len(seen["static_url"]) == len("/static/") + 13
    for name in ("versioned", "imported"):
        assert seen[name]["status"] == 200
        assert "immutable" in seen[name]["cache"] and "max-age=315360000" in seen[name]["cache"]
    # Modules import one another by relative name: under the versioned folder, with nothing rewritten.
    assert 'from "./socket.js"' in seen["versioned"]["body"]
    assert seen["plain"]["status"] == 404
    assert f'href="{seen["static_url"]}console/console.css"' in seen["login"]["body"]
