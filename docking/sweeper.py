"""The meeting sweep of this process: every ``DOCKING["SWEEP_INTERVAL"]`` seconds it sends due
reminders and marks finished meetings (:func:`docking.services.meetings.sweep`, by the
recruitment clock). Every process runs one; the sweep's conditional UPDATEs make that safe."""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from django.conf import settings

from recruitment import clock

from .services import meetings

log = logging.getLogger(__name__)
_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


async def ensure_started() -> None:
    """Start the sweep on the running event loop, once (not at all with an interval of 0).

    A process job (:mod:`hallserver.realtime.jobs`): registered in ``DockingConfig.ready``."""
    if settings.DOCKING["SWEEP_INTERVAL"] <= 0:
        return
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is None or task.done():
        _tasks[loop] = loop.create_task(_loop(), name="docking-sweep")


@database_sync_to_async
def _sweep_once() -> dict:
    return meetings.sweep(clock.now())


async def _loop() -> None:
    interval = settings.DOCKING["SWEEP_INTERVAL"]
    while True:
        await asyncio.sleep(interval)
        try:
            done = await _sweep_once()
            if any(done.values()):
                log.info("meeting sweep: %s", done)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("meeting sweep failed")
