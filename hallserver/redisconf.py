"""How every Redis client of a web process connects: one place for retries and health checks.

Redis may restart (it keeps nothing on disk here) or the network to it may drop. Then the
pooled connections are dead, and without help each one fails the first request that draws
it. So every pool Hallserver makes (presence, live-video state, the rate limits' storage and
the channels-redis pub/sub layer the hub subscribes through) is built with these options:

- a command that fails with a connection error or a timeout is retried on a fresh
  connection, with exponential backoff and jitter (``HALLSERVER_REDIS_RETRIES`` times,
  waits from 50 ms up to 1 s): a stale connection costs a reconnect, not a failed request;
- a connection idle for ``HALLSERVER_REDIS_HEALTH_CHECK`` seconds is PINGed before use (this
  finds connections whose peer vanished without closing them), and TCP keepalive with short
  timers is on (it finds them even when nothing is sent, e.g. the pub/sub connection);
- connecting and each read have time limits (``HALLSERVER_REDIS_TIMEOUT``), so a Redis that
  does not answer at all fails fast instead of hanging a request.

Retrying is safe for reads and for idempotent writes. Presence's scripts are not idempotent
(a retry after a reply was lost could count a connection twice), so presence passes
``on_failure``: any failure marks its state for a rebuild from the process's own sockets,
which replaces whatever the retry may have doubled (see booths/services/presence.py).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, TimeoutError

# A connection whose peer vanished without a word (a host or a NAT entry gone) is found by
# TCP itself within about half a minute: probes after 10 s idle, 3 unanswered 5 s apart, and
# unacknowledged writes give up after 20 s (Linux; other systems keep their defaults).
KEEPALIVE = {getattr(socket, name): value for name, value in (
    ("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3),
    ("TCP_USER_TIMEOUT", 20_000)) if hasattr(socket, name)}


class NotingRetry(Retry):
    """redis-py's retry, telling ``on_failure`` about every failed attempt."""

    def __init__(self, *args: Any, on_failure: Callable[[Exception], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A plain function: connections deep-copy their retry object, and a deep copy of a
        # bound method would copy its object too.
        self.on_failure = on_failure

    async def call_with_retry(self, do, fail, is_retryable=None, with_failure_count=False):
        on_failure = self.on_failure
        if on_failure is None:
            return await super().call_with_retry(do, fail, is_retryable, with_failure_count)

        async def failed(error, *count):
            on_failure(error)
            return await fail(error, *count)

        return await super().call_with_retry(do, failed, is_retryable, with_failure_count)


def options(conf: dict | None = None,
            on_failure: Callable[[Exception], None] | None = None) -> dict[str, Any]:
    """Keyword arguments for ``ConnectionPool.from_url`` (and channels-redis' host dict),
    from ``conf`` (the ``HALLSERVER`` settings; settings.py passes its own while loading)."""
    conf = settings.HALLSERVER if conf is None else conf
    timeout = conf["REDIS_TIMEOUT"]
    return {
        "retry": NotingRetry(ExponentialWithJitterBackoff(base=0.05, cap=1.0),
                             conf["REDIS_RETRIES"], on_failure=on_failure),
        "retry_on_error": [ConnectionError, TimeoutError, socket.timeout],
        "health_check_interval": conf["REDIS_HEALTH_CHECK"],
        "socket_keepalive": True,
        "socket_keepalive_options": KEEPALIVE,
        "socket_connect_timeout": timeout,
        "socket_timeout": timeout,
    }


def pool(url: str, max_connections: int,
         on_failure: Callable[[Exception], None] | None = None) -> aioredis.ConnectionPool:
    """A pool with these options that waits (up to 30 s) for a free connection when all
    ``max_connections`` are in use instead of failing: a burst of handshakes queues."""
    return aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=30, **options(on_failure=on_failure))
