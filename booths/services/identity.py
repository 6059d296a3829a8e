"""Who is on a connection: a small immutable snapshot taken when the socket opens."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils.crypto import get_random_string

from ..errors import AccountError
from ..models import BoothStaff, Profile

GUEST_NAME_MAX = 40


@dataclass(frozen=True, slots=True)
class Visitor:
    id: int
    name: str
    kind: str
    staff_of: frozenset[int]
    is_moderator: bool
    is_admin: bool = False
    moderated_hall: int | None = None

    def public(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind,
                "staff_of": sorted(self.staff_of), "moderator": self.is_moderator,
                "moderated_hall": self.moderated_hall, "admin": self.is_admin}


def display_name(user: AbstractBaseUser) -> str:
    profile = getattr(user, "profile", None)
    if profile is not None and profile.display_name:
        return profile.display_name
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def visitor_for(user: AbstractBaseUser | AnonymousUser | None) -> Visitor | None:
    """Load the snapshot for a Django user (synchronous: call it from a DB thread)."""
    if user is None or not user.is_authenticated:
        return None
    profile = Profile.objects.filter(user=user).first()
    kind = profile.kind if profile else Profile.Kind.VISITOR
    name = profile.display_name if profile and profile.display_name else user.get_username()
    staff_of = frozenset(BoothStaff.objects.filter(user=user).values_list("booth_id", flat=True))
    is_admin = bool(user.is_superuser)
    is_moderator = is_admin or kind == Profile.Kind.MODERATOR
    hall = profile.moderated_hall_id if profile and kind == Profile.Kind.MODERATOR else None
    return Visitor(user.pk, name, kind, staff_of, is_moderator, is_admin, hall)


async def visitor_for_id(user_id: int) -> Visitor:
    """The snapshot of a user by id (e.g. the author of a held message)."""
    from channels.db import database_sync_to_async
    from django.contrib.auth import get_user_model

    user = await database_sync_to_async(get_user_model().objects.get)(pk=user_id)
    visitor = await database_sync_to_async(visitor_for)(user)
    assert visitor is not None
    return visitor


def guest_name(raw: str) -> str:
    """A guest's display name with its whitespace collapsed; AccountError
    (``guest.invalid_name``) if it is empty or longer than GUEST_NAME_MAX characters."""
    name = " ".join(raw.split())
    if not 1 <= len(name) <= GUEST_NAME_MAX:
        raise AccountError("guest.invalid_name",
                           f"Choose a display name of 1 to {GUEST_NAME_MAX} characters.")
    return name


def create_guest(name: str) -> AbstractBaseUser:
    """A new guest account (no password) with the display name ``guest_name(name)``."""
    name = guest_name(name)
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=f"guest-{get_random_string(12).lower()}", password=None
        )
        Profile.objects.create(user=user, display_name=name, kind=Profile.Kind.GUEST)
    return user
