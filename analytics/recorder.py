"""Recording events off the delivery path (docs/console.md, "Recording off the delivery path").

:func:`Recorder.record` appends to an in-memory buffer and returns: no I/O, nothing awaited. A
background task of the event loop writes the buffer in batches (``bulk_create``) in a database
thread, every ``ANALYTICS["FLUSH_SECONDS"]`` or as soon as ``ANALYTICS["BATCH"]`` events wait.
Beyond ``ANALYTICS["BUFFER"]`` waiting events, new ones are dropped and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from datetime import UTC, datetime

from channels.db import database_sync_to_async
from django.conf import settings

log = logging.getLogger(__name__)

#: (kind, booth, roadshow, user, at (unix time), seconds)
Row = tuple[str, int | None, int | None, int | None, float, float]


class Recorder:
    def __init__(self) -> None:
        self.buffer: deque[Row] = deque()
        self.dropped = 0  # events refused because the buffer was full
        self.failed = 0  # events lost to a failed write
        self.written = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self._flush_lock: asyncio.Lock | None = None

    @property
    def conf(self) -> dict:
        return settings.ANALYTICS

    def record(self, kind: str, *, booth: int | None = None, roadshow: int | None = None,
               user: int | None = None, seconds: float = 0.0, at: float | None = None) -> None:
        """Remember one event; it is written within a flush interval. Never blocks."""
        conf = self.conf
        if len(self.buffer) >= conf["BUFFER"]:
            self.dropped += 1
            return
        self.buffer.append((kind, booth, roadshow, user, time.time() if at is None else at,
                            seconds))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop here (a sync caller): the next flush takes it
        if loop is not self._loop:
            self._start(loop)
        if len(self.buffer) >= conf["BATCH"]:
            self._wake.set()

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._wake = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._task = loop.create_task(self._run(), name="analytics-flush")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.conf["FLUSH_SECONDS"])
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # the loop must outlive a bad batch
                log.exception("analytics flush failed")

    def _take(self) -> list[Row]:
        rows = []
        limit = max(1, self.conf["BATCH"]) * 4
        while self.buffer and len(rows) < limit:
            rows.append(self.buffer.popleft())
        return rows

    async def flush(self) -> int:
        """Write everything waiting now (tests await this instead of waiting for the timer)."""
        lock = self._flush_lock
        if lock is None or self._loop is not asyncio.get_running_loop():
            self._start(asyncio.get_running_loop())
            lock = self._flush_lock
        written = 0
        async with lock:
            while self.buffer:
                rows = self._take()
                try:
                    await database_sync_to_async(write)(rows)
                except Exception:
                    self.failed += len(rows)
                    raise
                written += len(rows)
                self.written += len(rows)
        return written

    def flush_sync(self) -> int:
        """Write what is waiting from plain synchronous code (the server's shutdown)."""
        written = 0
        while self.buffer:
            rows = self._take()
            write(rows)
            written += len(rows)
        return written

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await self.flush()
        self._loop = None


def write(rows: list[Row]) -> None:
    """One batch: fill in the booth of roadshow events and the hall of every event, insert."""
    from booths.models import Booth, Roadshow

    from .models import Event

    shows = {r[2] for r in rows if r[2] is not None and r[1] is None}
    show_booth = dict(Roadshow.objects.filter(pk__in=shows).values_list("pk", "booth_id"))
    booths = {r[1] for r in rows if r[1] is not None} | set(show_booth.values())
    booth_hall = dict(Booth.objects.filter(pk__in=booths).values_list("pk", "hall_id"))
    events = []
    for kind, booth, roadshow, user, at, seconds in rows:
        if booth is None and roadshow is not None:
            booth = show_booth.get(roadshow)
        events.append(Event(kind=kind, booth_id=booth, hall_id=booth_hall.get(booth),
                            roadshow_id=roadshow, user_id=user,
                            at=datetime.fromtimestamp(at, UTC), seconds=seconds))
    Event.objects.bulk_create(events, batch_size=500)


recorder = Recorder()
record = recorder.record


# --- what the real-time code calls -------------------------------------------------------------

def visit_started(session, room) -> None:
    """A visitor joined ``room`` (a booth or roadshow room; others are ignored)."""
    if room.kind not in ("booth", "roadshow"):
        return
    user = session.visitor.id if session.visitor is not None else None
    if room.is_staff(user):
        return
    now = time.time()
    session.visits[room.id] = now
    record("enter", booth=room.booth_id, roadshow=room.roadshow_id, user=user, at=now)


def visit_ended(session, room) -> None:
    """The visitor left ``room`` (or closed the socket): the visit's length."""
    started = session.visits.pop(room.id, None)
    if started is None:
        return
    user = session.visitor.id if session.visitor is not None else None
    now = time.time()
    record("leave", booth=room.booth_id, roadshow=room.roadshow_id, user=user, at=now,
           seconds=now - started)
