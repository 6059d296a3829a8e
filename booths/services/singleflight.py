"""One load for many concurrent askers of the same thing.

When a cache misses during a burst (a handshake storm: two hundred joins of one room at once),
every asker would run the same database query in the thread pool. :class:`SingleFlight` lets
the first one load and the others await its result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class SingleFlight:
    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Task] = {}

    async def run(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """``await load()``, unless a load for ``key`` is already running: then its result.

        An asker that is cancelled does not cancel the load the others wait for."""
        loop = asyncio.get_running_loop()
        task = self._flights.get(key)
        if task is None or task.get_loop() is not loop:
            task = loop.create_task(load())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(task)

    def _landed(self, key: Hashable, task: asyncio.Task) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]

    def forget(self, key: Hashable | None = None) -> None:
        """Askers from now on start a new load (of ``key``, or of everything)."""
        if key is None:
            self._flights.clear()
        else:
            self._flights.pop(key, None)

    def forget_if(self, matches: Callable[[Hashable], bool]) -> None:
        for key in [k for k in self._flights if matches(k)]:
            del self._flights[key]
