"""How production names and caches static files (docs/deployment.md).

The console's front-end is some twenty ES modules (docs/decisions.md, D23). Under fixed names
WhiteNoise lets a browser keep a file for 60 s, after which a returning agent's browser asks again for
each one (20 answers of 304), which bench/console_click.py measured at about 290 ms more before the
console is usable than the five scripts before the split needed. So in production every static URL
carries the version of the files (`/static/<version>/console/main.js`): a file never changes under its
URL, WhiteNoise marks every one cacheable for good, and a returning browser asks for nothing.

A version in the path rather than a hash in each name (Django's manifest storage) because the modules
import one another in cycles (the list opens a thread, the thread redraws the list): a name that holds
the hashes of the names it imports never settles ("Max post-process passes exceeded"). Relative imports
(`./list.js`) resolve under the versioned folder by themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def version(roots: Iterable[Path], salt: str = "") -> str:
    """Twelve hex digits that change whenever a file under ``roots`` (or ``salt``) does."""
    digest = hashlib.sha256(salt.encode())
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def immutable(path: str, url: str) -> bool:
    """WhiteNoise's WHITENOISE_IMMUTABLE_FILE_TEST: every URL carries its version, so all are."""
    return True
