"""Rate limits.

Per user and per address, for actions that create content, with the ``limits`` library
(moving windows, shared through Redis when there is one). Per connection, for every action,
with :class:`ConnectionBudget`: a connection lives in one process, so its limit needs no shared
storage, and a few floats on the session cost far less memory and time per action than a
storage entry per socket.

The HTTP side's limits (guest entry per address, login per address and per account, sign-up
and guest upgrade per address) use the
same windows through the library's synchronous API, since Django runs those views in a thread:
one storage per process, shared through Redis between processes.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time

from django.conf import settings
from limits import RateLimitItem, parse
from limits import storage as sync_storage
from limits import strategies as sync_strategies
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from hallserver import redisconf
from hallserver.errors import DomainError

# Seconds a synchronous Redis call of the HTTP limits may take before it fails.
REDIS_TIMEOUT = 2.0


class LimitsUnavailable(DomainError):
    """The shared rate-limit storage (Redis) did not answer: nothing was let through
    (``server.unavailable``)."""

    def __init__(self, detail: str) -> None:
        super().__init__("server.unavailable",
                         "The server cannot count requests right now; try again shortly.")
        self.detail = detail


class RateLimits:
    def __init__(self) -> None:
        conf = settings.HALLSERVER
        self.per_user = parse(conf["RATE_CHAT_USER"])
        self.per_address = parse(conf["RATE_CHAT_ADDRESS"])
        self.per_connection = parse(conf["RATE_ACTIONS_CONNECTION"])
        self.guest_per_address = parse(conf["RATE_GUEST_ADDRESS"])
        self.login_per_address = parse(conf["RATE_LOGIN_ADDRESS"])
        self.login_failures_per_account = parse(conf["RATE_LOGIN_ACCOUNT"])
        self.signup_per_address = parse(conf["RATE_SIGNUP_ADDRESS"])
        self._limiters: dict[asyncio.AbstractEventLoop, MovingWindowRateLimiter] = {}
        self._sync: sync_strategies.MovingWindowRateLimiter | None = None
        self._sync_lock = threading.Lock()

    def _limiter(self) -> MovingWindowRateLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.get(loop)
        if limiter is None:
            if settings.REDIS_URL:
                storage = RedisStorage(
                    "async+" + settings.REDIS_URL, implementation="redispy",
                    key_prefix=settings.HALLSERVER["REDIS_PREFIX"] + "rl",
                    # Retries and health checks like every Redis client here.
                    connection_pool=redisconf.pool(settings.REDIS_URL,
                                                   settings.REDIS_POOL_SIZE),
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

    # --- HTTP (synchronous) ------------------------------------------------------------------

    def _sync_limiter(self) -> sync_strategies.MovingWindowRateLimiter:
        with self._sync_lock:
            if self._sync is None:
                if settings.REDIS_URL:
                    storage = sync_storage.RedisStorage(
                        settings.REDIS_URL, wrap_exceptions=True,
                        key_prefix=settings.HALLSERVER["REDIS_PREFIX"] + "rl",
                        socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT,
                    )
                else:
                    storage = sync_storage.MemoryStorage()
                self._sync = sync_strategies.MovingWindowRateLimiter(storage)
            return self._sync

    def _wait(self, limiter: sync_strategies.MovingWindowRateLimiter, item: RateLimitItem,
              *keys: str) -> float:
        stats = limiter.get_window_stats(item, *keys)
        return max(0.1, round(stats.reset_time - time.time(), 1))

    def _sync_call(self, check):
        try:
            return check(self._sync_limiter())
        except StorageError as exc:
            raise LimitsUnavailable(str(exc)) from exc

    def guest_entry(self, address: str) -> float | None:
        """Count one guest entry from ``address``; None if allowed, else seconds to wait."""
        def check(limiter):
            item = self.guest_per_address
            if limiter.hit(item, "guest", "addr", address):
                return None
            return self._wait(limiter, item, "guest", "addr", address)
        return self._sync_call(check)

    def signup(self, address: str) -> float | None:
        """Count one sign-up or guest upgrade from ``address`` (one budget for both, checked
        before any password is validated or hashed); None if allowed, else seconds to
        wait."""
        def check(limiter):
            item = self.signup_per_address
            if limiter.hit(item, "signup", "addr", address):
                return None
            return self._wait(limiter, item, "signup", "addr", address)
        return self._sync_call(check)

    def login_attempt(self, address: str, account: str) -> float | None:
        """Before a password is checked: count the attempt from ``address`` and look whether
        ``account`` has had too many failures. None if the password may be checked, else
        seconds to wait (and the password must not be checked, which is the point: checking
        one costs the server a quarter of a second of CPU)."""
        def check(limiter):
            item = self.login_per_address
            if not limiter.hit(item, "login", "addr", address):
                return self._wait(limiter, item, "login", "addr", address)
            item, key = self.login_failures_per_account, _account_key(account)
            if not limiter.test(item, "login", "account", key):
                return self._wait(limiter, item, "login", "account", key)
            return None
        return self._sync_call(check)

    def login_failed(self, account: str) -> None:
        """Count a wrong password (or unknown name) against ``account``, from any address."""
        key = _account_key(account)
        self._sync_call(lambda limiter: limiter.hit(self.login_failures_per_account,
                                                    "login", "account", key))

    def connection_budget(self) -> ConnectionBudget:
        """A fresh per-connection budget (``RATE_ACTIONS_CONNECTION``: N per period)."""
        return ConnectionBudget(self.per_connection.amount,
                                self.per_connection.get_expiry())


def _account_key(account: str) -> str:
    """A fixed-length key for an account name as typed (case-folded, so that "Visitor" and
    "visitor" share one budget whatever the database's collation)."""
    return hashlib.sha256(account.strip().casefold().encode()).hexdigest()[:32]


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
