"""Agent sessions: read from the cache, kept in the database (Django's ``cached_db``), and still served
from the database while the cache (Redis) is unreachable.

Django's own store already survives a failed cache read and a failed cache write on save, but not the
write that refills the cache after a miss, so every logged-in request failed during a Redis outage,
where before sessions were only in the database and nothing but sockets needed Redis.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger("parley.sessions")


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # an unreachable cache is a miss (Django treats invalid keys the same way)
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:
            logger.warning("session cache unavailable; session read from the database", exc_info=True)
        return data
