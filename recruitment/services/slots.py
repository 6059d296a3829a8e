"""Interview slots. Staff publish them, offer one to an application, the candidate books it.

Nobody is double-booked, whichever process serves whom: offering and booking are conditional
UPDATEs (``WHERE state = 'open'`` / ``WHERE state = 'offered' AND application = ...``), so of
two at once exactly one matches the row. A booking takes the busy cells of the host and the
candidate (project docking's ``BusyCell``, unique per person and 5-minute cell) in the same
transaction, as an accepted meeting does: one constraint refuses a second interview or a
meeting over the same time of either person, whichever app or process writes. Releasing frees
the cells. A host's published slots may not overlap (checked after locking the host's row).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q

from ..models import Slot, Status
from . import RecruitError, need_staff, staff_booths
from .applications import FINAL, _change, _qs, slot_data
from .notices import booth_staff, notify

MAX_SLOT = timedelta(hours=4)
#: How early before its start an interview may be joined.
JOIN_EARLY = timedelta(minutes=5)


def _lock_user(user_id: int) -> None:
    list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))


def create(user, booth_id: int, starts_at: datetime, ends_at: datetime) -> Slot:
    need_staff(user, booth_id)
    if not starts_at < ends_at <= starts_at + MAX_SLOT:
        raise RecruitError("slot.invalid", "A slot ends after it starts, within 4 hours.", 400)
    try:
        with transaction.atomic():
            _lock_user(user.pk)
            if Slot.objects.filter(host=user, starts_at__lt=ends_at,
                                   ends_at__gt=starts_at).exists():
                raise RecruitError("slot.overlap", "You have a slot at that time already.", 409)
            return Slot.objects.create(booth_id=booth_id, host=user, starts_at=starts_at,
                                       ends_at=ends_at)
    except IntegrityError:
        raise RecruitError("slot.overlap", "You have a slot at that time already.", 409) \
            from None


def for_booth(user, booth_id: int) -> list[dict]:
    need_staff(user, booth_id)
    return [slot_data(s) for s in Slot.objects.filter(booth_id=booth_id)
            .select_related("host__profile")]


def _slot(user, slot_id: int) -> Slot:
    slot = Slot.objects.select_related("application", "host__profile").filter(pk=slot_id).first()
    if slot is None or not (slot.booth_id in staff_booths(user) or (
            slot.application is not None and slot.application.candidate_id == user.pk)):
        raise RecruitError("slot.not_found", f"No slot {slot_id}.", 404)
    return slot


def offer(user, slot_id: int, application_id: int) -> Slot:
    slot = _slot(user, slot_id)
    need_staff(user, slot.booth_id)
    app = _qs().filter(pk=application_id, booth_id=slot.booth_id).first()
    if app is None or app.status == Status.WITHDRAWN:
        raise RecruitError("application.not_found", f"No application {application_id}.", 404)
    if app.status in FINAL:
        raise RecruitError("application.final", f"The application is {app.status}.", 409)
    with transaction.atomic():
        if not Slot.objects.filter(pk=slot.pk, state=Slot.State.OPEN).update(
                state=Slot.State.OFFERED, application=app):
            raise RecruitError("slot.taken", "Someone took this slot first.", 409)
        if app.status != Status.INTERVIEW:
            _change(app, user, Status.INTERVIEW, "interview slot offered")
        slot.refresh_from_db()
        notify([app.candidate_id, *booth_staff(slot.booth_id)], "slot.offered",
               {**slot_data(slot), "job": {"id": app.job_id, "title": app.job.title}})
    return slot


def book(user, slot_id: int) -> Slot:
    """The candidate takes the slot offered to them."""
    slot = _slot(user, slot_id)
    app = slot.application
    if app is None or app.candidate_id != user.pk:
        raise RecruitError("slot.not_found", f"No slot {slot_id}.", 404)
    from docking.services import busy

    try:
        with transaction.atomic():
            if not Slot.objects.filter(pk=slot.pk, state=Slot.State.OFFERED,
                                       application=app).update(state=Slot.State.BOOKED):
                raise RecruitError("slot.taken", "This slot is no longer offered to you.", 409)
            # Taken by a meeting or another interview of either person: IntegrityError.
            busy.hold([user.pk, slot.host_id], slot.starts_at, slot.ends_at, slot_id=slot.pk)
            slot.refresh_from_db()
            notify([app.candidate_id, *booth_staff(slot.booth_id)], "slot.booked",
                   {**slot_data(slot), "job": {"id": app.job_id, "title": app.job.title}})
    except IntegrityError:
        raise RecruitError("slot.overlap", "You or the host have a meeting or another interview "
                           "at that time.", 409) from None
    return slot


def release(user, slot_id: int) -> Slot:
    """The candidate declines (or cancels) the slot, or staff take the offer back: it is
    open again."""
    slot = _slot(user, slot_id)
    app = slot.application
    if app is None:
        raise RecruitError("slot.taken", "The slot is not offered to anyone.", 409)
    from docking.services import busy

    with transaction.atomic():
        if not Slot.objects.filter(pk=slot.pk, application=app).update(
                state=Slot.State.OPEN, application=None):
            raise RecruitError("slot.taken", "The slot changed meanwhile.", 409)
        busy.free(slot_id=slot.pk)
        data = slot_data(slot)
        notify([app.candidate_id, *booth_staff(slot.booth_id)], "slot.released",
               {**data, "state": Slot.State.OPEN, "application": app.pk})
    slot.refresh_from_db()
    return slot


def delete(user, slot_id: int) -> None:
    slot = _slot(user, slot_id)
    need_staff(user, slot.booth_id)
    if not Slot.objects.filter(pk=slot.pk, state=Slot.State.OPEN).delete()[0]:
        raise RecruitError("slot.taken", "Release the slot before deleting it.", 409)


def joinable(user, slot_id: int, now: datetime) -> tuple[Slot, bool]:
    """The booked slot ``user`` may join now, and whether they join as its host (staff)."""
    slot = Slot.objects.select_related("application", "host__profile").filter(
        Q(host=user) | Q(application__candidate=user), pk=slot_id).first()
    if slot is None or slot.state != Slot.State.BOOKED or slot.application is None:
        raise RecruitError("slot.not_found", f"You have no booked interview {slot_id}.", 404)
    if not slot.starts_at - JOIN_EARLY <= now <= slot.ends_at:
        raise RecruitError("interview.not_now",
                           "The interview can be joined from 5 minutes before its start to "
                           "its end.", 409, starts_at=slot.starts_at.isoformat(),
                           ends_at=slot.ends_at.isoformat())
    return slot, slot.host_id == user.pk


def candidate_slots(user) -> list[dict]:
    return [slot_data(s) for s in Slot.objects.filter(application__candidate=user)
            .select_related("host__profile")]

