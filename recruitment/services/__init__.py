"""Recruitment domain logic. Services raise :class:`RecruitError` and know nothing of HTTP or
frames; ``api.py`` and ``actions.py`` map the codes to their interfaces."""

from __future__ import annotations

from booths.models import BoothStaff

from ..errors import RecruitError

__all__ = ["RecruitError", "need_staff", "staff_booths"]


def staff_booths(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(BoothStaff.objects.filter(user=user).values_list("booth_id", flat=True))


def need_staff(user, booth_id: int) -> None:
    if not BoothStaff.objects.filter(user=user, booth_id=booth_id).exists():
        raise RecruitError("booth.not_staff", f"You are not staff of booth {booth_id}.", 403)
