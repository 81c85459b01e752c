"""The console page loads its front-end as ES modules, every one preloaded (docs/decisions.md, D23)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contact_center.lib.es_modules import module_tree

pytestmark = pytest.mark.django_db

CONSOLE_STATIC = Path(__file__).resolve().parents[2] / "contact_center" / "static" / "console"
# Scripts of the settings pages, not of the console page.
PAGE_SCRIPTS = {"settings.js", "label_chips.js"}


def test_the_console_page_starts_main_js_as_a_module_and_preloads_the_modules_it_imports(client, alice):
    client.force_login(alice)
    html = client.get("/console/").content.decode()

    assert '<script type="module" src="/static/console/main.js">' in html
    preloaded = set(re.findall(r'<link rel="modulepreload" href="/static/(console/[\w.]+\.js)">', html))
    assert preloaded == set(module_tree("console/main.js"))


def test_every_console_module_is_imported_from_main_js():
    modules = {path.name for path in CONSOLE_STATIC.glob("*.js")} - PAGE_SCRIPTS - {"main.js"}

    assert {name.removeprefix("console/") for name in module_tree("console/main.js")} == modules
