"""Who is on a connection: a small immutable snapshot taken when the socket opens."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from ..models import BoothStaff, Profile


@dataclass(frozen=True, slots=True)
class Visitor:
    id: int
    name: str
    kind: str
    staff_of: frozenset[int]
    is_moderator: bool

    def public(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind,
                "staff_of": sorted(self.staff_of)}


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
    is_moderator = bool(user.is_superuser or user.is_staff or kind == Profile.Kind.MODERATOR)
    return Visitor(user.pk, name, kind, staff_of, is_moderator)
