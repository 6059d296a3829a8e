"""Channels' auth middleware, without a database thread hop for anonymous handshakes.

``channels.auth.AuthMiddleware`` resolves the user in a database thread on every handshake,
even when the request carries no session at all. A connection without a session key can only
be anonymous, so that case is answered on the event loop.

The session middleware does not wrap a WebSocket's ``send`` (see
:class:`WebSocketSessionMiddleware`), so that the stack can run for the handshake only
(:mod:`hallserver.realtime.handshake`).
"""

from __future__ import annotations

from importlib import import_module

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import LazyObject


class WebSocketSessionMiddleware:
    """Channels' ``SessionMiddleware`` for WebSocket connections: ``scope["session"]`` is
    the Django session named by the session cookie, loaded lazily, as Channels makes it.

    Channels also wraps ``send``, to save a modified session when an ``http.response.start``
    goes out, which a WebSocket never sends; its wrapper (and the wrapper's copy of the scope)
    would stay with every connection for nothing. Here ``send`` is passed on as it is. Other
    scopes go through Channels' middleware.
    """

    def __init__(self, inner):
        self.inner = inner
        self._channels = SessionMiddleware(inner)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket" or "session" in scope:
            return await self._channels(scope, receive, send)
        if "cookies" not in scope:
            raise ValueError("No cookies in scope - SessionMiddleware needs to run inside of "
                             "CookieMiddleware.")
        store = import_module(settings.SESSION_ENGINE).SessionStore
        session = LazyObject()
        session._wrapped = store(scope["cookies"].get(settings.SESSION_COOKIE_NAME))
        return await self.inner(dict(scope, session=session), receive, send)


class HallAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        session = scope.get("session")
        if session is not None and not session.session_key:
            scope["user"]._wrapped = AnonymousUser()
            return
        await super().resolve_scope(scope)


def HallAuthMiddlewareStack(inner):
    return CookieMiddleware(WebSocketSessionMiddleware(HallAuthMiddleware(inner)))
