"""Recruitment over HTTP (docs/api.md, "Recruitment"): résumés, jobs, applications, slots.

Refusals of the services (:class:`~recruitment.errors.RecruitError`, with their HTTP
``status``) go on to the API's one domain-error handler (hallserver/api.py).
What changes live also reaches the WebSocket as ``recruit.notice`` (docs/protocol.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import FileResponse, HttpRequest
from ninja import File, Query, Router, Schema, UploadedFile
from ninja import Status as Reply
from pydantic import Field

from accounts.http import logged_in

from .models import JobType, Status
from .schemas import (
    ApplicationList,
    ApplicationOut,
    ImportOut,
    JobList,
    JobOut,
    JobPage,
    ResumeOut,
    SlotList,
    SlotOut,
    TalentList,
)
from .services import RecruitError, applications, jobs, resumes, slots
from .services.jobs import JobIn
from .services.resumes import ResumeData

router = Router(tags=["recruitment"])
PDF_CHUNK = 64 * 1024


def pdf_response(resume) -> FileResponse:
    """The PDF as a download only: never rendered inline, never sniffed as something else."""
    response = FileResponse(resumes.pdf_path(resume).open("rb"), as_attachment=True,
                            filename=resume.pdf_name or "resume.pdf",
                            content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# --- résumés ------------------------------------------------------------------------------------

@router.get("/resume", auth=logged_in, response=ResumeOut, exclude_unset=True)
def my_resume(request: HttpRequest):
    return resumes.resume_data(resumes.mine(request.user), owner=True)


@router.put("/resume", auth=logged_in, response=ResumeOut, exclude_unset=True)
def save_resume(request: HttpRequest, payload: ResumeData):
    return resumes.resume_data(resumes.save(request.user, payload), owner=True)


@router.delete("/resume", auth=logged_in, response={204: None})
def delete_resume(request: HttpRequest):
    """Delete the résumé, its PDF file included."""
    resumes.delete(request.user)
    return Reply(204, None)


@router.post("/resume/pdf", auth=logged_in, response=ResumeOut, exclude_unset=True)
def upload_pdf(request: HttpRequest, file: File[UploadedFile]):
    """Attach a PDF (at most ``HALLSERVER_RESUME_MAX_BYTES``; checked and parsed)."""
    limit = resumes.settings.RECRUITMENT["RESUME_MAX_BYTES"]
    if file.size is not None and file.size > limit:
        raise RecruitError("resume.too_large",
                           f"The PDF may have at most {limit // (1024 * 1024)} MB.", 413)
    content = file.read(limit + 1)
    resume = resumes.attach_pdf(request.user, file.name or "", content)
    return resumes.resume_data(resume, owner=True)


@router.delete("/resume/pdf", auth=logged_in, response={204: None})
def delete_pdf(request: HttpRequest):
    resumes.remove_pdf(request.user)
    return Reply(204, None)


@router.get("/resume/pdf", auth=logged_in)
def my_pdf(request: HttpRequest):
    return pdf_response(resumes.mine(request.user))


@router.get("/users/{user_id}/resume", auth=logged_in, response=ResumeOut,
            exclude_unset=True)
def talent_resume(request: HttpRequest, user_id: int):
    """Someone's résumé: the owner, or booth staff if the owner opted in to talent search."""
    return resumes.resume_data(resumes.for_talent_search(request.user, user_id))


@router.get("/users/{user_id}/resume/pdf", auth=logged_in)
def talent_pdf(request: HttpRequest, user_id: int):
    return pdf_response(resumes.for_talent_search(request.user, user_id))


@router.get("/talent", auth=logged_in, response=TalentList)
def talent(request: HttpRequest, q: Annotated[str, Field(max_length=200)] = ""):
    """Talent search over résumés whose owners opted in (booth staff only)."""
    return {"results": resumes.talent_search(request.user, q)}


# --- jobs ---------------------------------------------------------------------------------------

class JobFilters(Schema):
    q: Annotated[str, Field(max_length=200)] = ""
    field: Annotated[str, Field(max_length=40)] = ""
    job_type: JobType | None = None
    country: Annotated[str, Field(max_length=2)] = ""
    booth_kind: Annotated[str, Field(max_length=16)] = ""
    remote: bool | None = None
    booth: Annotated[int, Field(ge=1)] | None = None
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    limit: Annotated[int, Field(ge=1, le=100)] = 24


@router.get("/jobs", response=JobPage, exclude_unset=True)
def job_directory(request: HttpRequest, filters: Query[JobFilters]):
    """Open jobs of the whole expo, newest first, with filters."""
    return jobs.directory(**{**filters.dict(), "job_type": filters.job_type or ""})


@router.get("/jobs/{job_id}", response=JobOut)
def job_page(request: HttpRequest, job_id: int):
    return jobs.job_data(jobs.visible_job(request.user, job_id))


@router.get("/booths/{booth_id}/jobs", auth=logged_in, response=JobList)
def staff_jobs(request: HttpRequest, booth_id: int):
    """Every job of the booth, closed ones too (its staff)."""
    return {"results": jobs.booth_jobs(request.user, booth_id)}


@router.post("/booths/{booth_id}/jobs", auth=logged_in, response={201: JobOut})
def create_job(request: HttpRequest, booth_id: int, payload: JobIn):
    return Reply(201, jobs.job_data(jobs.create(request.user, booth_id, payload)))


@router.put("/jobs/{job_id}", auth=logged_in, response=JobOut)
def edit_job(request: HttpRequest, job_id: int, payload: JobIn):
    return jobs.job_data(jobs.update(request.user, job_id, payload))


@router.post("/jobs/{job_id}/close", auth=logged_in, response=JobOut)
def close_job(request: HttpRequest, job_id: int):
    return jobs.job_data(jobs.set_open(request.user, job_id, False))


@router.post("/jobs/{job_id}/reopen", auth=logged_in, response=JobOut)
def reopen_job(request: HttpRequest, job_id: int):
    return jobs.job_data(jobs.set_open(request.user, job_id, True))


@router.post("/booths/{booth_id}/jobs/import", auth=logged_in, response={201: ImportOut})
def import_jobs(request: HttpRequest, booth_id: int, file: File[UploadedFile]):
    """Create jobs from a CSV (docs/api.md lists the columns): all rows or none."""
    if file.size is not None and file.size > 5 * 1024 * 1024:
        raise RecruitError("job.import_invalid", "The CSV may have at most 5 MB.", 413, rows=[])
    created = jobs.import_csv(request.user, booth_id, file.read())
    return Reply(201, {"created": len(created), "jobs": [j.pk for j in created]})


# --- applications -------------------------------------------------------------------------------

class ApplyIn(Schema):
    cover_note: Annotated[str, Field(max_length=5000)] = ""


class MoveIn(Schema):
    status: Status
    note: Annotated[str, Field(max_length=500)] = ""


@router.post("/jobs/{job_id}/apply", auth=logged_in, response={201: ApplicationOut},
             exclude_unset=True)
def apply(request: HttpRequest, job_id: int, payload: ApplyIn):
    """Apply with one's résumé and an optional cover note (plain text)."""
    app = applications.apply(request.user, job_id, payload.cover_note)
    return Reply(201, applications.application_data(app, staff=False))


@router.get("/applications", auth=logged_in, response=ApplicationList, exclude_unset=True)
def my_applications(request: HttpRequest):
    return {"results": applications.mine(request.user)}


@router.get("/booths/{booth_id}/applications", auth=logged_in, response=ApplicationList,
            exclude_unset=True)
def booth_applications(request: HttpRequest, booth_id: int, status: Status | None = None):
    return {"results": applications.for_booth(request.user, booth_id, status or "")}


@router.get("/applications/{app_id}", auth=logged_in, response=ApplicationOut,
            exclude_unset=True)
def application(request: HttpRequest, app_id: int):
    """The application (with its audit trail for staff; staff opening it marks it viewed)."""
    return applications.open_as_staff(request.user, app_id)


@router.get("/applications/{app_id}/resume", auth=logged_in, response=ResumeOut,
            exclude_unset=True)
def application_resume(request: HttpRequest, app_id: int):
    return resumes.resume_data(resumes.for_application(request.user, app_id))


@router.get("/applications/{app_id}/resume/pdf", auth=logged_in)
def application_pdf(request: HttpRequest, app_id: int):
    return pdf_response(resumes.for_application(request.user, app_id))


@router.post("/applications/{app_id}/status", auth=logged_in, response=ApplicationOut,
             exclude_unset=True)
def move_application(request: HttpRequest, app_id: int, payload: MoveIn):
    app = applications.move(request.user, app_id, payload.status, payload.note)
    return applications.application_data(app, staff=True)


@router.post("/applications/{app_id}/withdraw", auth=logged_in, response=ApplicationOut,
             exclude_unset=True)
def withdraw(request: HttpRequest, app_id: int):
    return applications.application_data(applications.withdraw(request.user, app_id),
                                         staff=False)


# --- interview slots ----------------------------------------------------------------------------

class SlotIn(Schema):
    starts_at: datetime
    ends_at: datetime


class OfferIn(Schema):
    application: Annotated[int, Field(ge=1)]


@router.get("/booths/{booth_id}/slots", auth=logged_in, response=SlotList)
def booth_slots(request: HttpRequest, booth_id: int):
    return {"results": slots.for_booth(request.user, booth_id)}


@router.post("/booths/{booth_id}/slots", auth=logged_in, response={201: SlotOut})
def create_slot(request: HttpRequest, booth_id: int, payload: SlotIn):
    if payload.starts_at.tzinfo is None or payload.ends_at.tzinfo is None:
        raise RecruitError("slot.invalid", "Give times with their UTC offset.", 400)
    slot = slots.create(request.user, booth_id, payload.starts_at, payload.ends_at)
    return Reply(201, applications.slot_data(slot))


@router.get("/slots", auth=logged_in, response=SlotList)
def my_slots(request: HttpRequest):
    """Slots offered to or booked by the caller."""
    return {"results": slots.candidate_slots(request.user)}


@router.post("/slots/{slot_id}/offer", auth=logged_in, response=SlotOut)
def offer_slot(request: HttpRequest, slot_id: int, payload: OfferIn):
    return applications.slot_data(slots.offer(request.user, slot_id, payload.application))


@router.post("/slots/{slot_id}/book", auth=logged_in, response=SlotOut)
def book_slot(request: HttpRequest, slot_id: int):
    return applications.slot_data(slots.book(request.user, slot_id))


@router.post("/slots/{slot_id}/release", auth=logged_in, response=SlotOut)
def release_slot(request: HttpRequest, slot_id: int):
    return applications.slot_data(slots.release(request.user, slot_id))


@router.delete("/slots/{slot_id}", auth=logged_in, response={204: None})
def delete_slot(request: HttpRequest, slot_id: int):
    slots.delete(request.user, slot_id)
    return Reply(204, None)
