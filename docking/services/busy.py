"""Busy cells: one person's 5-minute steps of time, held by an accepted meeting or a booked
interview. The unique constraint ``(user, cell)`` of :class:`~docking.models.BusyCell` is the
one judge of "two commitments at once" for both apps: whoever inserts a taken cell gets an
``IntegrityError`` and rolls back, whichever process or database (docs/docking.md).
"""

from __future__ import annotations

from datetime import datetime

from ..models import BusyCell

CELL = 300  # seconds: the grid


def cells(starts_at: datetime, ends_at: datetime) -> range:
    """The cells a time touches: a meeting lies on the grid; an interview slot may start or
    end inside a cell, which it then takes whole."""
    return range(int(starts_at.timestamp()) // CELL, -(-int(ends_at.timestamp()) // CELL))


def hold(user_ids, starts_at: datetime, ends_at: datetime, *, meeting_id: int | None = None,
         slot_id: int | None = None) -> None:
    """Take the cells of ``user_ids`` for that time, for one meeting or one interview slot.
    Raises ``IntegrityError`` when any is taken: call it inside the caller's transaction and
    map the error outside it."""
    BusyCell.objects.bulk_create([
        BusyCell(user_id=uid, cell=cell, meeting_id=meeting_id, slot_id=slot_id)
        for uid in sorted(set(user_ids)) for cell in cells(starts_at, ends_at)])


def free(*, meeting_id: int | None = None, slot_id: int | None = None) -> None:
    """Give back the cells of a meeting or of an interview slot."""
    if meeting_id is not None:
        BusyCell.objects.filter(meeting_id=meeting_id).delete()
    if slot_id is not None:
        BusyCell.objects.filter(slot_id=slot_id).delete()
