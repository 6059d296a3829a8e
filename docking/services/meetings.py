"""Availability and one-to-one meetings.

Nobody is in two meetings at once, whichever process accepts: accepting is a conditional
UPDATE of the meeting's state (of two acceptances of one meeting exactly one matches), and the
accepted slot inserts one :class:`~docking.models.BusyCell` per person per 5-minute cell; the
unique constraint ``(user, cell)`` refuses a second meeting, or a booked interview
(recruitment's slots hold cells too), over any cell of either person, on SQLite and
PostgreSQL alike (docs/docking.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from booths.models import BoothStaff
from recruitment.models import Slot
from recruitment.services.notices import notify

from ..models import Availability, Meeting, Project
from ..signals import meeting_changed
from . import DockError, busy, person
from .busy import CELL
from .projects import is_owner, owners

MIN_SLOT, MAX_SLOT = 10, 120  # minutes
MAX_RANGE = timedelta(hours=14)
REMIND_BEFORE = timedelta(minutes=5)
JOIN_EARLY = timedelta(minutes=5)
OPEN = (Meeting.State.REQUESTED, Meeting.State.PROPOSED)
LIVE = (*OPEN, Meeting.State.ACCEPTED)


def _lock_user(user_id: int) -> None:
    """Serialise one person's availability changes."""
    list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))


def _on_grid(moment: datetime) -> bool:
    return moment.timestamp() % CELL == 0


# --- availability -------------------------------------------------------------------------------

def availability_data(row: Availability) -> dict:
    return {"id": row.pk, "starts_at": row.starts_at.isoformat(),
            "ends_at": row.ends_at.isoformat(), "slot_minutes": row.slot_minutes}


def add_availability(user, starts_at: datetime, ends_at: datetime, slot_minutes: int,
                     now: datetime) -> Availability:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise DockError("availability.invalid", "Times need a time zone offset.", 400)
    if not (MIN_SLOT <= slot_minutes <= MAX_SLOT and slot_minutes % 5 == 0):
        raise DockError("availability.invalid",
                        "A slot lasts 10 to 120 minutes, in steps of 5.", 400)
    if not (_on_grid(starts_at) and _on_grid(ends_at)):
        raise DockError("availability.invalid", "Times fall on 5-minute steps.", 400)
    if not starts_at < ends_at <= starts_at + MAX_RANGE:
        raise DockError("availability.invalid",
                        "A range ends after it starts, within one day.", 400)
    if ends_at <= now:
        raise DockError("availability.past", "That time is over.", 400)
    if ends_at - starts_at < timedelta(minutes=slot_minutes):
        raise DockError("availability.invalid", "The range is shorter than one slot.", 400)
    with transaction.atomic():
        _lock_user(user.pk)
        if Availability.objects.filter(user=user, starts_at__lt=ends_at,
                                       ends_at__gt=starts_at).exists():
            raise DockError("availability.overlap", "You have a range at that time already.",
                            409)
        return Availability.objects.create(user=user, starts_at=starts_at, ends_at=ends_at,
                                           slot_minutes=slot_minutes)


def my_availability(user) -> list[dict]:
    return [availability_data(a) for a in Availability.objects.filter(user=user)]


def remove_availability(user, availability_id: int) -> None:
    if not Availability.objects.filter(user=user, pk=availability_id).delete()[0]:
        raise DockError("availability.not_found", f"No range {availability_id}.", 404)


def _busy(user_ids: list[int], lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
    """Times taken by accepted meetings or booked interviews of any of ``user_ids``."""
    taken = [(m.starts_at, m.ends_at) for m in Meeting.objects.filter(
        Q(requester_id__in=user_ids) | Q(recipient_id__in=user_ids),
        state=Meeting.State.ACCEPTED, starts_at__lt=hi, ends_at__gt=lo)]
    taken += [(s.starts_at, s.ends_at) for s in Slot.objects.filter(
        Q(host_id__in=user_ids) | Q(application__candidate_id__in=user_ids),
        state=Slot.State.BOOKED, starts_at__lt=hi, ends_at__gt=lo)]
    return taken


def free_slots(a_id: int, b_id: int, now: datetime, limit: int = 200) -> list[dict]:
    """Slots in both people's availability, later than ``now``, clear of either's meetings
    and interviews. The length is the longer of the two ranges' slot lengths."""
    mine = list(Availability.objects.filter(user_id=a_id, ends_at__gt=now))
    theirs = list(Availability.objects.filter(user_id=b_id, ends_at__gt=now))
    if not mine or not theirs:
        return []
    lo = min(r.starts_at for r in mine + theirs)
    hi = max(r.ends_at for r in mine + theirs)
    taken = _busy([a_id, b_id], lo, hi)
    out = []
    for x in mine:
        for y in theirs:
            start, end = max(x.starts_at, y.starts_at, now), min(x.ends_at, y.ends_at)
            step = timedelta(minutes=max(x.slot_minutes, y.slot_minutes))
            offset = int(start.timestamp()) % CELL
            if offset:
                start += timedelta(seconds=CELL - offset)
            while start + step <= end:
                stop = start + step
                if not any(t0 < stop and t1 > start for t0, t1 in taken):
                    out.append({"starts_at": start.isoformat(), "ends_at": stop.isoformat()})
                start = stop
    out.sort(key=lambda s: s["starts_at"])
    return out[:limit]


# --- meetings -----------------------------------------------------------------------------------

def meeting_data(meeting: Meeting, viewer=None) -> dict:
    data = {
        "id": meeting.pk, "state": meeting.state, "message": meeting.message,
        "requester": person(meeting.requester),
        "recipient": person(meeting.recipient) if meeting.recipient_id else None,
        "project": ({"id": meeting.project_id, "title": meeting.project.title}
                    if meeting.project_id else None),
        "booth": meeting.booth_id,
        "starts_at": meeting.starts_at.isoformat() if meeting.starts_at else None,
        "ends_at": meeting.ends_at.isoformat() if meeting.ends_at else None,
        "proposed_by": meeting.proposed_by_id,
        "created_at": meeting.created_at.isoformat() if meeting.created_at else None,
    }
    if viewer is not None:
        data["may_answer"] = _may_answer(viewer, meeting)
    return data


def _qs():
    return Meeting.objects.select_related("requester__profile", "recipient__profile",
                                          "project")


def _people(meeting: Meeting) -> list[int]:
    """Who hears of a change: the requester and the recipient (or, while nobody of a booth's
    project has answered, all its owners)."""
    if meeting.recipient_id is not None:
        return [meeting.requester_id, meeting.recipient_id]
    if meeting.project_id is not None:
        return [meeting.requester_id, *owners(meeting.project)]
    return [meeting.requester_id]


def _is_party(user, meeting: Meeting) -> bool:
    if user.pk in (meeting.requester_id, meeting.recipient_id):
        return True
    return (meeting.recipient_id is None and meeting.project_id is not None
            and is_owner(user, meeting.project))


def _may_answer(user, meeting: Meeting) -> bool:
    """Whose turn it is: the recipient side for a request, the other side for a proposal."""
    if meeting.state == Meeting.State.REQUESTED:
        return user.pk != meeting.requester_id and _is_party(user, meeting)
    if meeting.state == Meeting.State.PROPOSED:
        return user.pk != meeting.proposed_by_id and _is_party(user, meeting)
    return False


def get(user, meeting_id: int) -> Meeting:
    """A meeting of ``user``; a stranger gets ``meeting.not_found`` (not that it exists)."""
    meeting = _qs().filter(pk=meeting_id).first()
    if meeting is None or not _is_party(user, meeting):
        raise DockError("meeting.not_found", f"No meeting {meeting_id}.", 404)
    return meeting


def _notify(meeting: Meeting, kind: str, actor) -> None:
    notify(_people(meeting), kind, {**meeting_data(meeting), "by": person(actor)})
    meeting_changed.send(sender=Meeting, meeting=meeting, kind=kind)


def request(user, *, message: str = "", project_id: int | None = None,
            user_id: int | None = None) -> Meeting:
    """Ask for a meeting about a project (its owner, or any of its booth's staff answers) or
    with a person (a booth's staff member, an investor: anyone who takes meetings)."""
    if (project_id is None) == (user_id is None):
        raise DockError("meeting.invalid", "Ask about a project or to meet a person.", 400)
    project = recipient = booth = None
    if project_id is not None:
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise DockError("project.not_found", f"No project {project_id}.", 404)
        if is_owner(user, project):
            raise DockError("meeting.self", "That is your own project.", 400)
        recipient, booth = project.owner_id, project.booth_id
    else:
        if user_id == user.pk:
            raise DockError("meeting.self", "You cannot meet yourself.", 400)
        target = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if target is None:
            raise DockError("user.not_found", f"No user {user_id}.", 404)
        recipient = target.pk
        booth = (BoothStaff.objects.filter(user_id=target.pk)
                 .values_list("booth_id", flat=True).first())
    if Meeting.objects.filter(requester=user, state__in=OPEN, project_id=project_id,
                              recipient_id=recipient).exists():
        raise DockError("meeting.pending", "You have asked for this meeting already.", 409)
    with transaction.atomic():
        meeting = Meeting.objects.create(requester=user, recipient_id=recipient,
                                         project=project, booth_id=booth, message=message)
        meeting = _qs().get(pk=meeting.pk)
        _notify(meeting, "meeting.requested", user)
    return meeting


def _slot(starts_at: datetime, minutes: int, now: datetime) -> tuple[datetime, datetime]:
    if starts_at.tzinfo is None:
        raise DockError("meeting.invalid_slot", "The time needs a time zone offset.", 400)
    if not (MIN_SLOT <= minutes <= MAX_SLOT and minutes % 5 == 0):
        raise DockError("meeting.invalid_slot",
                        "A meeting lasts 10 to 120 minutes, in steps of 5.", 400)
    if not _on_grid(starts_at):
        raise DockError("meeting.invalid_slot", "A meeting starts on a 5-minute step.", 400)
    if starts_at <= now:
        raise DockError("meeting.past", "That time is over; pick a later slot.", 400)
    return starts_at, starts_at + timedelta(minutes=minutes)


def _within_availability(user_id: int, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether the slot lies in the person's availability (someone who keeps none takes
    meetings at any time)."""
    rows = Availability.objects.filter(user_id=user_id)
    if not rows.exists():
        return True
    return rows.filter(starts_at__lte=starts_at, ends_at__gte=ends_at).exists()


def propose(user, meeting_id: int, starts_at: datetime, minutes: int,
            now: datetime) -> Meeting:
    """Answer with another slot: the other side may then accept, decline or propose."""
    meeting = get(user, meeting_id)
    if not _may_answer(user, meeting):
        raise DockError("meeting.not_yours", "It is the other side's turn to answer.", 409)
    start, end = _slot(starts_at, minutes, now)
    if not _within_availability(user.pk, start, end):
        raise DockError("meeting.unavailable", "That slot is outside your availability.", 409)
    with transaction.atomic():
        changed = Meeting.objects.filter(pk=meeting.pk, state=meeting.state).filter(
            Q(recipient__isnull=True) | Q(recipient_id=meeting.recipient_id)).update(
            state=Meeting.State.PROPOSED, starts_at=start, ends_at=end, proposed_by=user,
            recipient_id=meeting.recipient_id or user.pk)
        if not changed:
            raise DockError("meeting.changed", "The meeting changed meanwhile; reload it.", 409)
        meeting = _qs().get(pk=meeting.pk)
        _notify(meeting, "meeting.proposed", user)
    return meeting


def accept(user, meeting_id: int, now: datetime, starts_at: datetime | None = None,
           minutes: int = 30) -> Meeting:
    """Accept a request with a slot (``starts_at``), or a proposal with its slot."""
    meeting = get(user, meeting_id)
    if not _may_answer(user, meeting):
        raise DockError("meeting.not_yours", "It is the other side's turn to answer.", 409)
    if meeting.state == Meeting.State.PROPOSED:
        if starts_at is not None and starts_at != meeting.starts_at:
            raise DockError("meeting.invalid_slot",
                            "Accept the proposed slot, or propose another.", 400)
        start, end = meeting.starts_at, meeting.ends_at
        if start <= now:
            raise DockError("meeting.past", "The proposed time is over; propose another.", 400)
    else:
        if starts_at is None:
            raise DockError("meeting.invalid_slot", "Choose a slot to accept.", 400)
        start, end = _slot(starts_at, minutes, now)
    recipient = meeting.recipient_id or user.pk
    for uid in (meeting.requester_id, recipient):
        if not _within_availability(uid, start, end):
            who = "your" if uid == user.pk else "the other side's"
            raise DockError("meeting.unavailable", f"That slot is outside {who} availability.",
                            409)
    try:
        with transaction.atomic():
            changed = Meeting.objects.filter(pk=meeting.pk, state=meeting.state).filter(
                Q(recipient__isnull=True) | Q(recipient_id=recipient)).update(
                state=Meeting.State.ACCEPTED, starts_at=start, ends_at=end,
                recipient_id=recipient)
            if not changed:
                raise DockError("meeting.changed", "The meeting changed meanwhile; reload it.",
                                409)
            # Taken by another meeting or a booked interview of either: IntegrityError.
            busy.hold([meeting.requester_id, recipient], start, end, meeting_id=meeting.pk)
            meeting = _qs().get(pk=meeting.pk)
            _notify(meeting, "meeting.accepted", user)
    except IntegrityError:
        raise DockError("meeting.overlap",
                        "One of you has another meeting or an interview at that time.",
                        409) from None
    return meeting


def decline(user, meeting_id: int) -> Meeting:
    meeting = get(user, meeting_id)
    if not _may_answer(user, meeting):
        raise DockError("meeting.not_yours", "It is the other side's turn to answer.", 409)
    with transaction.atomic():
        if not Meeting.objects.filter(pk=meeting.pk, state=meeting.state).update(
                state=Meeting.State.DECLINED, recipient_id=meeting.recipient_id or user.pk):
            raise DockError("meeting.changed", "The meeting changed meanwhile; reload it.", 409)
        meeting = _qs().get(pk=meeting.pk)
        _notify(meeting, "meeting.declined", user)
    return meeting


def cancel(user, meeting_id: int) -> Meeting:
    """Either side calls off a meeting that is asked for or agreed; its time is free again."""
    meeting = get(user, meeting_id)
    if meeting.state not in LIVE:
        raise DockError("meeting.changed", f"The meeting is {meeting.state}.", 409)
    with transaction.atomic():
        if not Meeting.objects.filter(pk=meeting.pk, state=meeting.state).update(
                state=Meeting.State.CANCELLED):
            raise DockError("meeting.changed", "The meeting changed meanwhile; reload it.", 409)
        busy.free(meeting_id=meeting.pk)
        meeting = _qs().get(pk=meeting.pk)
        _notify(meeting, "meeting.cancelled", user)
    return meeting


def for_user(user, state: str = "") -> list[dict]:
    booths = list(BoothStaff.objects.filter(user=user).values_list("booth_id", flat=True))
    qs = _qs().filter(Q(requester=user) | Q(recipient=user) | Q(
        recipient__isnull=True, project__booth_id__in=booths))
    if state:
        qs = qs.filter(state=state)
    return [meeting_data(m, user) for m in qs]


def options(user, meeting_id: int, now: datetime) -> list[dict]:
    """The free slots of both sides, for whoever answers."""
    meeting = get(user, meeting_id)
    other = meeting.requester_id if user.pk != meeting.requester_id else meeting.recipient_id
    if other is None:
        return []
    return free_slots(user.pk, other, now)


# --- the sweep and joining ----------------------------------------------------------------------

def sweep(now: datetime) -> dict:
    """Send each accepted meeting's reminder once, shortly before it; mark finished meetings
    ``done`` or, if nobody joined, ``missed``. Safe to run in every process at once: each
    change is a conditional UPDATE."""
    reminded = missed = done = 0
    due = _qs().filter(state=Meeting.State.ACCEPTED, reminded_at__isnull=True,
                       starts_at__lte=now + REMIND_BEFORE, ends_at__gt=now)
    for meeting in due:
        with transaction.atomic():
            if Meeting.objects.filter(pk=meeting.pk, reminded_at__isnull=True).update(
                    reminded_at=now):
                notify(_people(meeting), "meeting.reminder", {
                    **meeting_data(meeting),
                    "in_seconds": max(0, int((meeting.starts_at - now).total_seconds()))})
                reminded += 1
    for meeting in _qs().filter(state=Meeting.State.ACCEPTED, ends_at__lte=now):
        nobody = meeting.requester_joined_at is None and meeting.recipient_joined_at is None
        state = Meeting.State.MISSED if nobody else Meeting.State.DONE
        with transaction.atomic():
            if Meeting.objects.filter(pk=meeting.pk, state=Meeting.State.ACCEPTED).update(
                    state=state):
                if nobody:
                    meeting.state = state
                    notify(_people(meeting), "meeting.missed", meeting_data(meeting))
                    missed += 1
                else:
                    done += 1
    return {"reminded": reminded, "missed": missed, "done": done}


def joinable(user, meeting_id: int, now: datetime) -> Meeting:
    """The accepted meeting ``user`` may join now (5 minutes before its start to its end);
    stamps that they joined."""
    meeting = _qs().filter(Q(requester=user) | Q(recipient=user), pk=meeting_id).first()
    if meeting is None or meeting.state != Meeting.State.ACCEPTED:
        raise DockError("meeting.not_found", f"You have no accepted meeting {meeting_id}.",
                        404)
    if not meeting.starts_at - JOIN_EARLY <= now <= meeting.ends_at:
        raise DockError("meeting.not_now",
                        "The meeting can be joined from 5 minutes before its start to its "
                        "end.", 409, starts_at=meeting.starts_at.isoformat(),
                        ends_at=meeting.ends_at.isoformat())
    column = ("requester_joined_at" if user.pk == meeting.requester_id
              else "recipient_joined_at")
    Meeting.objects.filter(pk=meeting.pk, **{f"{column}__isnull": True}).update(
        **{column: now})
    return meeting
