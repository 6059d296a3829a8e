"""Health checks for load balancers and container engines: ``/healthz`` and ``/readyz``.

Both are answered here, in front of Django (:class:`HealthEndpoints` wraps the HTTP side of
the ASGI application), so that they pass no middleware, no session and no ``ALLOWED_HOSTS``
check (probes often come by IP address) and do not wait for the thread Django runs its
synchronous code in:

- ``GET /healthz``: alive. The event loop answered; nothing else is touched. Always 200.
- ``GET /readyz``: ready to serve. The database answers ``SELECT 1``, Redis answers ``PING``
  (skipped when ``REDIS_URL`` is unset) and the channel layer carries a message there and back
  on a fresh channel, all at once, each within ``HALLSERVER_READY_TIMEOUT`` seconds. 200 when
  all pass, 503 naming the failing ones. The body has each check's result and duration.

docs/api.md describes both answers.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

HEALTHZ = "/healthz"
READYZ = "/readyz"


def _seconds() -> float:
    """How long each check may take (``HALLSERVER_READY_TIMEOUT``)."""
    return settings.HALLSERVER["READY_TIMEOUT"]


class CheckFailed(Exception):
    """A readiness check got an answer, but not the right one."""


def _select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone()[0] != 1:
            raise CheckFailed("SELECT 1 did not answer 1")


async def check_database() -> str | None:
    # database_sync_to_async closes a broken connection before and after, so a database that
    # came back is seen at the next check.
    await database_sync_to_async(_select_one)()
    return None


async def check_redis() -> str | None:
    if not settings.REDIS_URL:
        return "REDIS_URL is not set: one process, nothing shared"
    import redis.asyncio as aioredis

    seconds = _seconds()
    client = aioredis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=seconds,
                                     socket_timeout=seconds)
    try:
        if not await client.ping():
            raise CheckFailed("PING was not answered with PONG")
    finally:
        await client.aclose()
    return None


async def check_channel_layer() -> str | None:
    """A message there and back on a fresh channel, through a layer instance of its own built
    from ``CHANNEL_LAYERS['default']``: the same backend and Redis as the hub's, without
    touching the hub's subscriptions; flushed afterwards, which closes its connections."""
    layer = channel_layers.make_backend("default")
    try:
        channel = await layer.new_channel("health.")
        token = secrets.token_hex(8)
        await layer.send(channel, {"type": "health.check", "token": token})
        message = await layer.receive(channel)
        if message.get("token") != token:
            raise CheckFailed("another message came back")
    finally:
        # Bounded: a Redis that hangs must not hold the probe (or the connections) open.
        try:
            await asyncio.wait_for(layer.flush(), _seconds())
        except Exception as exc:  # the check's own outcome matters more
            log.warning("readiness: channel layer not flushed: %r", exc)
    return None


Check = Callable[[], Awaitable[str | None]]
CHECKS: dict[str, Check] = {
    "database": check_database,
    "redis": check_redis,
    "channel_layer": check_channel_layer,
}


async def _run(name: str, check: Check, seconds: float) -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {"ok": True}
    try:
        async with asyncio.timeout(seconds):
            note = await check()
        if note:
            result["skipped"] = note
    except TimeoutError:
        result = {"ok": False, "error": f"no answer within {seconds:g} s"}
    except Exception as exc:  # any failure is the answer
        # The type only: messages may name internal addresses, and the body is public.
        result = {"ok": False, "error": type(exc).__name__}
        log.warning("readiness check %s failed: %r", name, exc)
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


async def readiness() -> tuple[bool, dict[str, Any]]:
    """Run every check at once; (all passed, the body of /readyz)."""
    seconds = _seconds()
    names = list(CHECKS)
    results = await asyncio.gather(*(_run(name, CHECKS[name], seconds) for name in names))
    checks = dict(zip(names, results, strict=True))
    failing = [name for name, result in checks.items() if not result["ok"]]
    body: dict[str, Any] = {"status": "failing" if failing else "ok", "checks": checks}
    if failing:
        body["failing"] = failing
    return not failing, body


class HealthEndpoints:
    """ASGI middleware for the HTTP side: answers /healthz and /readyz, passes the rest on."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in (HEALTHZ, READYZ):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, scope, 405, {"error": {
                "code": "method.not_allowed", "message": "Use GET or HEAD."}},
                [(b"allow", b"GET, HEAD")])
            return
        if path == HEALTHZ:
            await _answer(send, scope, 200, {"status": "ok"})
            return
        ok, body = await readiness()
        await _answer(send, scope, 200 if ok else 503, body)


async def _answer(send: Callable, scope: dict, status: int, body: dict,
                  headers: list[tuple[bytes, bytes]] = ()) -> None:
    content = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        (b"cache-control", b"no-store"),
        *headers,
    ]})
    await send({"type": "http.response.body",
                "body": b"" if scope["method"] == "HEAD" else content})
