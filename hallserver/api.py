"""The HTTP API: one django-ninja instance under ``/api/``, with its OpenAPI document.

Each domain app keeps its endpoints in ``<app>/api.py`` as a ``ninja.Router`` named
``router`` and is added here, so the schema at ``/api/openapi.json`` covers the whole API.
Every error under ``/api/`` leaves in the one shape of docs/api.md,
``{"error": {"code", "message"}}``: domain errors the services raise
(:class:`hallserver.errors.DomainError`, given a status by its code in one place,
:func:`domain_status`), errors the endpoints raise (:class:`ApiError`), schema validation
errors, CSRF and Origin refusals (:func:`csrf_failure`) and whatever Django or ninja answer on
their own (unknown paths, wrong methods, server errors: :class:`ApiErrorMiddleware`).

The API authenticates with Django's session cookie, so requests that change state need the
CSRF token like any form would: ninja marks its views CSRF-exempt, and the API puts Django's
own check back in front of every operation (:func:`csrf_protect` as a ninja view decorator).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import REASON_BAD_ORIGIN, REASON_BAD_REFERER
from django.shortcuts import render
from django.utils.deprecation import MiddlewareMixin
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import csrf_protect
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError
from ninja.openapi.docs import Swagger

from hallserver.errors import DomainError

API_PREFIX = "/api/"


def error_response(status: int, code: str, message: str, *,
                   headers: dict[str, str] | None = None, **extra: Any) -> JsonResponse:
    """The API's one error shape; ``extra`` goes beside ``code`` and ``message``."""
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status,
                        headers=headers)


class ApiError(Exception):
    """Raised by an endpoint to answer with the API's error shape."""

    def __init__(self, status: int, code: str, message: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra
        self.headers = headers


def rate_limited(wait: float, message: str) -> ApiError:
    """429 ``rate.limited``: ``retry_after`` seconds in the body (as on the WebSocket) and
    whole seconds in ``Retry-After``."""
    return ApiError(429, "rate.limited", message, retry_after=wait,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))})


def client_address(request: HttpRequest) -> str:
    """The client's address, for throttles: the ASGI server's ``client``, which daphne and
    uvicorn take from X-Forwarded-For when HALLSERVER_PROXY_HEADERS is set (as the WebSocket
    side does)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def throttle(wait: float | None, message: str) -> None:
    """429 when a rate-limit check (booths/services/ratelimit.py) answered a wait. (When its
    storage, Redis, does not answer, the check raises ``server.unavailable``, a 503: nothing
    is let through.)"""
    if wait is not None:
        raise rate_limited(wait, message)


# --- schemas shared by the apps' routers ------------------------------------------------------

class ErrorBody(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    """Every error answer: ``{"error": {"code", "message", ...}}`` (some codes add fields,
    e.g. ``retry_after`` on ``rate.limited``)."""

    error: ErrorBody


# The answers any operation may give besides its own: the schema did not match (422), the
# CSRF or Origin check refused (403), a server error (500).
COMMON_ERRORS: dict[int, type[Schema]] = {422: ErrorOut, 500: ErrorOut}
UNSAFE_ERRORS: dict[int, type[Schema]] = {403: ErrorOut, **COMMON_ERRORS}
# A throttled operation's further answers: over its limit (429), its counter store down (503).
THROTTLED: dict[int, type[Schema]] = {429: ErrorOut, 503: ErrorOut}


class SwaggerWithCsrf(Swagger):
    """ninja's Swagger UI (its own static files, no CDN), sending the CSRF token with the
    requests it tries out, since every unsafe method of this API checks it."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": json.dumps(self.settings, indent=1), "api": api,
                   "add_csrf": True}
        return render(request, self.template, context)


api = NinjaAPI(
    title="Hallserver API",
    version="1",
    description="The HTTP API of a Hallserver expo (docs/api.md). Live traffic goes over the "
    "WebSocket at /ws/ (docs/protocol.md). Sessions are Django session cookies; requests that "
    "change state send the `csrftoken` cookie's value as `X-CSRFToken`. Every error is "
    '`{"error": {"code": "...", "message": "..."}}`.',
    urls_namespace="api",
    docs=SwaggerWithCsrf(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
# Django's CSRF check, in front of every operation (ninja's views are CSRF-exempt): safe
# methods pass, unsafe ones need the token (and an accepted Origin), refusals answer through
# CSRF_FAILURE_VIEW, i.e. csrf_failure() below.
api.add_decorator(csrf_protect, mode="view")


def download(*content_types: str) -> dict:
    """``openapi_extra`` of a file download: its success answer in these content types."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {200: {"description": "A file download.",
                                "content": dict.fromkeys(content_types, binary)}}}


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers, **exc.extra)


# The HTTP status of a domain error, by its code (anything else a service refuses: 400).
DOMAIN_STATUS = {"auth.required": 401, "perm.denied": 403, "rate.limited": 429,
                 "server.unavailable": 503}


def domain_status(code: str) -> int:
    if code.endswith(".not_found"):
        return 404
    return DOMAIN_STATUS.get(code, 400)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    """A service's refusal, code, message and extra fields unchanged (as on the WebSocket)."""
    if exc.code == "rate.limited" and "retry_after" in exc.extra:
        return _api_error(request, rate_limited(exc.extra["retry_after"], exc.message))
    status = getattr(exc, "status", None) or domain_status(exc.code)
    return error_response(status, exc.code, exc.message, **exc.extra)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Query parameters that do not parse keep the API's older, plainer answer.
    if exc.errors and all(err.get("loc", ("",))[0] == "query" for err in exc.errors):
        fields = sorted({str(err["loc"][-1]) for err in exc.errors})
        return error_response(400, "query.invalid",
                              f"Invalid query parameter: {', '.join(fields)}.",
                              details=exc.errors)
    return error_response(422, "request.invalid", "The request does not match the API schema.",
                          details=exc.errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja's own refusals, e.g. 400 "Cannot parse request body" for a body that is not JSON.
    return error_response(exc.status_code, status_code(exc.status_code)[0], str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(404, "api.not_found", str(exc) or "Not found.")


# Other exceptions go on to Django (logged by django.request, got_request_exception sent) and
# its 500 answer becomes the API's error shape in ApiErrorMiddleware.


# --- errors Django answers before or around the API's views ------------------------------------

# "Origin checking failed - ..." and every "Referer checking failed - ...".
_ORIGIN_REASONS = tuple(reason.split(" - ")[0] for reason in (REASON_BAD_ORIGIN,
                                                              REASON_BAD_REFERER))


def is_api_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the API's JSON error under /api/, Django's page elsewhere.

    ``origin.refused`` when the request came from a page of another origin (the Origin or,
    over HTTPS, the Referer header names a site that is not this one nor trusted);
    ``csrf.failed`` when the token or cookie is missing or wrong."""
    if not is_api_path(request):
        return django_csrf_failure(request, reason=reason)
    if reason.startswith(_ORIGIN_REASONS):
        return error_response(403, "origin.refused", reason)
    return error_response(403, "csrf.failed",
                          f"CSRF check failed: {reason} Send the csrftoken cookie's value "
                          "as the X-CSRFToken header.")


# Codes for answers Django or ninja give on their own under /api/.
_STATUS_CODES = {
    400: ("request.malformed", "The request is malformed."),
    403: ("request.forbidden", "The request is not allowed."),
    404: ("api.not_found", "No such API endpoint or object."),
    405: ("method.not_allowed", "The endpoint does not answer this method."),
    413: ("request.too_large", "The request body is too large."),
    500: ("server.error", "The server failed to answer this request."),
}


def status_code(status: int, reason: str = "") -> tuple[str, str]:
    """The error code and a default message for an HTTP status."""
    return _STATUS_CODES.get(status, ("request.refused" if status < 500 else "server.error",
                                      reason or "The request was refused."))


class ApiErrorMiddleware(MiddlewareMixin):
    """Under /api/, turn any error answer that is not already JSON (an unknown path's 404,
    ninja's 405, Django's 400 for a bad Host, a server error's 500) into the API's error
    shape. The answer keeps its status and headers (``Allow``, the security headers); only
    its body and type change."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (response.status_code < 400 or not is_api_path(request)
                or getattr(response, "streaming", False)
                or response.get("Content-Type", "").startswith("application/json")):
            return response
        status = response.status_code
        code, message = status_code(status, response.reason_phrase)
        if status == 405 and response.has_header("Allow"):
            message = f"{message} Allowed: {response['Allow']}."
        response.content = orjson.dumps({"error": {"code": code, "message": message}})
        response["Content-Type"] = "application/json"
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response


# Domain routers. Each app's ``api.py`` defines ``router``; add it here.
api.add_router("", "booths.api.router", tags=["expo"])
api.add_router("", "accounts.api.router", tags=["accounts"])
api.add_router("", "recruitment.api.router", tags=["recruitment"])
api.add_router("", "console.api.router", tags=["console"])
api.add_router("", "docking.api.router", tags=["docking"])
api.add_router("", "search.api.router", tags=["search"])
