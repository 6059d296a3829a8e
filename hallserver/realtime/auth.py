"""Channels' auth middleware, without a database thread hop for anonymous handshakes.

``channels.auth.AuthMiddleware`` resolves the user in a database thread on every handshake,
even when the request carries no session at all. A connection without a session key can only
be anonymous, so that case is answered on the event loop.
"""

from __future__ import annotations

from channels.auth import AuthMiddleware
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.contrib.auth.models import AnonymousUser


class HallAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope):
        session = scope.get("session")
        if session is not None and not session.session_key:
            scope["user"]._wrapped = AnonymousUser()
            return
        await super().resolve_scope(scope)


def HallAuthMiddlewareStack(inner):
    return CookieMiddleware(SessionMiddleware(HallAuthMiddleware(inner)))
