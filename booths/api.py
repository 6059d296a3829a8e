"""The booths app's HTTP API (docs/api.md): sessions (login, guest entry, logout) and the expo
directory. Added to the one django-ninja API in hallserver/api.py.

Sessions are Django's session cookie; the API checks the CSRF token on every POST. Login and
guest entry are throttled per client address (and login per account name) before anything
costly runs (booths/services/ratelimit.py)."""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest
from django.views.decorators.csrf import ensure_csrf_cookie
from ninja import Field, Query, Router, Schema
from ninja.decorators import decorate_view

from hallserver.api import (
    COMMON_ERRORS,
    THROTTLED,
    UNSAFE_ERRORS,
    ApiError,
    ErrorOut,
    client_address,
    throttle,
)

from . import runtime
from .models import Booth, Profile, Roadshow
from .services import expo
from .services.identity import GUEST_NAME_MAX, create_guest, visitor_for

router = Router()

ID_MAX = 2**31 - 1


# --- schemas ---------------------------------------------------------------------------------

class Me(Schema):
    """Who the session belongs to."""

    id: int
    name: str
    kind: Literal[tuple(Profile.Kind.values)]  # type: ignore[valid-type]
    staff_of: list[int] = Field(description="ids of the booths whose staff they are")
    moderator: bool
    moderated_hall: int | None = Field(description="a hall moderator's hall")
    admin: bool


class SessionOut(Schema):
    user: Me | None


class LoginIn(Schema):
    username: str = ""
    password: str = ""


class GuestIn(Schema):
    name: str = Field("", description=f"display name, 1 to {GUEST_NAME_MAX} characters once "
                      "runs of whitespace are collapsed")


class ExpoInfo(Schema):
    id: int
    name: str
    name_zh: str
    slug: str
    tagline: str
    starts_on: str = Field(json_schema_extra={"format": "date"})
    ends_on: str = Field(json_schema_extra={"format": "date"})


class HallOut(Schema):
    id: int
    name: str
    name_zh: str
    slug: str
    description: str
    color: str = Field(description="accent colour, #rrggbb")
    lobby_room: int | None = Field(description="the hall lobby's chat room")
    booth_count: int


class RoadshowOut(Schema):
    id: int
    title: str
    description: str
    booth: int
    booth_name: str
    presenter_name: str
    starts_at: str = Field(json_schema_extra={"format": "date-time"})
    ends_at: str = Field(json_schema_extra={"format": "date-time"})
    state: Literal[tuple(Roadshow.State.values)]  # type: ignore[valid-type]
    room: int | None = Field(description="the roadshow's chat room")


class ModerationRoom(Schema):
    id: int
    hall: int | None = Field(description="null for the expo-wide moderators' room")


class ExpoOut(Schema):
    expo: ExpoInfo
    halls: list[HallOut]
    roadshows: list[RoadshowOut]
    moderation_rooms: list[ModerationRoom] | None = Field(
        None, description="only for moderators and admins (absent for everyone else): the "
        "moderators' rooms they may join, the expo-wide one first")


class BoothSummary(Schema):
    id: int
    name: str
    name_zh: str
    kind: Literal[tuple(Booth.Kind.values)]  # type: ignore[valid-type]
    country: str = Field(description="ISO 3166 alpha-2 code")
    industry_tags: list[str]
    hall: int
    hall_name: str
    logo_url: str
    room: int | None = Field(description="the booth's chat room")


class HallBooths(Schema):
    hall: HallOut
    count: int = Field(description="booths in the hall, on every page")
    booths: list[BoothSummary] = Field(description="one page of them, in the hall's order")


class Page(Schema):
    offset: int = Field(0, ge=0, le=ID_MAX)
    limit: int = Field(48, ge=0, le=ID_MAX, description="page size, at most 100")


class BoothSearch(Schema):
    count: int = Field(description="booths that match, on every page")
    results: list[BoothSummary]


class BoothFilters(Schema):
    q: str = Field("", description="text in the name (English or Chinese), description or "
                   "tags, or a country code; case-insensitive")
    hall: int | None = Field(None, ge=0, le=ID_MAX, description="only this hall's booths")
    country: str = Field("", description="country code, case-insensitive")
    kind: str = Field("", description="company, university, investor or institute")
    offset: int = Field(0, ge=0, le=ID_MAX)
    limit: int = Field(24, ge=0, le=ID_MAX, description="page size, at most 100")


class StaffMember(Schema):
    id: int
    name: str
    title: str


class BoothDetail(BoothSummary):
    description: str
    links: list[dict[str, Any]] = Field(description='[{"label": ..., "url": ...}]')
    staff: list[StaffMember]
    staff_room: int | None = Field(description="the staff room, for the booth's staff and "
                                   "moderators only; null for everyone else")
    roadshows: list[RoadshowOut]


# --- helpers ---------------------------------------------------------------------------------

def _me(request: HttpRequest) -> dict | None:
    visitor = visitor_for(request.user)
    return visitor.public() if visitor else None




# --- session ---------------------------------------------------------------------------------

@router.get("/session", response={200: SessionOut, **COMMON_ERRORS}, tags=["session"])
@decorate_view(ensure_csrf_cookie)
def session(request: HttpRequest):
    """Who is logged in (null when nobody); sets the `csrftoken` cookie."""
    return {"user": _me(request)}


@router.post("/login", response={200: SessionOut, 400: ErrorOut, **THROTTLED,
                                 **UNSAFE_ERRORS}, tags=["session"])
def login_view(request: HttpRequest, body: LoginIn):
    """Log in with a user name and password. Throttled per client address and, for wrong
    passwords, per account name (429 `rate.limited`, before any password is checked)."""
    limits = runtime.limits()
    throttle(limits.login_attempt(client_address(request), body.username),
              "Too many login attempts; wait before trying again.")
    user = authenticate(request, username=body.username, password=body.password)
    if user is None:
        limits.login_failed(body.username)
        raise ApiError(400, "auth.invalid", "Wrong user name or password.")
    login(request, user)
    return {"user": _me(request)}


@router.post("/guest", response={200: SessionOut, 400: ErrorOut, **THROTTLED,
                                 **UNSAFE_ERRORS}, tags=["session"])
def guest_view(request: HttpRequest, body: GuestIn):
    """Enter as a guest: a new account with only a display name, logged in. Throttled per
    client address (429 `rate.limited`)."""
    throttle(runtime.limits().guest_entry(client_address(request)),
              "Too many guests from this address; wait before entering again.")
    user = create_guest(body.name)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return {"user": _me(request)}


@router.post("/logout", response={200: SessionOut, **UNSAFE_ERRORS}, tags=["session"])
def logout_view(request: HttpRequest):
    """End the session (answers `{"user": null}` also when nobody was logged in)."""
    logout(request)
    return {"user": None}


# --- directory -------------------------------------------------------------------------------

@router.get("/expo", response={200: ExpoOut, 404: ErrorOut, **COMMON_ERRORS},
            exclude_unset=True, tags=["directory"])
def expo_view(request: HttpRequest):
    """The expo, its halls and its roadshows (404 `expo.not_found` before one is set up)."""
    return expo.overview(visitor_for(request.user))


@router.get("/halls/{int:hall_id}", response={200: HallBooths, 404: ErrorOut, **COMMON_ERRORS},
            tags=["directory"])
def hall_view(request: HttpRequest, hall_id: int, page: Query[Page]):
    """A hall and one page of its booths with their count (404 `hall.not_found`; 400
    `query.invalid` for an offset or limit that is not a whole number)."""
    return expo.hall(hall_id, page.offset, page.limit)


@router.get("/booths", response={200: BoothSearch, 400: ErrorOut, **COMMON_ERRORS},
            tags=["directory"])
def booths_view(request: HttpRequest, filters: Query[BoothFilters]):
    """Booth search and paging (400 `query.invalid` for parameters that are not whole
    numbers where numbers are due)."""
    return expo.search(expo.BoothQuery(**filters.model_dump()))


@router.get("/booths/{int:booth_id}", response={200: BoothDetail, 404: ErrorOut, **COMMON_ERRORS},
            tags=["directory"])
def booth_view(request: HttpRequest, booth_id: int):
    """A booth's details (404 `booth.not_found`)."""
    return expo.booth(booth_id, visitor_for(request.user))
