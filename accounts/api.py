"""Accounts over HTTP (docs/api.md, "Accounts"): sign-up, guest upgrade, profiles.

Refusals of the services (:class:`~accounts.services.AccountError`) go on to the API's one
domain-error handler (hallserver/api.py); sign-up and guest upgrade are throttled per client
address by the same rate-limit service as login and guest entry."""

from __future__ import annotations

from typing import Annotated

from django.contrib.auth import login
from django.http import HttpRequest
from ninja import Router, Schema
from ninja import Status as Reply
from pydantic import Field

from booths import runtime
from booths.services.identity import visitor_for
from hallserver.api import (
    COMMON_ERRORS,
    THROTTLED,
    UNSAFE_ERRORS,
    ErrorOut,
    client_address,
    throttle,
)

from .http import logged_in
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


def _throttle(request: HttpRequest) -> None:
    """One budget per client address for sign-ups and guest upgrades (429, or 503 when the
    throttles' store does not answer), counted before any password is validated or hashed."""
    throttle(runtime.limits().signup(client_address(request)),
             "Too many sign-ups from this address; wait before trying again.")


@router.post("/signup", response={201: SessionOut, 400: ErrorOut, 409: ErrorOut, **THROTTLED,
                                  **UNSAFE_ERRORS})
def signup(request: HttpRequest, payload: SignupIn):
    """Create a visitor account and log in as it (throttled per address)."""
    _throttle(request)
    user = sign_up(payload.username, payload.password, payload.display_name)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return Reply(201, {"user": visitor_for(user).public()})


@router.post("/upgrade", auth=logged_in,
             response={200: SessionOut, 400: ErrorOut, 401: ErrorOut, 409: ErrorOut,
                       **THROTTLED, **UNSAFE_ERRORS})
def upgrade(request: HttpRequest, payload: UpgradeIn):
    """Turn the guest session's user into a full account (same user, chat history kept)."""
    _throttle(request)
    user = upgrade_guest(request.user, payload.username, payload.password,
                         payload.display_name)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return {"user": visitor_for(user).public()}


@router.get("/profile", auth=logged_in, response=ProfileOut, exclude_unset=True)
def my_profile(request: HttpRequest):
    return profile_data(request.user, private=True)


@router.put("/profile", auth=logged_in, response=ProfileOut, exclude_unset=True)
def edit_profile(request: HttpRequest, payload: ProfileIn):
    return update_profile(request.user, payload)


@router.get("/users/{user_id}/profile", auth=logged_in,
            response={200: ProfileOut, 401: ErrorOut, 404: ErrorOut, 503: ErrorOut,
                      **COMMON_ERRORS},
            exclude_unset=True)
def user_profile(request: HttpRequest, user_id: int):
    """Someone's profile: the owner's own; booth staff's while the owner is in one of their
    booth's rooms (if the owner lets booth staff see it) or has applied to their booth;
    404 ``profile.not_found`` for everyone else."""
    return visible_profile(request.user, user_id)
