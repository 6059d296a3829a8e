"""The recruitment clock: when an interview slot may be joined.

``now()`` is the server's time, plus the offset in :class:`~recruitment.models.ClockOffset`
when ``HALLSERVER_RECRUIT_TEST_CLOCK`` is on, so that a browser test can move to the time of an
interview without waiting for it (``manage recruit_clock --offset SECONDS``). Unit tests pass
``now`` to the services instead.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone


def now() -> datetime:
    current = timezone.now()
    if settings.RECRUITMENT["TEST_CLOCK"]:
        from .models import ClockOffset

        offset = ClockOffset.objects.values_list("seconds", flat=True).first()
        if offset:
            current += timedelta(seconds=offset)
    return current
