"""The ES modules a page's entry module imports, for ``<link rel="modulepreload">``.

The console's front-end is native ES modules without a build step (docs/decisions.md, D23). A browser
finds a module's imports only once it has fetched and parsed it, so a tree four modules deep costs four
round trips before the page can run. Preloading every module of the tree lets them download in
parallel. The list comes from the import statements themselves, so adding a module needs no second edit.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders

# Static imports of sibling modules only: `import ... from "./x.js"` and `import "./x.js"`.
IMPORT = re.compile(r"""^\s*import\s+(?:[^"';]*?\s+from\s+)?["']\./([\w.-]+\.js)["']""", re.MULTILINE)


@cache
def module_tree(entry: str) -> tuple[str, ...]:
    """Static paths (``console/list.js``, ...) of every module ``entry`` imports, directly or not, in
    the order they are first met; ``entry`` itself is not among them."""
    folder = entry.rsplit("/", 1)[0]
    found: list[str] = []
    todo = [entry]
    while todo:
        path = finders.find(todo.pop(0))
        if path is None:
            continue
        for name in IMPORT.findall(Path(path).read_text(encoding="utf-8")):
            module = f"{folder}/{name}"
            if module != entry and module not in found:
                found.append(module)
                todo.append(module)
    return tuple(found)
