"""Applications and their pipeline: apply, withdraw, staff move them; every change is in the
audit trail and reaches both sides live (through :mod:`.notices`)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.services.profiles import profile_data
from booths.models import Profile
from booths.services.identity import display_name

from ..models import Application, ApplicationEvent, Job, Resume, Slot, Status
from . import RecruitError, staff_booths
from .notices import booth_staff, notify

COVER_NOTE_MAX = 5000
#: The forward path of the pipeline; staff may move an application forward (skipping steps)
#: or reject it; the candidate may withdraw it. Rejected and withdrawn are final.
PIPELINE = [Status.SUBMITTED, Status.VIEWED, Status.SHORTLISTED, Status.INTERVIEW, Status.OFFER]
FINAL = {Status.REJECTED, Status.WITHDRAWN}


def event_data(e: ApplicationEvent) -> dict:
    return {"from": e.from_status, "to": e.to_status, "note": e.note, "at": e.at.isoformat(),
            "by": {"id": e.actor_id, "name": display_name(e.actor) if e.actor else ""}}


def slot_data(slot: Slot) -> dict:
    return {"id": slot.pk, "booth": slot.booth_id, "host": {
                "id": slot.host_id, "name": display_name(slot.host)},
            "starts_at": slot.starts_at.isoformat(), "ends_at": slot.ends_at.isoformat(),
            "state": slot.state, "application": slot.application_id}


def application_data(app: Application, *, staff: bool) -> dict:
    data = {
        "id": app.pk, "status": app.status, "cover_note": app.cover_note,
        "job": {"id": app.job_id, "title": app.job.title},
        "booth": {"id": app.booth_id, "name": app.booth.name},
        "candidate": {"id": app.candidate_id, "name": display_name(app.candidate)},
        "created_at": app.created_at.isoformat(), "updated_at": app.updated_at.isoformat(),
        "slots": [slot_data(s) for s in app.slots.select_related("host__profile")],
    }
    if staff:
        data["events"] = [event_data(e) for e in app.events.select_related("actor__profile")]
        data["has_resume"] = Resume.objects.filter(user_id=app.candidate_id).exists()
        # Applying shares the profile with the booth, whatever its privacy choice for visits.
        data["profile"] = profile_data(app.candidate, private=False)
    return data


def _summary(app: Application) -> dict:
    """What a notice says about an application."""
    return {"application": app.pk, "status": app.status, "job": {"id": app.job_id,
            "title": app.job.title}, "booth": app.booth_id,
            "candidate": {"id": app.candidate_id, "name": display_name(app.candidate)}}


def _qs():
    return Application.objects.select_related("job", "booth", "candidate__profile")


def apply(user, job_id: int, cover_note: str = "") -> Application:
    profile = Profile.objects.filter(user=user).first()
    if profile is not None and profile.kind == Profile.Kind.GUEST:
        raise RecruitError("application.guest",
                           "Guests cannot apply: sign up first (your chat history stays).", 403)
    job = Job.objects.select_related("booth").filter(pk=job_id, is_open=True).first()
    if job is None:
        raise RecruitError("job.not_found", f"No open job {job_id}.", 404)
    if job.deadline is not None and job.deadline < timezone.localdate():
        raise RecruitError("job.closed", "The deadline of this job has passed.", 409)
    if job.booth_id in staff_booths(user):
        raise RecruitError("application.own_booth", "You staff this booth.", 403)
    if len(cover_note) > COVER_NOTE_MAX:
        raise RecruitError("application.invalid",
                           f"The cover note has at most {COVER_NOTE_MAX} characters.", 400)
    if not Resume.objects.filter(user=user).exists():
        raise RecruitError("resume.missing", "Fill in your résumé first.", 409)
    try:
        with transaction.atomic():
            app = Application.objects.create(job=job, booth_id=job.booth_id, candidate=user,
                                             cover_note=cover_note.strip())
            ApplicationEvent.objects.create(application=app, actor=user,
                                            to_status=Status.SUBMITTED)
            app = _qs().get(pk=app.pk)
            notify(booth_staff(job.booth_id), "application.new", _summary(app))
    except IntegrityError:
        raise RecruitError("application.exists", "You have applied to this job already.",
                           409) from None
    return app


def mine(user) -> list[dict]:
    return [application_data(a, staff=False) for a in _qs().filter(candidate=user)]


def for_booth(user, booth_id: int, status: str = "") -> list[dict]:
    if booth_id not in staff_booths(user):
        raise RecruitError("booth.not_staff", f"You are not staff of booth {booth_id}.", 403)
    qs = _qs().filter(booth_id=booth_id).exclude(status=Status.WITHDRAWN)
    if status:
        qs = qs.filter(status=status)
    return [application_data(a, staff=True) for a in qs]


def visible(user, app_id: int) -> tuple[Application, bool]:
    """The application and whether ``user`` sees it as staff; 404 for everyone else."""
    app = _qs().filter(pk=app_id).first()
    if app is not None:
        if app.booth_id in staff_booths(user) and app.status != Status.WITHDRAWN:
            return app, True
        if app.candidate_id == user.pk:
            return app, False
    raise RecruitError("application.not_found", f"No application {app_id}.", 404)


def _change(app: Application, actor, to: str, note: str = "") -> Application:
    """Move ``app`` to ``to`` if nobody changed it meanwhile (a conditional UPDATE), record
    it, tell both sides. Runs inside the caller's transaction."""
    before = app.status
    if not Application.objects.filter(pk=app.pk, status=before).update(
            status=to, updated_at=timezone.now()):
        raise RecruitError("application.changed",
                           "Someone changed this application meanwhile; reload it.", 409)
    ApplicationEvent.objects.create(application=app, actor=actor, from_status=before,
                                    to_status=to, note=note[:500])
    app.refresh_from_db()
    data = {**_summary(app), "from": before}
    notify([app.candidate_id, *booth_staff(app.booth_id)], "application.status", data)
    return app


def open_as_staff(user, app_id: int) -> dict:
    """The application for staff; the first look moves it from submitted to viewed."""
    app, staff = visible(user, app_id)
    if staff and app.status == Status.SUBMITTED:
        with transaction.atomic(), _suppress_changed():
            app = _change(app, user, Status.VIEWED)
        app = _qs().get(pk=app.pk)
    return application_data(app, staff=staff)


class _suppress_changed:
    """Another staff member opened it first: that is fine."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return isinstance(exc, RecruitError) and exc.code == "application.changed"


def move(user, app_id: int, to: str, note: str = "") -> Application:
    app, staff = visible(user, app_id)
    if not staff:
        raise RecruitError("application.not_found", f"No application {app_id}.", 404)
    if app.status in FINAL:
        raise RecruitError("application.final", f"The application is {app.status}.", 409)
    if to == Status.WITHDRAWN or to not in Status.values:
        raise RecruitError("application.bad_status", f"Staff cannot move it to {to}.", 400)
    if to != Status.REJECTED and PIPELINE.index(to) <= PIPELINE.index(app.status):
        raise RecruitError("application.bad_status",
                           f"It cannot go back from {app.status} to {to}.", 409)
    with transaction.atomic():
        app = _change(app, user, to, note)
        if to == Status.REJECTED:
            _release_slots(app)
    return _qs().get(pk=app.pk)


def withdraw(user, app_id: int) -> Application:
    app = _qs().filter(pk=app_id, candidate=user).first()
    if app is None:
        raise RecruitError("application.not_found", f"No application {app_id}.", 404)
    if app.status in FINAL:
        raise RecruitError("application.final", f"The application is {app.status}.", 409)
    with transaction.atomic():
        app = _change(app, user, Status.WITHDRAWN)
        _release_slots(app)
    return _qs().get(pk=app.pk)


def _release_slots(app: Application) -> None:
    """The application's slots open again; booked ones give back their busy cells."""
    from docking.models import BusyCell

    BusyCell.objects.filter(slot__application=app).delete()
    Slot.objects.filter(application=app).update(state=Slot.State.OPEN, application=None)
