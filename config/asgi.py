"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Request bodies over their route's limit are refused before Django reads them (cdss.common.asgi).
Every WebSocket route is origin-checked and JWT-authenticated (cdss.common.websocket_auth).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from cdss.assistant.routing import websocket_urlpatterns as assistant_websockets  # noqa: E402
from cdss.common.asgi import BodyLimitMiddleware  # noqa: E402
from cdss.common.websocket_auth import JwtAuthMiddleware, origin_checked  # noqa: E402
from cdss.jobs.routing import websocket_urlpatterns as jobs_websockets  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(django_asgi_app),
        "websocket": origin_checked(
            JwtAuthMiddleware(URLRouter([*jobs_websockets, *assistant_websockets]))
        ),
    }
)
