"""WebSocket routes.

The console socket needs a logged-in agent and Parley's own Origin (scheme, host and port); the widget
socket checks its own signed token and the inbox's allowed origins, so it sits outside the session stack.
"""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import WebsocketDenier
from django.urls import path

from contact_center.consumers import AgentConsumer
from contact_center.lib.origins import is_parley_origin
from widget.consumers import VisitorConsumer


class ParleyOriginValidator:
    """Refuses (HTTP 403 at the handshake) a socket whose Origin is not Parley's own.

    The session cookie rides along with any site's handshake, so the Origin is what stops another site,
    or another port or scheme of this host, from opening a console with an agent's cookie. Channels'
    AllowedHostsOriginValidator compared host names only.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        if len(origins) == 1 and is_parley_origin(origins[0].decode("latin1")):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


websocket_urlpatterns = [
    path("ws/console/", ParleyOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi()))),
    path("ws/widget/", VisitorConsumer.as_asgi()),
]
