"""Who may open which console (docs/permissions.md, "Exhibitor console")."""

from __future__ import annotations

from booths.models import Booth, BoothStaff

from . import ConsoleError


def is_organiser(user) -> bool:
    """Organisers: the expo's Django staff users."""
    return bool(user is not None and user.is_authenticated and (user.is_staff
                                                                 or user.is_superuser))


def staffed(user) -> list[int]:
    if user is None or not user.is_authenticated:
        return []
    return list(BoothStaff.objects.filter(user=user).values_list("booth_id", flat=True)
                .order_by("booth_id"))


def console_booth(user, booth_id: int) -> Booth:
    """The booth, if ``user`` staffs it (or organises the expo); otherwise ``console.forbidden``
    (the same answer whether or not the booth exists, to anyone but organisers)."""
    if user is None or not user.is_authenticated:
        raise ConsoleError("auth.required", "Log in first.", 401)
    organiser = is_organiser(user)
    if not organiser and not BoothStaff.objects.filter(user=user, booth_id=booth_id).exists():
        raise ConsoleError("console.forbidden", f"You are not staff of booth {booth_id}.", 403)
    booth = Booth.objects.select_related("hall").filter(pk=booth_id).first()
    if booth is None:
        raise ConsoleError("booth.not_found", f"No booth {booth_id}.", 404)
    return booth


def need_organiser(user) -> None:
    if user is None or not user.is_authenticated:
        raise ConsoleError("auth.required", "Log in first.", 401)
    if not is_organiser(user):
        raise ConsoleError("console.forbidden", "Expo-wide figures are for organisers.", 403)
