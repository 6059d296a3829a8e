"""Shared state of live video: knock queues, calls, roadshow assignments.

Everything that more than one process must see lives in Redis when ``settings.REDIS_URL`` is
set, and in a dict otherwise (one process). Both stores offer the same few operations, so the
call and roadshow logic is written once. Values are JSON; every key carries a time to live so
that state left behind by a crashed process goes away by itself.
"""

from __future__ import annotations

import asyncio
import time
from functools import cache
from typing import Any

import orjson
import redis.asyncio as aioredis
from django.conf import settings

from hallserver import redisconf


class MemoryStore:
    """Single-process store (no Redis)."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[float, Any]] = {}
        self.zsets: dict[str, dict[str, float]] = {}
        self.hashes: dict[str, dict[str, Any]] = {}

    def _live(self, key: str) -> Any:
        hit = self.values.get(key)
        if hit is None:
            return None
        if hit[0] and hit[0] < time.monotonic():
            del self.values[key]
            return None
        return hit[1]

    async def get(self, key: str) -> Any:
        return self._live(key)

    async def get_many(self, keys: list[str]) -> list[Any]:
        return [self._live(k) for k in keys]

    async def set(self, key: str, value: Any, ttl: float, nx: bool = False) -> bool:
        if nx and self._live(key) is not None:
            return False
        self.values[key] = (time.monotonic() + ttl if ttl else 0.0, value)
        return True

    async def delete(self, key: str) -> bool:
        return self.values.pop(key, None) is not None

    async def delete_if(self, key: str, expected: Any) -> bool:
        """Delete ``key`` only while it still holds ``expected``."""
        if self._live(key) != expected or key not in self.values:  # (_live drops expired keys)
            return False
        del self.values[key]
        return True

    async def zadd(self, key: str, member: str, score: float) -> None:
        self.zsets.setdefault(key, {})[member] = score

    async def zrem(self, key: str, member: str) -> bool:
        members = self.zsets.get(key, {})
        found = members.pop(member, None) is not None
        if not members:
            self.zsets.pop(key, None)
        return found

    async def zrange(self, key: str) -> list[str]:
        members = self.zsets.get(key, {})
        return sorted(members, key=lambda m: (members[m], m))

    async def hset(self, key: str, field: str, value: Any) -> None:
        self.hashes.setdefault(key, {})[field] = value

    async def hdel(self, key: str, field: str) -> bool:
        fields = self.hashes.get(key, {})
        found = fields.pop(field, None) is not None
        if not fields:
            self.hashes.pop(key, None)
        return found

    async def hgetall(self, key: str) -> dict[str, Any]:
        return dict(self.hashes.get(key, {}))

    async def incr(self, key: str, by: int, ttl: float) -> int:
        value = (self._live(key) or 0) + by
        self.values[key] = (time.monotonic() + ttl, value)
        return value


_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

#: Hashes and sorted sets live at most this long after their last change.
CONTAINER_TTL = 24 * 3600


class RedisStore:
    """The same operations on Redis, shared by every process."""

    def __init__(self, url: str, prefix: str, pool_size: int) -> None:
        self.url = url
        self.prefix = prefix
        self.pool_size = pool_size
        self._clients: dict[asyncio.AbstractEventLoop, tuple[aioredis.Redis, Any]] = {}

    def _client(self) -> tuple[aioredis.Redis, Any]:
        loop = asyncio.get_running_loop()
        hit = self._clients.get(loop)
        if hit is None:
            client = aioredis.Redis(connection_pool=redisconf.pool(self.url, self.pool_size))
            hit = self._clients[loop] = (client, client.register_script(_DELETE_IF))
        return hit

    @property
    def redis(self) -> aioredis.Redis:
        return self._client()[0]

    def k(self, key: str) -> str:
        return f"{self.prefix}{key}"

    async def get(self, key: str) -> Any:
        raw = await self.redis.get(self.k(key))
        return None if raw is None else orjson.loads(raw)

    async def get_many(self, keys: list[str]) -> list[Any]:
        if not keys:
            return []
        raws = await self.redis.mget([self.k(k) for k in keys])
        return [None if raw is None else orjson.loads(raw) for raw in raws]

    async def set(self, key: str, value: Any, ttl: float, nx: bool = False) -> bool:
        done = await self.redis.set(self.k(key), orjson.dumps(value),
                                    px=int(ttl * 1000) if ttl else None, nx=nx)
        return bool(done)

    async def delete(self, key: str) -> bool:
        return bool(await self.redis.delete(self.k(key)))

    async def delete_if(self, key: str, expected: Any) -> bool:
        client, script = self._client()
        return bool(await script(keys=[self.k(key)], args=[orjson.dumps(expected)],
                                 client=client))

    async def zadd(self, key: str, member: str, score: float) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(self.k(key), {member: score})
            pipe.expire(self.k(key), CONTAINER_TTL)
            await pipe.execute()

    async def zrem(self, key: str, member: str) -> bool:
        return bool(await self.redis.zrem(self.k(key), member))

    async def zrange(self, key: str) -> list[str]:
        return [m.decode() for m in await self.redis.zrange(self.k(key), 0, -1)]

    async def hset(self, key: str, field: str, value: Any) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.k(key), field, orjson.dumps(value))
            pipe.expire(self.k(key), CONTAINER_TTL)
            await pipe.execute()

    async def hdel(self, key: str, field: str) -> bool:
        return bool(await self.redis.hdel(self.k(key), field))

    async def hgetall(self, key: str) -> dict[str, Any]:
        raw = await self.redis.hgetall(self.k(key))
        return {f.decode(): orjson.loads(v) for f, v in raw.items()}

    async def incr(self, key: str, by: int, ttl: float) -> int:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incrby(self.k(key), by)
            pipe.expire(self.k(key), int(ttl))
            value, _ = await pipe.execute()
        return int(value)


Store = MemoryStore | RedisStore


@cache
def store() -> Store:
    """The process-wide store (cleared between tests with ``store.cache_clear()``)."""
    if settings.REDIS_URL:
        return RedisStore(settings.REDIS_URL, settings.HALLSERVER["REDIS_PREFIX"] + "live:",
                          settings.REDIS_POOL_SIZE)
    return MemoryStore()
