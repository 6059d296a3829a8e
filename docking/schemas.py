"""What the docking endpoints answer, for the OpenAPI document (docs/api.md has the same shapes
in prose). The services build plain dicts; django-ninja checks them against these."""

from __future__ import annotations

from typing import Any

from ninja import Schema


class Person(Schema):
    id: int
    name: str


class BoothRef(Schema):
    id: int
    name: str


class ProjectRef(Schema):
    id: int
    title: str


class ProjectOut(Schema):
    id: int
    title: str
    summary: str
    description: str
    fields: list[str]
    stage: str
    seeking: list[str]
    amount_min: int | None
    amount_max: int | None
    currency: str
    country: str
    links: list[dict[str, Any]]
    booth: BoothRef | None
    owner: Person | None
    mine: bool
    updated_at: str


class ProjectPage(Schema):
    total: int
    results: list[ProjectOut]


class ProjectList(Schema):
    results: list[ProjectOut]


class InvestorOut(Schema):
    user: Person
    ticket_min: int | None
    ticket_max: int | None
    currency: str
    stages: list[str]
    fields: list[str]
    countries: list[str]
    thesis: str
    active: bool


class InvestorList(Schema):
    results: list[InvestorOut]


class AvailabilityOut(Schema):
    id: int
    starts_at: str
    ends_at: str
    slot_minutes: int


class AvailabilityList(Schema):
    results: list[AvailabilityOut]


class MeetingOut(Schema):
    id: int
    state: str
    message: str
    requester: Person
    recipient: Person | None
    project: ProjectRef | None
    booth: int | None
    starts_at: str | None
    ends_at: str | None
    proposed_by: int | None
    created_at: str | None
    may_answer: bool | None = None


class MeetingList(Schema):
    results: list[MeetingOut]


class FreeSlot(Schema):
    starts_at: str
    ends_at: str


class FreeSlots(Schema):
    results: list[FreeSlot]


class AgendaItem(Schema):
    kind: str
    id: int
    title: str
    state: str
    starts_at: str
    ends_at: str
    day: str


class Agenda(Schema):
    time_zone: str
    items: list[AgendaItem]


class ReasonPart(Schema):
    kind: str
    value: str


class Reason(Schema):
    parts: list[ReasonPart]
    text: str


class Recommendation(Schema):
    kind: str
    id: int
    title: str | None = None
    name: str | None = None
    booth: BoothRef | None = None
    score: float
    reason: Reason


class RecommendationList(Schema):
    results: list[Recommendation]


class InvestorsForProject(Schema):
    project: ProjectRef
    investors: list[Recommendation]


class Recommendations(Schema):
    projects: list[Recommendation]
    jobs: list[Recommendation]
    investors: list[InvestorsForProject]
