"""The booth's inbox: items from several sources (leads, applications, meeting requests,
reported problems), with a shared status, note and read flag.

A source is registered in :data:`SOURCES` (docs/console.md, "Inbox sources"); the console, the
unread counts and the exports only go through that registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from booths.models import BoothStaff, Report
from booths.services.identity import display_name
from docking.models import Meeting
from docking.services import meetings as dock_meetings
from hallserver.realtime.frames import event
from hallserver.realtime.hub import hub
from recruitment import clock
from recruitment.models import Application, Status
from recruitment.services import applications as recruit_apps
from recruitment.services.notices import booth_staff
from streaming.models import Lead

from ..models import InboxState
from . import ConsoleError

NOTE_MAX = 2000


@dataclass
class Source:
    """One kind of inbox item.

    ``items(booth)``: dicts with ``ref``, ``at`` (ISO), ``who`` ({"id", "name"}), ``title``,
    ``text``, ``contact``, ``status`` (the source's own, or None to use the stored one).
    ``statuses``: what staff may set. ``change(user, booth, ref, status)``: set a status the
    source keeps itself (None: the stored status is the status). ``columns``: the export's
    header and the function giving a row from an item.
    """

    name: str
    items: Callable[[int], list[dict]]
    statuses: tuple[str, ...]
    default_status: str
    change: Callable[[object, int, int, str], None] | None = None
    columns: list[tuple[str, Callable[[dict], object]]] = field(default_factory=list)


# --- leads ------------------------------------------------------------------------------------

def _lead_items(booth_id: int) -> list[dict]:
    return [{"ref": lead.pk, "at": lead.created_at.isoformat(),
             "who": {"id": lead.user_id, "name": lead.name}, "title": lead.name,
             "text": lead.message, "contact": lead.contact,
             "status": None}
            for lead in Lead.objects.filter(booth_id=booth_id).order_by("-created_at", "-id")]


def _lead_change(user, booth_id: int, ref: int, status: str) -> None:
    Lead.objects.filter(booth_id=booth_id, pk=ref).update(handled=status == "done")


# --- applications -----------------------------------------------------------------------------

def _application_items(booth_id: int) -> list[dict]:
    rows = (Application.objects.filter(booth_id=booth_id).exclude(status=Status.WITHDRAWN)
            .select_related("job", "candidate__profile").order_by("-created_at", "-id"))
    return [{"ref": app.pk, "at": app.created_at.isoformat(),
             "who": {"id": app.candidate_id, "name": display_name(app.candidate)},
             "title": app.job.title, "text": app.cover_note, "contact": "",
             "status": app.status} for app in rows]


def _application_change(user, booth_id: int, ref: int, status: str) -> None:
    if not Application.objects.filter(pk=ref, booth_id=booth_id).exists():
        raise ConsoleError("inbox.not_found", f"No application {ref} at this booth.", 404)
    recruit_apps.move(user, ref, status)  # its RecruitError carries its own status


# --- reported problems: reports on chat messages in the booth's rooms ---------------------------

def _report_items(booth_id: int) -> list[dict]:
    rows = (Report.objects.filter(message__room__booth_id=booth_id)
            .select_related("message", "reporter__profile").order_by("-created_at", "-id"))
    return [{"ref": r.pk, "at": r.created_at.isoformat(),
             "who": {"id": r.reporter_id,
                     "name": display_name(r.reporter) if r.reporter else ""},
             "title": r.reason or "report", "text": r.message.body, "contact": "",
             "status": r.status} for r in rows]


def _report_change(user, booth_id: int, ref: int, status: str) -> None:
    Report.objects.filter(pk=ref, message__room__booth_id=booth_id).update(status=status)


# --- meeting requests (project docking): asked of the booth's projects or of its staff ----------

def booth_meetings(booth_id: int):
    """Meetings addressed to the booth: about one of its projects, or asked of one of its staff
    in person (no project). Newest first."""
    staff = BoothStaff.objects.filter(booth_id=booth_id).values("user_id")
    return (Meeting.objects.filter(Q(project__booth_id=booth_id)
                                   | Q(project__isnull=True, recipient_id__in=staff))
            .select_related("requester__profile", "recipient__profile", "project")
            .order_by("-created_at", "-id"))


def meeting_booths(meeting: Meeting) -> list[int]:
    """The booths whose inbox holds ``meeting`` (the inverse of :func:`booth_meetings`)."""
    if meeting.project_id is not None:
        booth = meeting.project.booth_id if meeting.project else None
        return [booth] if booth is not None else []
    if meeting.recipient_id is None:
        return []
    return list(BoothStaff.objects.filter(user_id=meeting.recipient_id)
                .values_list("booth_id", flat=True))


def _meeting_items(booth_id: int) -> list[dict]:
    return [{"ref": m.pk, "at": m.created_at.isoformat(),
             "who": {"id": m.requester_id, "name": display_name(m.requester)},
             "title": m.project.title if m.project_id else "", "text": m.message,
             "contact": "", "status": m.state,
             "meeting": {"to": ({"id": m.recipient_id, "name": display_name(m.recipient)}
                                if m.recipient_id else None),
                         "project": m.project_id,
                         "starts_at": m.starts_at.isoformat() if m.starts_at else None,
                         "ends_at": m.ends_at.isoformat() if m.ends_at else None,
                         "proposed_by": m.proposed_by_id}}
            for m in booth_meetings(booth_id)]


def _meeting_change(user, booth_id: int, ref: int, status: str) -> None:
    """Answer through docking's services, which tell the requester: ``accepted`` takes a
    proposed slot (a request needs a slot: POST /api/meetings/{id}/accept), ``declined``,
    ``cancelled``. A meeting asked of one staff member in person is theirs to answer."""
    meeting = Meeting.objects.select_related("recipient__profile").get(pk=ref)
    if meeting.recipient_id not in (None, user.pk) and meeting.requester_id != user.pk:
        raise ConsoleError("meeting.not_yours",
                           f"{display_name(meeting.recipient)} answers this meeting.", 409)
    if status == Meeting.State.ACCEPTED:
        dock_meetings.accept(user, ref, clock.now())
    elif status == Meeting.State.DECLINED:
        dock_meetings.decline(user, ref)
    else:
        dock_meetings.cancel(user, ref)


def _common_columns(contact: bool) -> list[tuple[str, Callable[[dict], object]]]:
    cols = [("id", lambda i: i["ref"]), ("received", lambda i: i["at"]),
            ("name", lambda i: i["who"]["name"])]
    if contact:
        cols.append(("contact", lambda i: i["contact"]))
    return cols


SOURCES: dict[str, Source] = {
    "leads": Source("leads", _lead_items, ("new", "contacted", "done"), "new", _lead_change,
                    [*_common_columns(True), ("message", lambda i: i["text"]),
                     ("status", lambda i: i["status"]), ("note", lambda i: i["note"])]),
    "applications": Source(
        "applications", _application_items, tuple(Status.values), Status.SUBMITTED,
        _application_change,
        [*_common_columns(False), ("job", lambda i: i["title"]),
         ("cover note", lambda i: i["text"]), ("status", lambda i: i["status"]),
         ("note", lambda i: i["note"])]),
    "reports": Source("reports", _report_items, ("open", "resolved"), "open", _report_change,
                      [*_common_columns(False), ("reason", lambda i: i["title"]),
                       ("message", lambda i: i["text"]), ("status", lambda i: i["status"])]),
    "meetings": Source(
        "meetings", _meeting_items,
        (Meeting.State.ACCEPTED, Meeting.State.DECLINED, Meeting.State.CANCELLED),
        Meeting.State.REQUESTED, _meeting_change,
        [*_common_columns(False), ("project", lambda i: i["title"]),
         ("with", lambda i: (i["meeting"]["to"] or {}).get("name", "")),
         ("message", lambda i: i["text"]), ("state", lambda i: i["status"]),
         ("starts", lambda i: i["meeting"]["starts_at"] or ""),
         ("ends", lambda i: i["meeting"]["ends_at"] or ""), ("note", lambda i: i["note"])]),
}


def source(name: str) -> Source:
    found = SOURCES.get(name)
    if found is None:
        raise ConsoleError("inbox.bad_source",
                           f"No inbox source {name!r}; there are {', '.join(SOURCES)}.", 400)
    return found


def items(booth_id: int, name: str) -> list[dict]:
    """A source's items of a booth, with the team's state (read, status, note)."""
    src = source(name)
    rows = src.items(booth_id)
    states = {s.ref: s for s in InboxState.objects.filter(
        booth_id=booth_id, source=name, ref__in=[r["ref"] for r in rows])}
    for row in rows:
        state = states.get(row["ref"])
        row["source"] = name
        row["read"] = bool(state and state.read)
        row["note"] = state.note if state else ""
        if row["status"] is None:
            row["status"] = (state.status if state and state.status else src.default_status)
    return rows


def unread(booth_id: int) -> dict:
    """Per source, the items nobody of the team has opened yet, and the total."""
    counts = {name: sum(not r["read"] for r in items(booth_id, name)) for name in SOURCES}
    return {"booth": booth_id, "sources": counts, "total": sum(counts.values())}


def update(user, booth_id: int, name: str, ref: int, *, read: bool | None = None,
           status: str | None = None, note: str | None = None) -> dict:
    """Change one item's state; every staff socket of the booth hears the new counts."""
    src = source(name)
    if not any(r["ref"] == ref for r in src.items(booth_id)):
        raise ConsoleError("inbox.not_found", f"No {name} item {ref} at this booth.", 404)
    if status is not None and status not in src.statuses:
        raise ConsoleError("inbox.bad_status",
                           f"Status of {name} is one of {', '.join(src.statuses)}.", 400)
    if note is not None and len(note) > NOTE_MAX:
        raise ConsoleError("inbox.invalid", f"Notes have at most {NOTE_MAX} characters.", 400)
    with transaction.atomic():
        state, _ = InboxState.objects.select_for_update().get_or_create(
            booth_id=booth_id, source=name, ref=ref)
        if status is not None:
            if src.change is not None:
                src.change(user, booth_id, ref, status)
            state.status = status
            state.read = True  # a status is set by someone who looked at it
        if read is not None:
            state.read = read
        if note is not None:
            state.note = note.strip()
        state.updated_at, state.updated_by = timezone.now(), user
        state.save()
        transaction.on_commit(lambda: changed(booth_id))
    return next(r for r in items(booth_id, name) if r["ref"] == ref)


def changed(booth_id: int) -> None:
    """Tell every socket of the booth's staff the booth's unread counts (``console.inbox``)."""
    frame = event("console.inbox", unread(booth_id))
    async_to_sync(_send)(booth_staff(booth_id), frame)


async def _send(users: list[int], frame: str) -> None:
    for user_id in users:
        await hub.to_user(user_id, frame)
