"""Rate limits with the ``limits`` library: shared through Redis when there is one.

Per user and per address for actions that create content, per connection for every action
(that one is local to the process, so it never needs Redis).
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
        self._shared: dict[asyncio.AbstractEventLoop, MovingWindowRateLimiter] = {}
        self._local: dict[asyncio.AbstractEventLoop, MovingWindowRateLimiter] = {}

    def _limiter(self, shared: bool) -> MovingWindowRateLimiter:
        loop = asyncio.get_running_loop()
        cache = self._shared if shared else self._local
        limiter = cache.get(loop)
        if limiter is None:
            if shared and settings.REDIS_URL:
                storage = RedisStorage(
                    "async+" + settings.REDIS_URL, implementation="redispy",
                    key_prefix=settings.HALLSERVER["REDIS_PREFIX"] + "rl",
                )
            else:
                storage = MemoryStorage()
            limiter = cache[loop] = MovingWindowRateLimiter(storage)
        return limiter

    async def _hit(self, item: RateLimitItem, shared: bool, *keys: str) -> float | None:
        """Count one hit; None if allowed, else seconds until the next one would be."""
        limiter = self._limiter(shared)
        if await limiter.hit(item, *keys):
            return None
        stats = await limiter.get_window_stats(item, *keys)
        return max(0.1, round(stats.reset_time - time.time(), 1))

    async def content(self, action: str, user_id: int, address: str | None) -> float | None:
        wait = await self._hit(self.per_user, True, action, "user", str(user_id))
        if wait is None and address:
            wait = await self._hit(self.per_address, True, action, "addr", address)
        return wait

    async def connection(self, connection_id: int) -> float | None:
        return await self._hit(self.per_connection, False, "conn", str(connection_id))
