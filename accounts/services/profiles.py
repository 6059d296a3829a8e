"""Profiles: read and edit one's own, and who may see someone else's."""

from __future__ import annotations

from typing import Annotated

from django.contrib.auth import get_user_model
from django.db.models import Q
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from booths.models import BoothStaff, Profile, Room

from ..models import Account
from . import AccountError

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Lang = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=35)]


class ProfileIn(BaseModel):
    """What the owner may change."""

    model_config = ConfigDict(extra="forbid")

    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                   max_length=80)]
    organisation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    country: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                              pattern=r"^([A-Za-z]{2})?$")] = ""
    languages: Annotated[list[Lang], Field(max_length=20)] = []
    headline: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    interests: Annotated[list[Tag], Field(max_length=30)] = []
    visible_to_booth_staff: bool = True
    talent_search: bool = False


def account_of(user) -> Account:
    account, _ = Account.objects.get_or_create(user=user)
    return account


def profile_data(user, *, private: bool) -> dict:
    """The profile of ``user``; ``private`` adds the privacy choices (for the owner)."""
    profile = Profile.objects.filter(user=user).first()
    account = account_of(user)
    data = {
        "id": user.pk,
        "display_name": profile.display_name if profile else user.get_username(),
        "kind": profile.kind if profile else Profile.Kind.VISITOR,
        "organisation": profile.organisation if profile else "",
        "country": account.country, "languages": account.languages,
        "headline": account.headline, "interests": account.interests,
    }
    if private:
        data.update(username=user.get_username(),
                    visible_to_booth_staff=account.visible_to_booth_staff,
                    talent_search=account.talent_search)
    return data


def update_profile(user, data: ProfileIn) -> dict:
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        profile = Profile(user=user, kind=Profile.Kind.VISITOR)
    profile.display_name = " ".join(data.display_name.split())
    profile.organisation = data.organisation
    profile.save()
    account = account_of(user)
    for field in ("country", "languages", "headline", "interests", "visible_to_booth_staff",
                  "talent_search"):
        setattr(account, field, getattr(data, field))
    account.save()
    return profile_data(user, private=True)


def visible_profile(viewer, user_id: int) -> dict:
    """Someone's profile as ``viewer`` may see it. The owner always. Booth staff while the
    owner is in one of their booth's rooms (its chat, its staff room, its roadshows), if the
    owner lets booth staff see it; and whenever the owner has an application (not withdrawn)
    at their booth, since applying shares the profile with that booth. Everyone else is told
    it does not exist (404), so a refusal says nothing about whether the person is there."""
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is not None and viewer.is_authenticated:
        if user.pk == viewer.pk:
            return profile_data(user, private=True)
        booths = list(BoothStaff.objects.filter(user=viewer).values_list("booth_id", flat=True))
        if booths and (_applied_to(user, booths) or (
                account_of(user).visible_to_booth_staff and _visiting(user, booths))):
            return profile_data(user, private=False)
    raise AccountError("profile.not_found", f"No profile {user_id}.", status=404)


def _visiting(user, booths: list[int]) -> bool:
    """Whether ``user`` is in a room of one of ``booths`` now, on any process (presence)."""
    from booths import runtime  # the process's presence service (runtime imports services)

    rooms = list(Room.objects.filter(Q(booth_id__in=booths) | Q(roadshow__booth_id__in=booths))
                 .values_list("pk", flat=True))
    return runtime.presence().user_in_any(user.pk, rooms)


def _applied_to(user, booths: list[int]) -> bool:
    # Recruitment builds on accounts; looked up here by name, not imported at module level.
    from recruitment.models import Application, Status

    return Application.objects.filter(candidate=user, booth_id__in=booths).exclude(
        status=Status.WITHDRAWN).exists()
