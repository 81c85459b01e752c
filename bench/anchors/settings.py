"""Minimal settings for the stock Channels group-chat anchor: no database, no apps but channels.

Environment: ``REDIS_URL`` (default redis://127.0.0.1:6379/0) and ``ANCHOR_CHANNEL_PREFIX`` (set a unique
one per run so the anchor never shares keys with anything else on the Redis server).
"""

import os

SECRET_KEY = "bench-anchor-not-secret-" + "x" * 32
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["daphne", "channels"]
DATABASES = {}
ASGI_APPLICATION = "bench.anchors.asgi.application"
USE_TZ = True

CHANNEL_LAYERS = {
    "default": {
        # The tutorial's layer, with its default capacity and expiry. Two changes, both Parley's own
        # settings too, so both systems get the same fixes: redis-py 8 times reads out after 5 s, which
        # breaks channels-redis' 5 s blocking receive (django/channels_redis#422), hence socket_timeout;
        # and redis-py's pool refuses (does not wait for) a command past max_connections, 100 by
        # default, which the anchor's group_send calls at 200 messages/s exceed: the run aborted on
        # MaxConnectionsError, hence Parley's 1000.
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                    "socket_timeout": 15,
                    "max_connections": 1000,
                }
            ],
            "prefix": os.environ.get("ANCHOR_CHANNEL_PREFIX", "bench-anchor"),
        },
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
