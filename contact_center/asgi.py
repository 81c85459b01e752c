"""ASGI entry point: HTTP through Django's WSGI handler on a pool of threads (wsgi_bridge.py),
WebSockets through Channels (routes in routing.py).

Every view is synchronous, and Django's ASGI handler runs each request on a thread of its own with a
thread hand-off per middleware hook and signal; the bridge hands the whole request to one thread of a
fixed pool and takes the response back whole, which on the same daphne is several times the requests
per second and, with a fixed set of threads, a fixed set of database connections (docs/decisions.md D14).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contact_center.settings")

# Sets Django up (settings, the app registry) before anything below imports models.
from contact_center.wsgi import application as django_wsgi_app  # noqa: E402, I001

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from contact_center.routing import websocket_urlpatterns  # noqa: E402
from contact_center.wsgi_bridge import WSGIBridge  # noqa: E402

http_app = WSGIBridge(
    django_wsgi_app, threads=settings.PARLEY_HTTP_THREADS, spool_max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE
)
application = ProtocolTypeRouter({"http": http_app, "websocket": URLRouter(websocket_urlpatterns)})
