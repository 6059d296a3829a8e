"""Mutes and bans, read and written in the caller's database thread."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from ..models import Sanction


def active(user_id: int, kind: str, room_id: int | None, now: datetime) -> Sanction | None:
    """The sanction of ``kind`` in force for the user (a room's or the expo-wide one)."""
    qs = Sanction.objects.filter(user_id=user_id, kind=kind, lifted_at__isnull=True).filter(
        Q(until__isnull=True) | Q(until__gt=now)
    )
    if kind == Sanction.Kind.MUTE:
        qs = qs.filter(Q(room__isnull=True) | Q(room_id=room_id))
    return qs.order_by("-until").first()
