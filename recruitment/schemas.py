"""What the recruitment endpoints answer, for the OpenAPI document (docs/api.md has the same
shapes in prose). The services build plain dicts; django-ninja checks them against these."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema

from .models import JobType, Slot, Status
from .services.resumes import ResumeData


class BoothRef(Schema):
    id: int
    name: str
    name_zh: str
    kind: str
    country: str


class JobOut(Schema):
    id: int
    booth: BoothRef
    title: str
    description: str | None = None  # null in directory listings
    job_type: JobType
    fields: list[str]
    place: str
    country: str
    remote: bool
    salary_min: int | None
    salary_max: int | None
    currency: str
    languages: list[str]
    deadline: date | None
    is_open: bool
    created_at: datetime


class JobPage(Schema):
    count: int
    results: list[JobOut]


class JobList(Schema):
    results: list[JobOut]


class ImportOut(Schema):
    created: int
    jobs: list[int]


class PdfInfo(Schema):
    name: str
    size: int
    text_chars: int | None = None  # for the owner


class ResumeOut(Schema):
    user: int
    data: ResumeData
    pdf: PdfInfo | None
    updated_at: datetime


class TalentHit(Schema):
    user: int
    name: str
    skills: list[str]
    has_pdf: bool


class TalentList(Schema):
    results: list[TalentHit]


class Person(Schema):
    id: int
    name: str


class JobRef(Schema):
    id: int
    title: str


class NamedRef(Schema):
    id: int
    name: str


class SlotOut(Schema):
    id: int
    booth: int
    host: Person
    starts_at: datetime
    ends_at: datetime
    state: Slot.State
    application: int | None


class SlotList(Schema):
    results: list[SlotOut]


class CandidateProfile(Schema):
    id: int
    display_name: str
    kind: str
    organisation: str
    country: str
    languages: list[str]
    headline: str
    interests: list[str]


class ApplicationOut(Schema):
    id: int
    status: Status
    cover_note: str
    job: JobRef
    booth: NamedRef
    candidate: Person
    created_at: datetime
    updated_at: datetime
    slots: list[SlotOut]
    # For the booth's staff only: the audit trail ({"from", "to", "note", "at", "by"}), ...
    events: list[dict] | None = None
    has_resume: bool | None = None
    profile: CandidateProfile | None = None


class ApplicationList(Schema):
    results: list[ApplicationOut]
