"""The HTTP JSON API (docs/api.md) and the pages of the browser UI."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.db import transaction
from django.db.models import Count, F, Q
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.utils.crypto import get_random_string
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from .models import Booth, BoothStaff, Expo, Hall, Profile, Roadshow, Room
from .services.identity import visitor_for

GUEST_NAME_MAX = 40


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _number(text: str, largest: int = 2**31 - 1) -> int | None:
    """A non-negative whole number from a query parameter, or None if it is not one."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if value <= largest else None


def _me(request: HttpRequest) -> dict | None:
    visitor = visitor_for(request.user)
    return visitor.public() if visitor else None


@ensure_csrf_cookie
def page(request: HttpRequest, **kwargs) -> Any:
    """Every UI route serves the single-page app; it routes on the client."""
    return render(request, "index.html")


@require_GET
@ensure_csrf_cookie
def session(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"user": _me(request)})


@require_POST
def login_view(request: HttpRequest) -> JsonResponse:
    data = _body(request)
    user = authenticate(request, username=str(data.get("username", "")),
                        password=str(data.get("password", "")))
    if user is None:
        return _error(400, "auth.invalid", "Wrong user name or password.")
    login(request, user)
    return JsonResponse({"user": _me(request)})


@require_POST
def guest_view(request: HttpRequest) -> JsonResponse:
    name = " ".join(str(_body(request).get("name", "")).split())
    if not 1 <= len(name) <= GUEST_NAME_MAX:
        return _error(400, "guest.invalid_name",
                      f"Choose a display name of 1 to {GUEST_NAME_MAX} characters.")
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=f"guest-{get_random_string(12).lower()}", password=None
        )
        Profile.objects.create(user=user, display_name=name, kind=Profile.Kind.GUEST)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return JsonResponse({"user": _me(request)})


@require_POST
def logout_view(request: HttpRequest) -> JsonResponse:
    logout(request)
    return JsonResponse({"user": None})


def _roadshow(r: Roadshow, room_id: int | None) -> dict:
    return {
        "id": r.pk, "title": r.title, "description": r.description, "booth": r.booth_id,
        "booth_name": r.booth.name, "presenter_name": r.presenter_name,
        "starts_at": r.starts_at.isoformat(), "ends_at": r.ends_at.isoformat(),
        "state": r.state, "room": room_id,
    }


def _roadshows(qs) -> list[dict]:
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


def _booth_summaries(booths) -> list[dict]:
    booths = list(booths.select_related("hall"))
    rooms = dict(Room.objects.filter(kind=Room.Kind.BOOTH, booth__in=booths)
                 .values_list("booth_id", "pk"))
    return [{"id": b.pk, "name": b.name, "name_zh": b.name_zh, "kind": b.kind,
             "country": b.country, "industry_tags": b.industry_tags, "hall": b.hall_id,
             "hall_name": b.hall.name, "logo_url": b.logo_url, "room": rooms.get(b.pk)}
            for b in booths]


def _moderation_rooms(request: HttpRequest, expo: Expo) -> list[dict] | None:
    """The moderators' rooms the caller may enter (None for everyone but moderators):
    expo-wide moderators and admins get every hall's and the expo-wide one (hall null, listed
    first), a hall moderator their hall's only."""
    visitor = visitor_for(request.user)
    if visitor is None or not visitor.is_moderator:
        return None
    rooms = Room.objects.filter(kind=Room.Kind.MODERATION)
    if visitor.is_admin or visitor.moderated_hall is None:
        rooms = rooms.filter(Q(hall__expo=expo) | Q(hall__isnull=True))
    else:
        rooms = rooms.filter(hall_id=visitor.moderated_hall)
    rows = rooms.order_by(F("hall_id").asc(nulls_first=True), "pk").values_list("pk", "hall_id")
    return [{"id": pk, "hall": hall} for pk, hall in rows]


@require_GET
def expo_view(request: HttpRequest) -> JsonResponse:
    expo = Expo.objects.order_by("-starts_on").first()
    if expo is None:
        return _error(404, "expo.not_found", "No expo has been set up yet.")
    data = {
        "expo": {"id": expo.pk, "name": expo.name, "name_zh": expo.name_zh, "slug": expo.slug,
                 "tagline": expo.tagline, "starts_on": expo.starts_on.isoformat(),
                 "ends_on": expo.ends_on.isoformat()},
        "halls": _halls(expo),
        "roadshows": _roadshows(Roadshow.objects.filter(booth__hall__expo=expo)),
    }
    moderation = _moderation_rooms(request, expo)
    if moderation is not None:
        data["moderation_rooms"] = moderation
    return JsonResponse(data)


@require_GET
def hall_view(request: HttpRequest, hall_id: int) -> JsonResponse:
    hall = Hall.objects.filter(pk=hall_id).first()
    if hall is None:
        return _error(404, "hall.not_found", f"No hall {hall_id}.")
    return JsonResponse({"hall": next(h for h in _halls(hall.expo) if h["id"] == hall.pk),
                         "booths": _booth_summaries(hall.booths.all())})


@require_GET
def booths_view(request: HttpRequest) -> JsonResponse:
    qs = Booth.objects.all()
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(name_zh__icontains=q)
                       | Q(description__icontains=q) | Q(industry_tags__icontains=q)
                       | Q(country__iexact=q))
    hall = request.GET.get("hall")
    if hall:
        if _number(hall) is None:
            return _error(400, "query.invalid", "hall must be a hall id.")
        qs = qs.filter(hall_id=int(hall))
    for param, lookup in (("country", "country__iexact"), ("kind", "kind")):
        value = request.GET.get(param)
        if value:
            qs = qs.filter(**{lookup: value})
    offset = _number(request.GET.get("offset", "0"))
    limit = _number(request.GET.get("limit", "24"))
    if offset is None or limit is None:
        return _error(400, "query.invalid", "offset and limit must be whole numbers.")
    limit = min(100, max(1, limit))
    return JsonResponse({"count": qs.count(),
                         "results": _booth_summaries(qs[offset:offset + limit])})


@require_GET
def booth_view(request: HttpRequest, booth_id: int) -> JsonResponse:
    booth = Booth.objects.select_related("hall").filter(pk=booth_id).first()
    if booth is None:
        return _error(404, "booth.not_found", f"No booth {booth_id}.")
    data = _booth_summaries(Booth.objects.filter(pk=booth.pk))[0]
    visitor = visitor_for(request.user)
    sees_staff_room = visitor is not None and (visitor.is_moderator
                                               or booth.pk in visitor.staff_of)
    staff_room = (Room.objects.filter(kind=Room.Kind.STAFF, booth=booth)
                  .values_list("pk", flat=True).first() if sees_staff_room else None)
    staff = BoothStaff.objects.filter(booth=booth).select_related("user", "user__profile")
    data.update(
        description=booth.description, links=booth.links, staff_room=staff_room,
        staff=[{"id": s.user_id, "name": _staff_name(s), "title": s.title} for s in staff],
        roadshows=_roadshows(booth.roadshows.all()),
    )
    return JsonResponse(data)


def _staff_name(s: BoothStaff) -> str:
    profile = getattr(s.user, "profile", None)
    return profile.display_name if profile and profile.display_name else s.user.get_username()
