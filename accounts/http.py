"""What the HTTP routers of accounts and recruitment share: session auth in the API's error
shape, CSRF for anonymous posts, and the caller's address for throttles."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.security import SessionAuth
from ninja.utils import check_csrf

from hallserver.api import ApiError

from .services import AccountError


class LoggedIn(SessionAuth):
    """The session's user, or 401 ``auth.required``; unsafe methods need the CSRF token."""

    def _get_key(self, request: HttpRequest) -> str | None:
        require_csrf(request)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        if request.user.is_authenticated:
            return request.user
        raise ApiError(401, "auth.required", "Log in first.")


logged_in = LoggedIn()


def require_csrf(request: HttpRequest) -> None:
    if check_csrf(request) is not None:
        raise ApiError(403, "csrf.failed", "The CSRF token is missing or wrong; reload the page.")


def client_address(request: HttpRequest) -> str:
    if settings.PROXY_HEADERS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def api_error(exc: AccountError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message, **exc.extra)
