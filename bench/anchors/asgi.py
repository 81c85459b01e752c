"""ASGI app of the stock Channels anchor: ``daphne bench.anchors.asgi:application``.

The tutorial wraps the router in ``AuthMiddlewareStack``, which reads the session database on every
connect; this anchor has no database, so it keeps only the Origin check.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.anchors.settings")

import django  # noqa: E402

django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from bench.anchors.consumers import ChatConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "websocket": AllowedHostsOriginValidator(
            URLRouter([re_path(r"^ws/chat/(?P<room_name>[\w-]+)/$", ChatConsumer.as_asgi())])
        ),
    }
)
