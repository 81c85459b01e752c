"""Widget inboxes as a socket connect needs them, from a small per-process cache.

Every widget socket's connect needs its inbox's id and allowed origins. Read from the database each
time, that was a hop to the database thread per connect, and a reconnect storm (every visitor after a
restart) queued behind it. Here they are kept per process for ``TTL_SECONDS``:

- a save or a delete of an inbox in this process forgets its entry at once (``widget.apps``);
- another process (a second web node, ``manage.py shell``) is seen within ``TTL_SECONDS``; and an origin
  the cached entry refuses is looked up again before the socket is refused, so only a *removed* origin
  (or a deleted inbox) may still be let in for that long, never an added one kept out.

Only existing widget inboxes are kept: an unknown key is not remembered, so it cannot fill the cache.
"""

from __future__ import annotations

import time

from contact_center.models import Inbox

TTL_SECONDS = 10.0

_entries: dict[str, tuple[float, dict]] = {}  # public key -> (monotonic expiry, {"id", "allowed_origins"})


def cached_widget_inbox(public_key: str) -> dict | None:
    """The inbox's ``{"id", "allowed_origins"}`` if this process read it less than ``TTL_SECONDS`` ago."""
    entry = _entries.get(public_key)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1]


def widget_inbox(public_key: str) -> dict | None:
    """The inbox's ``{"id", "allowed_origins"}`` from the database (and cached), None for no widget inbox."""
    inbox = Inbox.objects.filter(public_key=public_key, kind=Inbox.Kind.WIDGET).values("id", "allowed_origins").first()
    if inbox is not None:
        _entries[public_key] = (time.monotonic() + TTL_SECONDS, inbox)
    return inbox


def forget_widget_inbox(public_key: str) -> None:
    """Drop the cached entry (the inbox was saved or deleted)."""
    _entries.pop(public_key, None)


def forget_saved_inbox(sender, instance: Inbox, **kwargs) -> None:
    """``post_save``/``post_delete`` receiver for Inbox (connected in widget.apps)."""
    forget_widget_inbox(instance.public_key)
