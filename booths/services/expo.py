"""The expo directory as plain data: the expo and its halls, a hall's booths, booth search and
a booth's details, as the HTTP API (booths/api.py) answers them. Synchronous (Django ORM);
raises :class:`~booths.errors.DirectoryError` (``<kind>.not_found``) for what does not
exist."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from ..errors import DirectoryError
from ..models import Booth, BoothStaff, Expo, Hall, Roadshow, Room
from .identity import Visitor

SEARCH_LIMIT_MAX = 100


@dataclass(frozen=True, slots=True)
class BoothQuery:
    """A booth search: free text, filters and a page (``limit`` is clamped to 1..100)."""

    q: str = ""
    hall: int | None = None
    country: str = ""
    kind: str = ""
    offset: int = 0
    limit: int = 24


def _roadshow(r: Roadshow, room_id: int | None) -> dict:
    return {
        "id": r.pk, "title": r.title, "description": r.description, "booth": r.booth_id,
        "booth_name": r.booth.name, "presenter_name": r.presenter_name,
        "starts_at": r.starts_at.isoformat(), "ends_at": r.ends_at.isoformat(),
        "state": r.state, "room": room_id,
    }


def _roadshows(qs: QuerySet[Roadshow]) -> list[dict]:
    rows = list(qs.select_related("booth"))
    rooms = dict(Room.objects.filter(roadshow__in=rows).values_list("roadshow_id", "pk"))
    return [_roadshow(r, rooms.get(r.pk)) for r in rows]


def _halls(expo: Expo) -> list[dict]:
    halls = expo.halls.annotate(booth_count=Count("booths"))
    lobbies = dict(Room.objects.filter(kind=Room.Kind.LOBBY, hall__expo=expo)
                   .values_list("hall_id", "pk"))
    return [{"id": h.pk, "name": h.name, "name_zh": h.name_zh, "slug": h.slug,
             "description": h.description, "color": h.color, "lobby_room": lobbies.get(h.pk),
             "booth_count": h.booth_count} for h in halls]


def _booth_summaries(booths: QuerySet[Booth]) -> list[dict]:
    booths = list(booths.select_related("hall"))
    rooms = dict(Room.objects.filter(kind=Room.Kind.BOOTH, booth__in=booths)
                 .values_list("booth_id", "pk"))
    return [{"id": b.pk, "name": b.name, "name_zh": b.name_zh, "kind": b.kind,
             "country": b.country, "industry_tags": b.industry_tags, "hall": b.hall_id,
             "hall_name": b.hall.name, "logo_url": b.logo_url, "room": rooms.get(b.pk)}
            for b in booths]


def _moderation_rooms(visitor: Visitor | None, expo: Expo) -> list[dict] | None:
    """The moderators' rooms the caller may enter (None for everyone but moderators):
    expo-wide moderators and admins get every hall's and the expo-wide one (hall null, listed
    first), a hall moderator their hall's only."""
    if visitor is None or not visitor.is_moderator:
        return None
    rooms = Room.objects.filter(kind=Room.Kind.MODERATION)
    if visitor.is_admin or visitor.moderated_hall is None:
        rooms = rooms.filter(Q(hall__expo=expo) | Q(hall__isnull=True))
    else:
        rooms = rooms.filter(hall_id=visitor.moderated_hall)
    rows = rooms.order_by(F("hall_id").asc(nulls_first=True), "pk").values_list("pk", "hall_id")
    return [{"id": pk, "hall": hall} for pk, hall in rows]


def overview(visitor: Visitor | None) -> dict:
    """The current expo (the latest to start), its halls and roadshows; for moderators also
    the moderators' rooms they may enter (``moderation_rooms``, absent for everyone else)."""
    expo = Expo.objects.order_by("-starts_on").first()
    if expo is None:
        raise DirectoryError("expo.not_found", "No expo has been set up yet.")
    data = {
        "expo": {"id": expo.pk, "name": expo.name, "name_zh": expo.name_zh, "slug": expo.slug,
                 "tagline": expo.tagline, "starts_on": expo.starts_on.isoformat(),
                 "ends_on": expo.ends_on.isoformat()},
        "halls": _halls(expo),
        "roadshows": _roadshows(Roadshow.objects.filter(booth__hall__expo=expo)),
    }
    moderation = _moderation_rooms(visitor, expo)
    if moderation is not None:
        data["moderation_rooms"] = moderation
    return data


def _page(offset: int, limit: int) -> slice:
    return slice(offset, offset + min(SEARCH_LIMIT_MAX, max(1, limit)))


def hall(hall_id: int, offset: int = 0, limit: int = 48) -> dict:
    """A hall (as in the overview), how many booths it has and one page of them (``limit``
    clamped to 1..100), in the hall's order."""
    found = Hall.objects.filter(pk=hall_id).first()
    if found is None:
        raise DirectoryError("hall.not_found", f"No hall {hall_id}.")
    info = next(h for h in _halls(found.expo) if h["id"] == found.pk)
    return {"hall": info, "count": info["booth_count"],
            "booths": _booth_summaries(found.booths.all()[_page(offset, limit)])}


def search(query: BoothQuery) -> dict:
    """Booths whose name (English or Chinese), description or tags contain ``q`` or whose
    country code is ``q``, case-insensitively, filtered; one page of them and the count."""
    qs = Booth.objects.all()
    q = query.q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(name_zh__icontains=q)
                       | Q(description__icontains=q) | Q(industry_tags__icontains=q)
                       | Q(country__iexact=q))
    if query.hall is not None:
        qs = qs.filter(hall_id=query.hall)
    if query.country:
        qs = qs.filter(country__iexact=query.country)
    if query.kind:
        qs = qs.filter(kind=query.kind)
    return {"count": qs.count(),
            "results": _booth_summaries(qs[_page(query.offset, query.limit)])}


def booth(booth_id: int, visitor: Visitor | None) -> dict:
    """A booth's summary with its description, links, staff and roadshows; ``staff_room`` is
    the staff room's id for the booth's staff and moderators, None for everyone else."""
    found = Booth.objects.select_related("hall").filter(pk=booth_id).first()
    if found is None:
        raise DirectoryError("booth.not_found", f"No booth {booth_id}.")
    data = _booth_summaries(Booth.objects.filter(pk=found.pk))[0]
    sees_staff_room = visitor is not None and (visitor.is_moderator
                                               or found.pk in visitor.staff_of)
    staff_room = (Room.objects.filter(kind=Room.Kind.STAFF, booth=found)
                  .values_list("pk", flat=True).first() if sees_staff_room else None)
    staff = BoothStaff.objects.filter(booth=found).select_related("user", "user__profile")
    data.update(
        description=found.description, links=found.links, staff_room=staff_room,
        staff=[{"id": s.user_id, "name": _staff_name(s), "title": s.title} for s in staff],
        roadshows=_roadshows(found.roadshows.all()),
    )
    return data


def _staff_name(s: BoothStaff) -> str:
    profile = getattr(s.user, "profile", None)
    return profile.display_name if profile and profile.display_name else s.user.get_username()
