"""Run a WebSocket's ASGI middleware for the handshake only, then the consumer alone.

Channels' middleware (origin check, cookies, session, auth, URL routing) are coroutines that
await the application inside them. For as long as a socket is open, each layer's suspended
frame and its own copy of the scope stay in memory: ten coroutines and five scope copies per
connection (about 4 KB) to keep values that were needed once, during the handshake.

:class:`HandshakeStack` runs the same middleware, but the routes' applications are replaced by
a stand-in (:func:`handshake_routes`) that records where the connection goes (the route's
application and the scope, ``receive`` and ``send`` as the middleware made them) and returns.
Once the middleware has returned, the recorded application runs on its own.

This suits middleware that prepares the scope, or answers the connection itself (the origin
check's denial runs inside the stack as before), and does nothing after its inner application
returns; such work would now run before the application instead of after it. Channels'
``OriginValidator``, ``CookieMiddleware``, ``AuthMiddleware`` and ``URLRouter`` qualify.
Channels' ``SessionMiddleware`` also wraps ``send`` (to save sessions on HTTP responses), which
would keep its wrapper with every connection: see
:class:`hallserver.realtime.auth.WebSocketSessionMiddleware`.
"""

from __future__ import annotations

import time
from typing import Any

from channels.routing import ProtocolTypeRouter
from django.urls import URLPattern

_ARRIVAL = "hallserver.handshake"
#: Scope key: ``time.perf_counter()`` when the connection reached the application (for the
#: handshake latency metric).
ARRIVED = "hallserver.arrived"


class _Arrival:
    """A route's application inside a :class:`HandshakeStack`: records the connection and
    returns. Outside one (no arrival list in the scope) it simply runs the application."""

    __slots__ = ("app",)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        arrival = scope.pop(_ARRIVAL, None)
        if arrival is None:
            return await self.app(scope, receive, send)
        arrival.append((self.app, scope, receive, send))
        return None


def handshake_routes(patterns: list[URLPattern]) -> list[URLPattern]:
    """``path()`` entries for a ``URLRouter`` inside a :class:`HandshakeStack`: the same
    patterns, whose applications the stack runs after the middleware."""
    return [URLPattern(p.pattern, _Arrival(p.callback), p.default_args, p.name)
            for p in patterns]


class HandshakeStack:
    """An ASGI application: ``stack`` (middleware around a ``URLRouter`` of
    :func:`handshake_routes`) for the handshake, then the routed application."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack

    async def __call__(self, scope, receive, send):
        arrival: list[tuple] = []
        await self.stack({**scope, _ARRIVAL: arrival, ARRIVED: time.perf_counter()}, receive,
                         send)
        if not arrival:
            return None  # the middleware answered the connection itself (e.g. a bad origin)
        app, scope, receive, send = arrival.pop()
        del arrival
        consumer_class = getattr(app, "consumer_class", None)
        if consumer_class is not None:
            # Channels' as_asgi(): make the consumer here, which spares one more frame.
            app = consumer_class(**app.consumer_initkwargs)
        inner = app(scope, receive, send)
        del app, scope, receive, send  # only the application keeps what it needs
        return await inner


class TypeRouter(ProtocolTypeRouter):
    """Channels' ``ProtocolTypeRouter``, without keeping the handshake's scope (the
    connection's first scope, headers and all) in its frame while the application runs."""

    async def __call__(self, scope, receive, send):
        application = self.application_mapping.get(scope["type"])
        if application is None:
            raise ValueError(f"No application configured for scope type {scope['type']!r}")
        inner = application(scope, receive, send)
        del scope, receive, send
        return await inner
