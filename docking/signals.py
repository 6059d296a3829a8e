"""Signals other apps listen to: ``meeting_changed`` is sent inside the transaction of every
change of a meeting that tells its people (asked, proposed, accepted, declined, cancelled), with
``meeting`` and ``kind`` (the notice kind). The exhibitor console refreshes the booth's inbox
counts from it after commit."""

from __future__ import annotations

from django.dispatch import Signal

meeting_changed = Signal()
