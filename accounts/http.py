"""What the HTTP routers of accounts and recruitment share: session auth in the API's error
shape.

CSRF is checked for every unsafe operation by the API itself (``hallserver/api.py`` puts
Django's check in front of every operation), and throttles go through the one rate-limit
service (``booths/services/ratelimit.py``) keyed by :func:`hallserver.api.client_address`,
re-exported here.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import SessionAuth

from hallserver.api import ApiError, client_address

__all__ = ["LoggedIn", "client_address", "logged_in"]


class LoggedIn(SessionAuth):
    """The session's user, or 401 ``auth.required``."""

    def _get_key(self, request: HttpRequest) -> str | None:
        # No CSRF check of its own: the API's check has run before any operation.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        if request.user.is_authenticated:
            return request.user
        raise ApiError(401, "auth.required", "Log in first.")


logged_in = LoggedIn()
