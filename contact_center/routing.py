"""WebSocket routes.

The console socket needs a logged-in agent and a same-site Origin (ALLOWED_HOSTS); the widget socket
checks its own signed token and the inbox's allowed origins, so it sits outside the session stack.
"""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from contact_center.consumers import AgentConsumer
from widget.consumers import VisitorConsumer

websocket_urlpatterns = [
    path("ws/console/", AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi()))),
    path("ws/widget/", VisitorConsumer.as_asgi()),
]
