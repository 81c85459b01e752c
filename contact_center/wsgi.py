"""WSGI entry point: Django's plain, synchronous request handler.

daphne serves it for every HTTP request, from a fixed pool of threads (asgi.py); it is also what a
WSGI server would run should an operator put plain HTTP on one of its own.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contact_center.settings")
application = get_wsgi_application()
