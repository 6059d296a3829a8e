"""The per-user notice feed: what is stored, how it is pushed live, how a client catches up.

A service stores its notices in the transaction of its change (:func:`notify`); after commit
each is pushed as ``recruit.notice`` to every socket of its user, on every process
(``hub.to_user``). Unread counts come from the database, so they survive reconnects.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from booths.models import BoothStaff
from hallserver.realtime.frames import event
from hallserver.realtime.hub import hub

from ..models import Application, Notice, Status

log = logging.getLogger(__name__)

SYNC_LIMIT = 200


def booth_staff(booth_id: int) -> list[int]:
    return list(BoothStaff.objects.filter(booth_id=booth_id).values_list("user_id", flat=True))


def unread(user_id: int) -> dict:
    """``notices``: the user's unread notices; ``booths``: per booth the user staffs, the
    applications nobody has opened yet."""
    booths = list(BoothStaff.objects.filter(user_id=user_id).values_list("booth_id", flat=True))
    fresh = {b: 0 for b in booths}
    if booths:
        rows = (Application.objects.filter(booth_id__in=booths, status=Status.SUBMITTED)
                .values("booth_id").annotate(n=Count("id")))
        fresh.update({r["booth_id"]: r["n"] for r in rows})
    return {"notices": Notice.objects.filter(user_id=user_id, read=False).count(),
            "booths": {str(b): n for b, n in fresh.items()}}


def notice_data(notice: Notice) -> dict:
    return {"id": notice.pk, "kind": notice.kind, "data": notice.data,
            "at": notice.at.isoformat(), "read": notice.read}


def notify(user_ids, kind: str, data: dict) -> None:
    """Store a notice for each user now; push them once the transaction commits."""
    notices = Notice.objects.bulk_create(
        [Notice(user_id=uid, kind=kind, data=data) for uid in dict.fromkeys(user_ids)])
    ids = [n.pk for n in notices]
    transaction.on_commit(lambda: push(ids))


def push(ids: list[int]) -> None:
    """Send stored notices to their users' sockets (wherever those are). A failure loses
    nothing: the notices are stored, and clients catch up with ``recruit.sync``."""
    try:
        _push(ids)
    except Exception:
        log.exception("recruitment: could not push notices %s live", ids)


def _push(ids: list[int]) -> None:
    frames = []
    for notice in Notice.objects.filter(pk__in=ids):
        frames.append((notice.user_id, event("recruit.notice", {
            **notice_data(notice), "unread": unread(notice.user_id)})))
    if frames:
        async_to_sync(_send)(frames)


async def _send(frames: list[tuple[int, str]]) -> None:
    for user_id, text in frames:
        await hub.to_user(user_id, text)


def sync(user_id: int, after: int) -> dict:
    """Every notice after id ``after`` (at most ``SYNC_LIMIT``; ``more`` says if there are
    more) and the unread counts: what a reconnecting client missed."""
    rows = list(Notice.objects.filter(user_id=user_id, pk__gt=after)[:SYNC_LIMIT + 1])
    more = len(rows) > SYNC_LIMIT
    rows = rows[:SYNC_LIMIT]
    return {"notices": [notice_data(n) for n in rows], "more": more,
            "last": rows[-1].pk if rows else after, "unread": unread(user_id)}


def mark_read(user_id: int, upto: int) -> dict:
    Notice.objects.filter(user_id=user_id, pk__lte=upto, read=False).update(read=True)
    return {"unread": unread(user_id)}


def prune(older_than: timedelta, now: datetime | None = None, batch: int = 5000) -> int:
    """Delete read notices older than ``older_than`` (unread ones stay however old), in
    batches so that no statement holds the table for long; returns how many went."""
    cutoff = (now or timezone.now()) - older_than
    gone = 0
    while True:
        ids = list(Notice.objects.filter(read=True, at__lt=cutoff)
                   .values_list("pk", flat=True)[:batch])
        if not ids:
            return gone
        gone += Notice.objects.filter(pk__in=ids).delete()[0]
