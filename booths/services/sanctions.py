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


def in_force(user_id: int, room_id: int, now: datetime) -> tuple[Sanction | None, Sanction | None]:
    """The user's mute for ``room_id`` (its own or expo-wide) and ban in force, in one query
    (what :func:`active` answers for each, for the chat hot path)."""
    mute = ban = None
    rows = (Sanction.objects.filter(user_id=user_id, lifted_at__isnull=True)
            .filter(Q(until__isnull=True) | Q(until__gt=now))
            .filter(Q(kind=Sanction.Kind.BAN)
                    | Q(kind=Sanction.Kind.MUTE, room__isnull=True)
                    | Q(kind=Sanction.Kind.MUTE, room_id=room_id))
            .order_by("-until"))
    for row in rows:
        if row.kind == Sanction.Kind.MUTE:
            mute = mute or row
        else:
            ban = ban or row
    return mute, ban
