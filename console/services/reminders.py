"""The bell's reminder of a bookmarked roadshow, shortly before it starts.

Every server process sweeps for due reminders in the background (:class:`ReminderLoop`,
started with the process's first WebSocket, every ``CONSOLE["REMINDER_INTERVAL"]`` seconds);
``hallserver manage roadshow_reminders`` runs one sweep by hand. Each bookmark is claimed with
a conditional UPDATE, so however many processes sweep at once, each reminder is sent once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from booths.models import Roadshow
from hallserver.realtime.hub import cancel_and_wait
from recruitment.services.notices import notify

from ..models import Bookmark

log = logging.getLogger(__name__)

AHEAD = timedelta(minutes=10)


def remind_due(now: datetime | None = None) -> int:
    """Send ``roadshow.soon`` to everyone whose bookmarked roadshow starts within ``AHEAD``
    (and has not ended), once: each bookmark is claimed with a conditional UPDATE, so several
    processes running this at once send each reminder once."""
    now = now or timezone.now()
    due = (Bookmark.objects.filter(reminded=False, roadshow__starts_at__lte=now + AHEAD,
                                   roadshow__ends_at__gt=now)
           .exclude(roadshow__state=Roadshow.State.ENDED)
           .select_related("roadshow"))
    sent = 0
    for mark in due:
        with transaction.atomic():
            if not Bookmark.objects.filter(pk=mark.pk, reminded=False).update(reminded=True):
                continue
            show = mark.roadshow
            notify([mark.user_id], "roadshow.soon", {
                "roadshow": show.pk, "title": show.title, "booth": show.booth_id,
                "starts_at": show.starts_at.isoformat()})
            sent += 1
    return sent


class ReminderLoop:
    """One process's background sweep for due reminders.

    ``clock`` gives "now" for each sweep (tests pass their own); ``interval`` is the pause
    between sweeps in seconds (``CONSOLE["REMINDER_INTERVAL"]`` unless given; ``0``: no loop,
    only sweeps run by hand)."""

    def __init__(self, clock: Callable[[], datetime] = timezone.now,
                 interval: float | None = None) -> None:
        self.clock = clock
        self._interval = interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None

    @property
    def interval(self) -> float:
        if self._interval is not None:
            return self._interval
        return settings.CONSOLE["REMINDER_INTERVAL"]

    async def sweep(self) -> int:
        """One sweep now (by ``clock``): the number of reminders this sweep sent."""
        return await database_sync_to_async(remind_due)(self.clock())

    async def start(self) -> None:
        """Start the loop on the running event loop, once (a no-op while it runs)."""
        loop = asyncio.get_running_loop()
        task = self._task
        if self._loop is loop and task is not None and not task.done():
            return
        if self.interval <= 0:
            return
        self._loop = loop
        self._task = loop.create_task(self._run(), name="console-reminders")

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._loop = None
        if task is not None:
            await cancel_and_wait([task])

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                sent = await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("roadshow reminder sweep failed")
            else:
                if sent:
                    log.info("roadshow reminders sent: %d", sent)


#: This process's loop (started by ``hallserver.realtime.jobs`` with its first WebSocket).
loop = ReminderLoop()
