"""The bell's reminder of a bookmarked roadshow, shortly before it starts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from booths.models import Roadshow
from recruitment.services.notices import notify

from ..models import Bookmark

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
