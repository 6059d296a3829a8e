"""Accounts over HTTP (docs/api.md, "Accounts"): sign-up, guest upgrade, profiles."""

from __future__ import annotations

from typing import Annotated

from django.contrib.auth import login
from django.http import HttpRequest
from ninja import Router, Schema
from ninja import Status as Reply
from pydantic import Field

from booths.services.identity import visitor_for
from hallserver.api import ApiError

from .http import api_error, client_address, logged_in, require_csrf
from .services import AccountError, throttle
from .services.profiles import ProfileIn, profile_data, update_profile, visible_profile
from .services.signup import sign_up, upgrade_guest

router = Router(tags=["accounts"])


class Me(Schema):
    """The session's user, as ``GET /api/session`` names it."""

    id: int
    name: str
    kind: str
    staff_of: list[int]
    moderator: bool
    moderated_hall: int | None
    admin: bool


class SessionOut(Schema):
    user: Me


class ProfileOut(Schema):
    id: int
    display_name: str
    kind: str
    organisation: str
    country: str
    languages: list[str]
    headline: str
    interests: list[str]
    # The owner's own view only:
    username: str | None = None
    visible_to_booth_staff: bool | None = None
    talent_search: bool | None = None


class SignupIn(Schema):
    username: Annotated[str, Field(max_length=254, description="a user name or an e-mail")]
    password: Annotated[str, Field(max_length=4096)]
    display_name: Annotated[str, Field(max_length=200)]


class UpgradeIn(Schema):
    username: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=4096)]
    display_name: Annotated[str | None, Field(max_length=200)] = None


def _throttle(request: HttpRequest, action: str) -> None:
    wait = throttle.hit(action, client_address(request))
    if wait is not None:
        raise ApiError(429, "rate.limited", f"Too many attempts; wait {wait:g} s.",
                       retry_after=wait)


@router.post("/signup", response={201: SessionOut})
def signup(request: HttpRequest, payload: SignupIn):
    """Create a visitor account and log in as it (throttled per address)."""
    require_csrf(request)
    _throttle(request, "signup")
    try:
        user = sign_up(payload.username, payload.password, payload.display_name)
    except AccountError as exc:
        raise api_error(exc) from None
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return Reply(201, {"user": visitor_for(user).public()})


@router.post("/upgrade", auth=logged_in, response=SessionOut)
def upgrade(request: HttpRequest, payload: UpgradeIn):
    """Turn the guest session's user into a full account (same user, chat history kept)."""
    _throttle(request, "signup")
    try:
        user = upgrade_guest(request.user, payload.username, payload.password,
                             payload.display_name)
    except AccountError as exc:
        raise api_error(exc) from None
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return {"user": visitor_for(user).public()}


@router.get("/profile", auth=logged_in, response=ProfileOut, exclude_unset=True)
def my_profile(request: HttpRequest):
    return profile_data(request.user, private=True)


@router.put("/profile", auth=logged_in, response=ProfileOut, exclude_unset=True)
def edit_profile(request: HttpRequest, payload: ProfileIn):
    return update_profile(request.user, payload)


@router.get("/users/{user_id}/profile", auth=logged_in, response=ProfileOut,
            exclude_unset=True)
def user_profile(request: HttpRequest, user_id: int):
    try:
        return visible_profile(request.user, user_id)
    except AccountError as exc:
        raise api_error(exc) from None
