"""The HTTP API: one django-ninja instance under ``/api/``, with its OpenAPI document.

Each domain app keeps its endpoints in ``<app>/api.py`` as a ``ninja.Router`` named
``router`` and is added here, so the schema at ``/api/openapi.json`` covers the whole API.
Every error leaves in the one shape of docs/api.md: ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError


def error_response(status: int, code: str, message: str, **extra) -> JsonResponse:
    """The API's one error shape; ``extra`` goes beside ``code`` and ``message``."""
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


class ApiError(Exception):
    """Raised by an endpoint to answer with the API's error shape."""

    def __init__(self, status: int, code: str, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


api = NinjaAPI(
    title="Hallserver API",
    version="1",
    description="The HTTP API of a Hallserver expo (docs/api.md). Live traffic goes over the "
    "WebSocket at /ws/ (docs/protocol.md).",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, **exc.extra)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(422, "request.invalid", "The request does not match the API schema.",
                          details=exc.errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(exc.status_code, "request.refused", str(exc))


# Domain routers. Each app's ``api.py`` defines ``router``; add it here.
from accounts.api import router as accounts_router  # noqa: E402
from recruitment.api import router as recruitment_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/", recruitment_router)
