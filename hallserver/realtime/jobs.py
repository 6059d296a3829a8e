"""Periodic jobs every server process runs beside its hub, started with its first WebSocket.

An app registers a job once (from its ``AppConfig.ready``) as a coroutine function that starts
it: :func:`start` calls each of them on every connection, so each must return at once when its
job already runs on this event loop (see ``console.services.reminders.ReminderLoop``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

_starters: dict[str, Callable[[], Awaitable[None]]] = {}


def register(name: str, start: Callable[[], Awaitable[None]]) -> None:
    """Run ``start()`` with every connection from now on (a second registration of ``name``
    replaces the first)."""
    _starters[name] = start


async def start() -> None:
    """Make sure every registered job runs in this process (a job that cannot start is logged;
    the connection carries on)."""
    for name, begin in _starters.items():
        try:
            await begin()
        except Exception:
            log.exception("could not start the process job %s", name)
