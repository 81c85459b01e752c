"""Image URLs that pages may show to visitors: pictures configured by admins (avatars), never uploads."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

IMAGE_URL_MAX = 2048


def https_image_url(value) -> str | None:
    """``value`` if it is an absolute https URL without credentials or whitespace, else None.

    https only: the widget frame is served over https in production, and a javascript: or data: URL in
    an ``<img src>`` is at best mixed content and at worst a way to smuggle markup.
    """
    if not isinstance(value, str) or not value or len(value) > IMAGE_URL_MAX or re.search(r"\s", value):
        return None
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return None
    return value
