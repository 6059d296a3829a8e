"""Rate limits.

Per user and per address, for actions that create content, with the ``limits`` library
(moving windows, shared through Redis when there is one). Per connection, for every action,
with :class:`ConnectionBudget`: a connection lives in one process, so its limit needs no shared
storage, and a few floats on the session cost far less memory and time per action than a
storage entry per socket.
"""

from __future__ import annotations

import asyncio
import time

from django.conf import settings
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter


class RateLimits:
    def __init__(self) -> None:
        conf = settings.HALLSERVER
        self.per_user = parse(conf["RATE_CHAT_USER"])
        self.per_address = parse(conf["RATE_CHAT_ADDRESS"])
        self.per_connection = parse(conf["RATE_ACTIONS_CONNECTION"])
        self._limiters: dict[asyncio.AbstractEventLoop, MovingWindowRateLimiter] = {}

    def _limiter(self) -> MovingWindowRateLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            if settings.REDIS_URL:
                storage = RedisStorage(
                    "async+" + settings.REDIS_URL, implementation="redispy",
                    key_prefix=settings.HALLSERVER["REDIS_PREFIX"] + "rl",
                )
            else:
                storage = MemoryStorage()
            limiter = self._limiters[loop] = MovingWindowRateLimiter(storage)
        return limiter

    async def _hit(self, item: RateLimitItem, *keys: str) -> float | None:
        """Count one hit; None if allowed, else seconds until the next one would be."""
        limiter = self._limiter()
        if await limiter.hit(item, *keys):
            return None
        stats = await limiter.get_window_stats(item, *keys)
        return max(0.1, round(stats.reset_time - time.time(), 1))

    async def content(self, action: str, user_id: int, address: str | None) -> float | None:
        wait = await self._hit(self.per_user, action, "user", str(user_id))
        if wait is None and address:
            wait = await self._hit(self.per_address, action, "addr", address)
        return wait

    def connection_budget(self) -> ConnectionBudget:
        """A fresh per-connection budget (``RATE_ACTIONS_CONNECTION``: N per period)."""
        return ConnectionBudget(self.per_connection.amount,
                                self.per_connection.get_expiry())


class ConnectionBudget:
    """A token bucket: ``amount`` actions per ``period`` seconds, refilled continuously."""

    __slots__ = ("amount", "rate", "stamp", "tokens")

    def __init__(self, amount: int, period: float) -> None:
        self.amount = amount
        self.rate = amount / period
        self.tokens = float(amount)
        self.stamp = time.monotonic()

    def take(self) -> float | None:
        """Spend one action; None if allowed, else seconds until one is available."""
        now = time.monotonic()
        self.tokens = min(self.amount, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return round(max(0.1, (1 - self.tokens) / self.rate), 1)
