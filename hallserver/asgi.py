"""ASGI entry point: HTTP through Django, WebSockets through the Hallserver consumer.

WebSockets are wrapped in the origin check (only ``ALLOWED_HOSTS`` may open them) and the
session/auth middleware (Channels', answering anonymous handshakes without a database hop).
The middleware runs for the handshake only, then the consumer runs on its own, so that an open
socket does not keep every layer's frame and scope (see :mod:`hallserver.realtime.handshake`).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hallserver.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from channels.routing import URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from booths.routing import websocket_urlpatterns  # noqa: E402
from hallserver.health import HealthEndpoints  # noqa: E402
from hallserver.realtime.auth import HallAuthMiddlewareStack  # noqa: E402
from hallserver.realtime.handshake import (  # noqa: E402
    HandshakeStack,
    TypeRouter,
    handshake_routes,
)

http_app = django_asgi_app
if settings.SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    http_app = ASGIStaticFilesHandler(django_asgi_app)
# /healthz and /readyz are answered before Django (no middleware, no host check).
http_app = HealthEndpoints(http_app)

application = TypeRouter(
    {
        "http": http_app,
        "websocket": HandshakeStack(AllowedHostsOriginValidator(
            HallAuthMiddlewareStack(URLRouter(handshake_routes(websocket_urlpatterns)))
        )),
    }
)
if settings.PROXY_HEADERS:
    from hallserver.forwarded import ForwardedFor

    # The client address from X-Forwarded-For, believed from trusted proxies only.
    application = ForwardedFor(application, settings.TRUSTED_PROXIES)
