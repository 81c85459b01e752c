"""The widget's weight on a customer's page, measured on what the server actually serves.

Every site that embeds the widget pays for it on every page view: the loader on each page, the frame
once a visitor opens the chat. Sizes are gzip level 9, which is what a compressing proxy or CDN in
front of Parley sends at most; brotli would be smaller still.
"""

from __future__ import annotations

import gzip
import re

import pytest

pytestmark = pytest.mark.django_db

LOADER_BUDGET = 4 * 1024
WIDGET_BUDGET = 30 * 1024
# Parley's own assets that the frame page references (static files, and the frame's scripts that the widget
# serves itself); a customer's avatar URL is not ours to count.
OWN_ASSET = re.compile(r"""(?:src|href)=["'](/(?:static|widget)/[^"']+)["']""")


def body_of(response) -> bytes:
    assert response.status_code == 200, response
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def widget_parts(client, inbox) -> dict[str, bytes]:
    parts = {
        "loader.js": body_of(client.get("/widget/loader.js")),
        "appearance": body_of(client.get(f"/widget/api/appearance/{inbox.public_key}/")),
        "frame": body_of(client.get(f"/widget/frame/{inbox.public_key}/?host=https%3A%2F%2Fshop.example")),
    }
    for path in sorted(set(OWN_ASSET.findall(parts["frame"].decode()))):
        parts[path] = body_of(client.get(path))
    return parts


def test_it_keeps_the_loader_within_4_kb_gzipped(client, website):
    size = gzipped(widget_parts(client, website)["loader.js"])

    assert size <= LOADER_BUDGET, f"loader.js is {size} bytes gzipped, over the {LOADER_BUDGET} budget"


def test_it_keeps_the_whole_widget_within_30_kb_gzipped(client, website):
    parts = widget_parts(client, website)
    sizes = {name: gzipped(data) for name, data in parts.items()}

    assert any(name.startswith("/widget/frame.js") for name in parts), "the frame's script was not in the frame page"
    assert sum(sizes.values()) <= WIDGET_BUDGET, f"{sum(sizes.values())} bytes gzipped: {sizes}"
