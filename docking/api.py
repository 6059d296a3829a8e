"""Project docking over HTTP (docs/api.md, "Project docking"): projects, investor profiles,
availability, meetings, "My meetings" and its .ics file, recommendations (roadshow bookmarks
are the console's).

Every endpoint maps :class:`~docking.services.DockError` to the API's error shape. Meeting
changes also reach both sides live as ``recruit.notice`` (docs/protocol.md).
"""

from __future__ import annotations

from datetime import datetime
from functools import wraps
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja import Status as Reply
from pydantic import Field, StringConstraints

from accounts.http import logged_in
from hallserver.api import ApiError, download
from recruitment import clock

from . import schemas
from .models import Meeting, Seeking, Stage
from .services import DockError, agenda, matching, meetings, projects
from .services.projects import InvestorIn, ProjectIn

router = Router(tags=["docking"])
Id = Annotated[int, Field(ge=1, le=2**53)]


def refusals(fn):
    """Answer a :class:`DockError` in the API's error shape."""

    @wraps(fn)
    def endpoint(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DockError as exc:
            raise ApiError(exc.status, exc.code, exc.message, **exc.extra) from None

    return endpoint


# --- projects -----------------------------------------------------------------------------------

class ProjectFilters(Schema):
    q: Annotated[str, Field(max_length=200)] = ""
    field: Annotated[str, Field(max_length=40)] = ""
    stage: Stage | None = None
    seeking: Seeking | None = None
    country: Annotated[str, Field(max_length=2)] = ""
    booth: Id | None = None
    offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    limit: Annotated[int, Field(ge=1, le=100)] = 24


@router.get("/projects", response=schemas.ProjectPage, exclude_unset=True)
def project_directory(request: HttpRequest, filters: Query[ProjectFilters]):
    """The expo's projects, newest first, with filters (field, stage, seeking, country)."""
    values = filters.dict()
    values["stage"] = filters.stage or ""
    values["seeking"] = filters.seeking or ""
    return projects.directory(**values, viewer=request.user)


@router.post("/projects", auth=logged_in, response={201: schemas.ProjectOut})
@refusals
def create_project(request: HttpRequest, payload: ProjectIn):
    """A project of a booth you staff (``booth``) or of yourself."""
    return Reply(201, projects.project_data(projects.create(request.user, payload),
                                            request.user))


@router.get("/projects/mine", auth=logged_in, response=schemas.ProjectList)
def my_projects(request: HttpRequest):
    return {"results": projects.mine(request.user)}


@router.get("/projects/{project_id}", response=schemas.ProjectOut)
@refusals
def project_page(request: HttpRequest, project_id: int):
    return projects.project_data(projects.get(project_id), request.user)


@router.put("/projects/{project_id}", auth=logged_in, response=schemas.ProjectOut)
@refusals
def edit_project(request: HttpRequest, project_id: int, payload: ProjectIn):
    return projects.project_data(projects.update(request.user, project_id, payload),
                                 request.user)


@router.delete("/projects/{project_id}", auth=logged_in, response={204: None})
@refusals
def delete_project(request: HttpRequest, project_id: int):
    projects.delete(request.user, project_id)
    return Reply(204, None)


@router.get("/projects/{project_id}/investors", auth=logged_in,
            response=schemas.RecommendationList, exclude_unset=True)
@refusals
def project_investors(request: HttpRequest, project_id: int):
    """Investors recommended for the project, each with the reason."""
    return {"results": matching.for_project(project_id)}


# --- investors ----------------------------------------------------------------------------------

class InvestorFilters(Schema):
    field: Annotated[str, Field(max_length=40)] = ""
    stage: Stage | None = None
    country: Annotated[str, Field(max_length=2)] = ""


@router.get("/investors", auth=logged_in, response=schemas.InvestorList)
def investor_directory(request: HttpRequest, filters: Query[InvestorFilters]):
    return {"results": projects.investors(field=filters.field, stage=filters.stage or "",
                                          country=filters.country)}


@router.get("/investor", auth=logged_in, response=schemas.InvestorOut)
@refusals
def my_investor_profile(request: HttpRequest):
    return projects.investor_data(projects.investor(request.user.pk))


@router.put("/investor", auth=logged_in, response=schemas.InvestorOut)
@refusals
def save_investor_profile(request: HttpRequest, payload: InvestorIn):
    return projects.investor_data(projects.save_investor(request.user, payload))


@router.get("/investors/{user_id}", auth=logged_in, response=schemas.InvestorOut)
@refusals
def investor_profile(request: HttpRequest, user_id: int):
    profile = projects.investor(user_id)
    if not profile.active and profile.user_id != request.user.pk:
        raise DockError("investor.not_found", f"User {user_id} has no investor profile.", 404)
    return projects.investor_data(profile)


# --- availability -------------------------------------------------------------------------------

class AvailabilityIn(Schema):
    starts_at: datetime
    ends_at: datetime
    slot_minutes: Annotated[int, Field(ge=1, le=1440)] = 30


@router.get("/availability", auth=logged_in, response=schemas.AvailabilityList)
def my_availability(request: HttpRequest):
    return {"results": meetings.my_availability(request.user)}


@router.post("/availability", auth=logged_in, response={201: schemas.AvailabilityOut})
@refusals
def add_availability(request: HttpRequest, payload: AvailabilityIn):
    row = meetings.add_availability(request.user, payload.starts_at, payload.ends_at,
                                    payload.slot_minutes, clock.now())
    return Reply(201, meetings.availability_data(row))


@router.delete("/availability/{availability_id}", auth=logged_in, response={204: None})
@refusals
def remove_availability(request: HttpRequest, availability_id: int):
    meetings.remove_availability(request.user, availability_id)
    return Reply(204, None)


# --- meetings -----------------------------------------------------------------------------------

class MeetingIn(Schema):
    project: Id | None = None
    user: Id | None = None
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class SlotIn(Schema):
    starts_at: datetime | None = None
    minutes: Annotated[int, Field(ge=1, le=1440)] = 30


class ProposeIn(Schema):
    starts_at: datetime
    minutes: Annotated[int, Field(ge=1, le=1440)] = 30


class MeetingFilters(Schema):
    state: Meeting.State | None = None


@router.get("/meetings", auth=logged_in, response=schemas.MeetingList)
def my_meetings(request: HttpRequest, filters: Query[MeetingFilters]):
    """Meetings you asked for or were asked for (and requests to your booths' projects)."""
    return {"results": meetings.for_user(request.user, filters.state or "")}


@router.post("/meetings", auth=logged_in, response={201: schemas.MeetingOut})
@refusals
def request_meeting(request: HttpRequest, payload: MeetingIn):
    """Ask for a meeting about a project (``project``) or with a person (``user``)."""
    meeting = meetings.request(request.user, message=payload.message,
                               project_id=payload.project, user_id=payload.user)
    return Reply(201, meetings.meeting_data(meeting, request.user))


@router.get("/meetings/{meeting_id}", auth=logged_in, response=schemas.MeetingOut)
@refusals
def meeting(request: HttpRequest, meeting_id: int):
    return meetings.meeting_data(meetings.get(request.user, meeting_id), request.user)


@router.get("/meetings/{meeting_id}/slots", auth=logged_in, response=schemas.FreeSlots)
@refusals
def meeting_slots(request: HttpRequest, meeting_id: int):
    """Free slots in both sides' availability, to accept or propose."""
    return {"results": meetings.options(request.user, meeting_id, clock.now())}


@router.post("/meetings/{meeting_id}/accept", auth=logged_in, response=schemas.MeetingOut)
@refusals
def accept_meeting(request: HttpRequest, meeting_id: int, payload: SlotIn):
    m = meetings.accept(request.user, meeting_id, clock.now(), payload.starts_at,
                        payload.minutes)
    return meetings.meeting_data(m, request.user)


@router.post("/meetings/{meeting_id}/propose", auth=logged_in, response=schemas.MeetingOut)
@refusals
def propose_slot(request: HttpRequest, meeting_id: int, payload: ProposeIn):
    m = meetings.propose(request.user, meeting_id, payload.starts_at, payload.minutes,
                         clock.now())
    return meetings.meeting_data(m, request.user)


@router.post("/meetings/{meeting_id}/decline", auth=logged_in, response=schemas.MeetingOut)
@refusals
def decline_meeting(request: HttpRequest, meeting_id: int):
    return meetings.meeting_data(meetings.decline(request.user, meeting_id), request.user)


@router.post("/meetings/{meeting_id}/cancel", auth=logged_in, response=schemas.MeetingOut)
@refusals
def cancel_meeting(request: HttpRequest, meeting_id: int):
    return meetings.meeting_data(meetings.cancel(request.user, meeting_id), request.user)


# --- "My meetings", recommendations ---------------------------------------------------

class AgendaQuery(Schema):
    tz: Annotated[str, Field(max_length=64)] = "UTC"


@router.get("/agenda", auth=logged_in, response=schemas.Agenda)
@refusals
def my_agenda(request: HttpRequest, query: Query[AgendaQuery]):
    """Meetings, interview slots and bookmarked roadshows, in the time zone ``tz``."""
    return agenda.agenda(request.user, query.tz)


@router.get("/agenda.ics", auth=logged_in,
            openapi_extra=download("text/calendar"))
def my_agenda_ics(request: HttpRequest):
    """The same agenda as an iCalendar file, to import into a calendar."""
    response = HttpResponse(agenda.ics(request.user, request.get_host().split(":")[0]),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="my-meetings.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/recommendations", auth=logged_in, response=schemas.Recommendations,
            exclude_unset=True)
def recommendations(request: HttpRequest):
    """For the person's home: projects (investors), jobs (candidates), investors (per owned
    project), each with its reason."""
    return matching.for_user(request.user)


@router.get("/jobs/{job_id}/candidates", auth=logged_in,
            response=schemas.RecommendationList, exclude_unset=True)
@refusals
def job_candidates(request: HttpRequest, job_id: int):
    """Candidates who opted in to talent search, recommended for the job (its booth's staff)."""
    return {"results": matching.for_job(request.user, job_id)}
