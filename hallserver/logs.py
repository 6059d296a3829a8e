"""Structured logs (structlog), one line per event (docs/operations.md).

``HALLSERVER_LOG_FORMAT=json`` writes one JSON object per line; ``console`` (the default)
writes readable lines for the demo. Both carry ``timestamp``, ``level``, ``logger`` and
``event``, whether the line comes from a structlog logger or from a stdlib ``logging`` call
(Django, daphne, and Hallserver's own ``logging.getLogger(__name__)`` loggers go through
structlog's ``ProcessorFormatter``).

Lines about a WebSocket connection carry its ``conn_id`` and ``user_id``: the consumer binds
them for its own task (:func:`bind_connection`). asyncio copies the current context into every
task and callback it creates, so background work started while a connection's task ran
(the hub's reader, presence batches and flush timers, heartbeats) would inherit the binding
of whichever connection happened to start it; the binding therefore names its task, and
:func:`add_connection` adds the fields only on that task (or in a worker thread running a
database call for it). Explicit ``conn_id=...`` arguments always win.

This module is imported by the settings: it must not import Django.
"""

from __future__ import annotations

import asyncio
import sys
from contextvars import ContextVar
from typing import Any

import orjson
import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction

FORMATS = ("console", "json")

#: ``(conn_id, user_id, task)`` of the connection whose task this context belongs to.
_connection: ContextVar[tuple[int, int | None, asyncio.Task | None] | None] = ContextVar(
    "hallserver_connection", default=None)

_NOT_ON_LOOP = object()


def _current_task() -> Any:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop in this thread: a database thread, or sync code
        return _NOT_ON_LOOP


def bind_connection(conn_id: int, user_id: int | None) -> None:
    """Name the connection served by the current task on every line it logs."""
    task = _current_task()
    _connection.set((conn_id, user_id, None if task is _NOT_ON_LOOP else task))


def add_connection(logger: Any, method: str, event_dict: dict) -> dict:
    """structlog processor: ``conn_id`` and ``user_id`` of the connection bound in this task."""
    bound = _connection.get()
    if bound is None or "conn_id" in event_dict:
        return event_dict
    conn_id, user_id, task = bound
    current = _current_task()
    if current is task or current is _NOT_ON_LOOP:
        event_dict["conn_id"] = conn_id
        event_dict["user_id"] = user_id
    return event_dict


def _json(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


def shared_processors() -> list:
    """What every line gets, from structlog and stdlib loggers alike."""
    return [
        structlog.contextvars.merge_contextvars,
        add_connection,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def renderer(fmt: str) -> Any:
    if fmt == "json":
        return structlog.processors.JSONRenderer(serializer=_json)
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())


def formatter(fmt: str) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every handler: renders structlog events and stdlib records alike."""
    final = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if fmt == "json":
        final.append(structlog.processors.format_exc_info)
    final.append(renderer(fmt))
    return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared_processors(),
                                               processors=final)


def logging_config(fmt: str, level: str) -> dict:
    """Django's ``LOGGING``: one stream handler with the structured formatter."""
    if fmt not in FORMATS:
        raise ValueError(f"HALLSERVER_LOG_FORMAT must be one of {', '.join(FORMATS)}, "
                         f"not {fmt!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": formatter, "fmt": fmt}},
        "handlers": {"console": {"class": "logging.StreamHandler",
                                 "formatter": "structured"}},
        "root": {"handlers": ["console"], "level": level},
        # aioice (aiortc's ICE) logs every candidate pair's state change at INFO.
        "loggers": {"aioice": {"level": "WARNING"},
                    "daphne": {"level": "WARNING"},
                    # A refused request has our own "http refused" line; Django's 4xx
                    # warnings would repeat it. Server errors (ERROR) still come through.
                    "django.request": {"level": "ERROR"},
                    "django.channels.server": {"level": "WARNING"}},
    }


def configure_structlog() -> None:
    """structlog loggers hand their events to the stdlib logger of the same name, whose
    handler (above) renders them: one path, one format, stdlib levels and filters."""
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared_processors(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


# --- refused HTTP requests -----------------------------------------------------------------------

_refusals = structlog.get_logger("hallserver.http")


def _error_code(response: Any) -> str | None:
    """The ``code`` of the API's error shape ``{"error": {"code", "message"}}``, if it is one."""
    if getattr(response, "streaming", False) or not response.get(
            "Content-Type", "").startswith("application/json"):
        return None
    content = response.content
    if len(content) > 65536:
        return None
    try:
        error = orjson.loads(content).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return error.get("code") if isinstance(error, dict) else None


def _log_refusal(request: Any, response: Any) -> None:
    status = response.status_code
    if 400 <= status < 500:
        _refusals.info("http refused", method=request.method, path=request.path,
                       status=status, code=_error_code(response),
                       client=request.META.get("REMOTE_ADDR"))


class RefusalLogMiddleware:
    """One line per HTTP request answered with a 4xx status: method, path, status and the
    error code of the API's JSON error shape (None for other bodies, e.g. Django's CSRF
    page). Outermost in ``MIDDLEWARE``, so it sees what the other middleware refuse, and
    independent of the views (it reads only the response)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        response = self.get_response(request)
        _log_refusal(request, response)
        return response

    async def __acall__(self, request: Any) -> Any:
        response = await self.get_response(request)
        _log_refusal(request, response)
        return response
