"""Projects and investor profiles: their owners write them, everyone reads them."""

from __future__ import annotations

from typing import Annotated

from django.db.models import Q
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from booths.models import Booth

from ..models import InvestorProfile, Project, Seeking, Stage
from . import Country, Currency, DockError, Tag, person, staff_booths

Amount = Annotated[int, Field(ge=0, le=10**13)]


class Link(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    url: AnyHttpUrl


def _range(lo, hi, currency, what: str) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"{what}_min is above {what}_max")
    if (lo is not None or hi is not None) and not currency:
        raise ValueError(f"a {what} range needs a currency")


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=200)]
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""
    description: Annotated[str, StringConstraints(strip_whitespace=True,
                                                  max_length=20_000)] = ""
    fields: Annotated[list[Tag], Field(max_length=12)] = []
    stage: Stage
    seeking: Annotated[list[Seeking], Field(max_length=4)] = []
    amount_min: Amount | None = None
    amount_max: Amount | None = None
    currency: Currency = ""
    country: Country = ""
    links: Annotated[list[Link], Field(max_length=10)] = []
    booth: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _amount(self) -> ProjectIn:
        _range(self.amount_min, self.amount_max, self.currency, "amount")
        return self


class InvestorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_min: Amount | None = None
    ticket_max: Amount | None = None
    currency: Currency = ""
    stages: Annotated[list[Stage], Field(max_length=4)] = []
    fields: Annotated[list[Tag], Field(max_length=20)] = []
    countries: Annotated[list[Country], Field(max_length=50)] = []
    thesis: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""
    active: bool = True

    @model_validator(mode="after")
    def _ticket(self) -> InvestorIn:
        _range(self.ticket_min, self.ticket_max, self.currency, "ticket")
        return self


def owners(project: Project) -> list[int]:
    """The people who answer for a project: the booth's staff, or its owner."""
    if project.booth_id is not None:
        from booths.models import BoothStaff

        return list(BoothStaff.objects.filter(booth_id=project.booth_id)
                    .values_list("user_id", flat=True))
    return [project.owner_id]


def is_owner(user, project: Project) -> bool:
    if not user.is_authenticated:
        return False
    if project.booth_id is not None:
        return project.booth_id in staff_booths(user)
    return project.owner_id == user.pk


def project_data(project: Project, viewer=None) -> dict:
    return {
        "id": project.pk, "title": project.title, "summary": project.summary,
        "description": project.description, "fields": project.fields, "stage": project.stage,
        "seeking": project.seeking, "amount_min": project.amount_min,
        "amount_max": project.amount_max, "currency": project.currency,
        "country": project.country, "links": project.links,
        "booth": ({"id": project.booth_id, "name": project.booth.name}
                  if project.booth_id else None),
        "owner": person(project.owner) if project.owner_id else None,
        "mine": bool(viewer is not None and is_owner(viewer, project)),
        "updated_at": project.updated_at.isoformat(),
    }


def _fields(data: ProjectIn) -> dict:
    values = data.model_dump(exclude={"booth"}, mode="json")
    values["fields"] = list(dict.fromkeys(values["fields"]))
    values["seeking"] = list(dict.fromkeys(values["seeking"]))
    return values


def _qs():
    return Project.objects.select_related("booth", "owner__profile")


def create(user, data: ProjectIn) -> Project:
    """A project of a booth the user staffs (``data.booth``), or of the user."""
    if data.booth is not None:
        if not Booth.objects.filter(pk=data.booth).exists():
            raise DockError("booth.not_found", f"No booth {data.booth}.", 404)
        if data.booth not in staff_booths(user):
            raise DockError("booth.not_staff", f"You are not staff of booth {data.booth}.", 403)
        project = Project.objects.create(booth_id=data.booth, **_fields(data))
    else:
        project = Project.objects.create(owner=user, **_fields(data))
    from .matching import changed

    changed("projects")
    return _qs().get(pk=project.pk)


def get(project_id: int) -> Project:
    project = _qs().filter(pk=project_id).first()
    if project is None:
        raise DockError("project.not_found", f"No project {project_id}.", 404)
    return project


def update(user, project_id: int, data: ProjectIn) -> Project:
    project = get(project_id)
    if not is_owner(user, project):
        raise DockError("project.not_owner", "Only the project's owners may change it.", 403)
    if data.booth is not None and data.booth != project.booth_id:
        raise DockError("project.invalid", "A project stays with its booth or owner.", 400)
    Project.objects.filter(pk=project.pk).update(**_fields(data))
    project.refresh_from_db()
    from .matching import changed

    changed("projects")
    return project


def delete(user, project_id: int) -> None:
    project = get(project_id)
    if not is_owner(user, project):
        raise DockError("project.not_owner", "Only the project's owners may delete it.", 403)
    project.delete()
    from .matching import changed

    changed("projects")


def directory(*, q: str = "", field: str = "", stage: str = "", seeking: str = "",
              country: str = "", booth: int | None = None, offset: int = 0,
              limit: int = 24, viewer=None) -> dict:
    qs = _qs()
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(summary__icontains=q))
    if stage:
        qs = qs.filter(stage=stage)
    if country:
        qs = qs.filter(country=country.upper())
    if booth is not None:
        qs = qs.filter(booth_id=booth)
    rows = list(qs)
    # Tag lists are JSON: filter them here (the directory is a few thousand rows at most).
    if field:
        rows = [p for p in rows if field.lower() in p.fields]
    if seeking:
        rows = [p for p in rows if seeking in p.seeking]
    page = rows[offset:offset + limit]
    return {"total": len(rows), "results": [project_data(p, viewer) for p in page]}


def mine(user) -> list[dict]:
    booths = staff_booths(user)
    return [project_data(p, user) for p in _qs().filter(Q(owner=user) | Q(booth_id__in=booths))]


# --- investor profiles --------------------------------------------------------------------------

def investor_data(profile: InvestorProfile) -> dict:
    return {"user": person(profile.user), "ticket_min": profile.ticket_min,
            "ticket_max": profile.ticket_max, "currency": profile.currency,
            "stages": profile.stages, "fields": profile.fields, "countries": profile.countries,
            "thesis": profile.thesis, "active": profile.active}


def save_investor(user, data: InvestorIn) -> InvestorProfile:
    values = data.model_dump(mode="json")
    values["fields"] = list(dict.fromkeys(values["fields"]))
    profile, _ = InvestorProfile.objects.update_or_create(user=user, defaults=values)
    from .matching import changed

    changed("investors")
    return InvestorProfile.objects.select_related("user__profile").get(pk=profile.pk)


def investor(user_id: int) -> InvestorProfile:
    profile = (InvestorProfile.objects.select_related("user__profile")
               .filter(user_id=user_id).first())
    if profile is None:
        raise DockError("investor.not_found", f"User {user_id} has no investor profile.", 404)
    return profile


def investors(*, field: str = "", stage: str = "", country: str = "") -> list[dict]:
    rows = InvestorProfile.objects.select_related("user__profile").filter(active=True)
    out = []
    for profile in rows:
        if field and field.lower() not in profile.fields:
            continue
        if stage and stage not in profile.stages:
            continue
        if country and country.upper() not in profile.countries:
            continue
        out.append(investor_data(profile))
    return out
