"""Rooms and who may enter them, with a short per-process cache of room facts."""

from __future__ import annotations

import time
from dataclasses import dataclass

from channels.db import database_sync_to_async

from ..models import BoothStaff, Room
from .singleflight import SingleFlight

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
    slow_mode: int = 0
    pinned_seq: int | None = None

    def public(self, last_seq: int) -> dict:
        return {"id": self.id, "kind": self.kind, "title": self.title, "hall": self.hall_id,
                "booth": self.booth_id, "roadshow": self.roadshow_id,
                "read_only": self.read_only, "slow_mode": self.slow_mode, "last_seq": last_seq}

    def is_staff(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.staff_ids


class RoomDirectory:
    """Room facts cached for a few seconds; sequence counters are always read fresh."""

    def __init__(self) -> None:
        self._rooms: dict[int, tuple[float, RoomInfo | None]] = {}
        self._halls: dict[int, tuple[float, frozenset[int]]] = {}
        self._lobbies: dict[int, int | None] = {}
        self._moderation: dict[int | None, int] = {}
        self._flights = SingleFlight()
        self._generation = 0  # bumped by invalidate(): a load started before is not cached

    async def get(self, room_id: int) -> RoomInfo | None:
        hit = self._rooms.get(room_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return await self._flights.run(room_id, lambda: self._fetch(room_id))

    async def _fetch(self, room_id: int) -> RoomInfo | None:
        generation = self._generation
        info = await database_sync_to_async(self._load)(room_id)
        if generation == self._generation:
            self._rooms[room_id] = (time.monotonic() + CACHE_SECONDS, info)
        return info

    def invalidate(self, room_id: int | None = None) -> None:
        self._generation += 1
        self._flights.forget(room_id)
        if room_id is None:
            self._rooms.clear()
            self._halls.clear()
            self._lobbies.clear()
            self._moderation.clear()
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
        return _info(room, staff)

    def preload(self, limit: int) -> int:
        """Cache the facts of up to ``limit`` rooms with two queries (synchronous: run it
        before serving). A restarted process meets its visitors' reconnect storm with the
        directory filled, instead of two queries per room in the thread pool while it
        handshakes. Entries expire as usual and are then loaded one by one."""
        if limit <= 0:
            return 0
        rooms = list(Room.objects.order_by("pk")[:limit])
        booths = {r.booth_id for r in rooms if r.booth_id is not None}
        staff: dict[int, set[int]] = {}
        for booth_id, user_id in (BoothStaff.objects.filter(booth_id__in=booths)
                                  .values_list("booth_id", "user_id")):
            staff.setdefault(booth_id, set()).add(user_id)
        expires = time.monotonic() + CACHE_SECONDS
        for room in rooms:
            self._rooms[room.pk] = (expires, _info(room, frozenset(staff.get(room.booth_id, ()))))
        return len(rooms)

    async def booth_room_set_of_hall(self, hall_id: int) -> frozenset[int]:
        """The ids of the hall's booth rooms, as a set kept for ``CACHE_SECONDS``: a lobby
        page's ``presence.counts`` looks its rooms up in it instead of building it."""
        hit = self._halls.get(hall_id)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        rooms = await database_sync_to_async(
            lambda: frozenset(
                Room.objects.filter(kind=Room.Kind.BOOTH, hall_id=hall_id)
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

    async def moderation_rooms(self, hall_id: int | None) -> list[int]:
        """The moderators' rooms that hear about a room of ``hall_id``: its hall's, the expo's."""
        halls = [hall_id, None] if hall_id is not None else [None]
        missing = [h for h in halls if h not in self._moderation]
        if missing:
            found = await database_sync_to_async(_moderation_rooms)(missing)
            self._moderation.update(found)
        return [self._moderation[h] for h in halls if h in self._moderation]


def _info(room: Room, staff: frozenset[int]) -> RoomInfo:
    return RoomInfo(room.pk, room.kind, room.title, room.hall_id, room.booth_id,
                    room.roadshow_id, room.read_only, staff, room.slow_mode_seconds,
                    room.pinned_seq)


def _moderation_rooms(halls: list[int | None]) -> dict[int | None, int]:
    found: dict[int | None, int] = {}
    for hall in halls:
        qs = Room.objects.filter(kind=Room.Kind.MODERATION).order_by("pk")
        qs = qs.filter(hall__isnull=True) if hall is None else qs.filter(hall_id=hall)
        room = qs.first()
        if room is None and hall is None:
            room = Room.objects.create(kind=Room.Kind.MODERATION, title="Moderators (whole expo)")
        if room is not None:
            found[hall] = room.pk
    return found


directory = RoomDirectory()
