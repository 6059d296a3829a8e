"""Rooms and who may enter them, with a short per-process cache of room facts."""

from __future__ import annotations

import time
from dataclasses import dataclass

from channels.db import database_sync_to_async

from ..models import BoothStaff, Room
from .identity import Visitor

CACHE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class RoomInfo:
    id: int
    kind: str
    title: str
    hall_id: int | None
    booth_id: int | None
    roadshow_id: int | None
    read_only: bool
    staff_ids: frozenset[int]

    def public(self, last_seq: int) -> dict:
        return {"id": self.id, "kind": self.kind, "title": self.title, "hall": self.hall_id,
                "booth": self.booth_id, "roadshow": self.roadshow_id,
                "read_only": self.read_only, "last_seq": last_seq}

    def is_staff(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.staff_ids


def may_enter(visitor: Visitor | None, room: RoomInfo) -> bool:
    """Public rooms are open to everyone; a booth's staff room to its staff and moderators."""
    if room.kind != Room.Kind.STAFF:
        return True
    return visitor is not None and (visitor.is_moderator or room.booth_id in visitor.staff_of)


class RoomDirectory:
    """Room facts cached for a few seconds; sequence counters are always read fresh."""

    def __init__(self) -> None:
        self._rooms: dict[int, tuple[float, RoomInfo | None]] = {}
        self._halls: dict[int, tuple[float, list[int]]] = {}
        self._lobbies: dict[int, int | None] = {}

    async def get(self, room_id: int) -> RoomInfo | None:
        hit = self._rooms.get(room_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        info = await database_sync_to_async(self._load)(room_id)
        self._rooms[room_id] = (time.monotonic() + CACHE_SECONDS, info)
        return info

    def invalidate(self, room_id: int | None = None) -> None:
        if room_id is None:
            self._rooms.clear()
            self._halls.clear()
        else:
            self._rooms.pop(room_id, None)

    @staticmethod
    def _load(room_id: int) -> RoomInfo | None:
        room = Room.objects.filter(pk=room_id).first()
        if room is None:
            return None
        staff: frozenset[int] = frozenset()
        if room.booth_id is not None:
            staff = frozenset(
                BoothStaff.objects.filter(booth_id=room.booth_id).values_list("user_id", flat=True)
            )
        return RoomInfo(room.pk, room.kind, room.title, room.hall_id, room.booth_id,
                        room.roadshow_id, room.read_only, staff)

    async def booth_rooms_of_hall(self, hall_id: int) -> list[int]:
        hit = self._halls.get(hall_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        rooms = await database_sync_to_async(
            lambda: list(
                Room.objects.filter(kind=Room.Kind.BOOTH, hall_id=hall_id)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        )()
        self._halls[hall_id] = (time.monotonic() + CACHE_SECONDS, rooms)
        return rooms


    async def lobby_of_hall(self, hall_id: int) -> int | None:
        if hall_id not in self._lobbies:
            self._lobbies[hall_id] = await database_sync_to_async(
                lambda: Room.objects.filter(kind=Room.Kind.LOBBY, hall_id=hall_id)
                .values_list("pk", flat=True).first()
            )()
        return self._lobbies[hall_id]


directory = RoomDirectory()
