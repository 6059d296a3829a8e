"""Project docking's domain logic. Services raise :class:`DockError` and know nothing of HTTP
or frames; ``api.py`` and ``actions.py`` map its codes to their interfaces."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from recruitment.services import staff_booths

from ..errors import DockError

Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1,
                                       max_length=40)]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                           pattern=r"^([A-Za-z]{2})?$")]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                            pattern=r"^([A-Za-z]{3})?$")]


def display_name(user) -> str:
    profile = getattr(user, "profile", None)
    return profile.display_name if profile is not None else user.get_username()


def person(user) -> dict:
    return {"id": user.pk, "name": display_name(user)}


__all__ = ["Country", "Currency", "DockError", "Tag", "person", "staff_booths"]
