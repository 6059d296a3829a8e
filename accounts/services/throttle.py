"""Per-address throttles of sign-up and upgrade (moving windows, ``limits`` library).

HTTP views run in threads, so this uses the synchronous ``limits`` API: one storage per
process, shared through Redis when there is one, so every process counts the same attempts.
"""

from __future__ import annotations

import functools
import time

from django.conf import settings
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


@functools.cache
def _limiter() -> MovingWindowRateLimiter:
    if settings.REDIS_URL:
        storage = storage_from_string(
            settings.REDIS_URL, key_prefix=settings.HALLSERVER["REDIS_PREFIX"] + "rl")
    else:
        storage = storage_from_string("memory://")
    return MovingWindowRateLimiter(storage)


def reset() -> None:
    """Forget the limiter (tests change the settings)."""
    _limiter.cache_clear()


def hit(action: str, address: str) -> float | None:
    """Count one attempt of ``action`` from ``address``: None if allowed, else seconds to wait."""
    item = parse(settings.HALLSERVER["RATE_SIGNUP_ADDRESS"])
    limiter = _limiter()
    if limiter.hit(item, action, address):
        return None
    stats = limiter.get_window_stats(item, action, address)
    return max(0.1, round(stats.reset_time - time.time(), 1))
