"""ASGI entry point: HTTP through Django's WSGI handler on a pool of threads, WebSockets through
Channels (routes in routing.py).

Every view is synchronous, and Django's ASGI handler runs each request on a thread of its own with a
thread hand-off per middleware hook and signal; a2wsgi hands the whole request to one thread of a
fixed pool instead. On the same daphne that is 2.8 times the requests per second for a trivial view
and, with a fixed set of threads, a fixed set of database connections (docs/decisions.md D14).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contact_center.settings")

# Sets Django up (settings, the app registry) before anything below imports models.
from contact_center.wsgi import application as django_wsgi_app  # noqa: E402, I001

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from contact_center.routing import websocket_urlpatterns  # noqa: E402

http_app = WSGIMiddleware(django_wsgi_app, workers=settings.PARLEY_HTTP_THREADS)
application = ProtocolTypeRouter({"http": http_app, "websocket": URLRouter(websocket_urlpatterns)})
