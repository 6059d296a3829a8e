"""Jobs: booth staff create, edit, close and reopen them (one at a time or from a CSV); the
expo's directory lists open ones."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from booths.models import Booth

from ..models import Job, JobType
from . import RecruitError, need_staff

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
CSV_MAX_ROWS = 2000
#: Up to this many matches of a text query are fetched by id and sorted, rather than found by
#: walking the directory's order.
FEW_MATCHES = 5000
CSV_COLUMNS = ["title", "description", "job_type", "fields", "place", "country", "remote",
               "salary_min", "salary_max", "currency", "languages", "deadline"]


class JobIn(BaseModel):
    """A job as staff write it (the JSON endpoint and each CSV row)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=200)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)] = ""
    job_type: JobType
    fields: Annotated[list[Tag], Field(max_length=20)] = []
    place: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    country: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                              pattern=r"^([A-Za-z]{2})?$")] = ""
    remote: bool = False
    salary_min: Annotated[int, Field(ge=0, le=100_000_000)] | None = None
    salary_max: Annotated[int, Field(ge=0, le=100_000_000)] | None = None
    currency: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                               pattern=r"^([A-Za-z]{3})?$")] = ""
    languages: Annotated[list[Tag], Field(max_length=20)] = []
    deadline: date | None = None

    @model_validator(mode="after")
    def _salary(self) -> JobIn:
        if (self.salary_min is not None and self.salary_max is not None
                and self.salary_min > self.salary_max):
            raise ValueError("salary_min is above salary_max")
        if (self.salary_min is not None or self.salary_max is not None) and not self.currency:
            raise ValueError("a salary needs a currency")
        return self


class CsvRow(JobIn):
    """One CSV row: lists are separated by ``;``, booleans are yes/no/true/false/1/0, empty
    cells are left out."""

    @field_validator("fields", "languages", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part for part in (p.strip() for p in value.split(";")) if part]
        return value

    @field_validator("remote", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("yes", "true", "1", "y"):
                return True
            if lowered in ("no", "false", "0", "n", ""):
                return False
        return value


def job_data(job: Job, *, summary: bool = False) -> dict:
    """A job for the API; ``summary`` leaves the description out (directory listings)."""
    booth = job.booth
    data = {
        "id": job.pk, "booth": {"id": booth.pk, "name": booth.name, "name_zh": booth.name_zh,
                                "kind": booth.kind, "country": booth.country},
        "title": job.title, "description": job.description, "job_type": job.job_type,
        "fields": job.fields, "place": job.place, "country": job.country, "remote": job.remote,
        "salary_min": job.salary_min, "salary_max": job.salary_max, "currency": job.currency,
        "languages": job.languages,
        "deadline": job.deadline.isoformat() if job.deadline else None,
        "is_open": job.is_open, "created_at": job.created_at.isoformat(),
    }
    if summary:
        del data["description"]
    return data


def _booth(booth_id: int) -> Booth:
    booth = Booth.objects.filter(pk=booth_id).first()
    if booth is None:
        raise RecruitError("booth.not_found", f"No booth {booth_id}.", 404)
    return booth


def create(user, booth_id: int, data: JobIn) -> Job:
    _booth(booth_id)
    need_staff(user, booth_id)
    return Job.objects.create(booth_id=booth_id, created_by=user, **data.model_dump())


def visible_job(user, job_id: int) -> Job:
    """An open job for everyone; a closed one only for its booth's staff."""
    job = Job.objects.select_related("booth").filter(pk=job_id).first()
    if job is None or (not job.is_open and not (
            user.is_authenticated
            and job.booth.boothstaff_set.filter(user=user).exists())):
        raise RecruitError("job.not_found", f"No job {job_id}.", 404)
    return job


def _staff_job(user, job_id: int) -> Job:
    job = visible_job(user, job_id)
    need_staff(user, job.booth_id)
    return job


def update(user, job_id: int, data: JobIn) -> Job:
    job = _staff_job(user, job_id)
    for key, value in data.model_dump().items():
        setattr(job, key, value)
    job.save()
    return job


def set_open(user, job_id: int, is_open: bool) -> Job:
    job = _staff_job(user, job_id)
    job.is_open = is_open
    job.save(update_fields=["is_open", "updated_at"])
    return job


def import_csv(user, booth_id: int, content: bytes) -> list[Job]:
    """Create a job per row, all or none: every row is checked first; any bad row makes a
    ``job.import_invalid`` error listing each bad row (``rows``: ``{"row", "errors"}``, row 2
    being the first after the header) and nothing is written."""
    _booth(booth_id)
    need_staff(user, booth_id)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RecruitError("job.import_invalid", "The CSV must be UTF-8 text.", 400,
                           rows=[]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if "title" not in header or "job_type" not in header or unknown:
        raise RecruitError("job.import_invalid",
                           f"The header must name title, job_type and only the columns "
                           f"{', '.join(CSV_COLUMNS)}.", 400, rows=[],
                           unknown_columns=unknown)
    good: list[JobIn] = []
    bad: list[dict] = []
    for number, row in enumerate(reader, start=2):
        if number - 1 > CSV_MAX_ROWS:
            raise RecruitError("job.import_invalid", f"At most {CSV_MAX_ROWS} rows at once.",
                               400, rows=[])
        if None in row:
            bad.append({"row": number, "errors": ["more cells than columns"]})
            continue
        cells = {k: v for k, v in row.items() if v not in (None, "")}
        try:
            good.append(CsvRow.model_validate(cells))
        except ValidationError as exc:
            bad.append({"row": number, "errors": [
                f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}"
                for e in exc.errors(include_url=False)]})
    if bad:
        raise RecruitError("job.import_invalid",
                           f"{len(bad)} row(s) are wrong; nothing was imported.", 400, rows=bad)
    if not good:
        raise RecruitError("job.import_invalid", "The CSV has no rows.", 400, rows=[])
    with transaction.atomic():
        return [Job.objects.create(booth_id=booth_id, created_by=user, **job.model_dump())
                for job in good]


def text_match(q: str) -> Q:
    """Jobs whose title or description contains ``q`` (any case): through the trigram index on
    SQLite when ``q`` has three characters or more, else a substring scan."""
    if connection.vendor == "sqlite" and len(q) >= 3:
        phrase = '"' + q.replace('"', '""') + '"'
        return Q(pk__in=RawSQL("SELECT rowid FROM recruitment_job_fts "
                               "WHERE recruitment_job_fts MATCH %s", [phrase]))
    return Q(title__icontains=q) | Q(description__icontains=q)


def directory(*, q: str = "", field: str = "", job_type: str = "", country: str = "",
              booth_kind: str = "", remote: bool | None = None, booth: int | None = None,
              offset: int = 0, limit: int = 24) -> dict:
    qs = Job.objects.filter(is_open=True).select_related("booth")
    if q:
        # Booth ids first (a small table), so that each side of the OR can use an index.
        booths = Booth.objects.filter(Q(name__icontains=q) | Q(name_zh__icontains=q))
        qs = qs.filter(text_match(q) | Q(booth_id__in=booths.values("pk")))
    if field:
        qs = qs.filter(fields__icontains=field)
    if job_type:
        qs = qs.filter(job_type=job_type)
    if country:
        qs = qs.filter(country__iexact=country)
    if booth_kind:
        qs = qs.filter(booth__kind=booth_kind)
    if remote is not None:
        qs = qs.filter(remote=remote)
    if booth is not None:
        qs = qs.filter(booth_id=booth)
    count = qs.count()
    if q and count <= FEW_MATCHES:
        # Few matches: take them from the text index, then sort those (walking the newest-
        # first index instead would read every open job when the matches are rare).
        ids = list(qs.order_by().values_list("pk", flat=True))
        qs = Job.objects.filter(pk__in=ids).select_related("booth")
    page = qs.defer("description")[offset:offset + limit]
    return {"count": count, "results": [job_data(j, summary=True) for j in page]}


def booth_jobs(user, booth_id: int) -> list[dict]:
    """Every job of a booth, closed ones included (for its staff)."""
    _booth(booth_id)
    need_staff(user, booth_id)
    return [job_data(j) for j in Job.objects.filter(booth_id=booth_id).select_related("booth")]
