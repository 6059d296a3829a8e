"""Moderation data: sanctions, the audit log, reports, held messages, the word filter, Q&A
and room statistics. Synchronous functions run in the database thread via ``db``."""

from __future__ import annotations

import time
from datetime import timedelta

import structlog
from channels.db import database_sync_to_async as db
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from ..errors import ErrorCode, ModerationError
from ..models import (
    AuditEntry,
    ChatMessage,
    FilteredWord,
    HeldMessage,
    Question,
    QuestionVote,
    Report,
    Roadshow,
    Room,
    Sanction,
)
from .chat import MESSAGE_FIELDS, message_data
from .identity import Visitor, display_name
from .rooms import RoomInfo

log = structlog.get_logger(__name__)


def _user_ref(user_id: int | None, name: str | None) -> dict | None:
    return None if user_id is None else {"id": user_id, "name": name or ""}


@db
def user_ref(user_id: int) -> dict:
    user = get_user_model().objects.select_related("profile").filter(pk=user_id).first()
    if user is None:
        raise ModerationError(ErrorCode.USER_NOT_FOUND, f"No user {user_id}.")
    return {"id": user.pk, "name": display_name(user)}


# --- audit ---------------------------------------------------------------------------------------

@db
def audit(actor: Visitor, action: str, *, target: int | None = None,
          room: RoomInfo | None = None, hall: int | None = None, details: dict | None = None,
          reason: str = "") -> dict:
    entry = AuditEntry.objects.create(
        actor_id=actor.id, action=action, target_id=target, room_id=room.id if room else None,
        hall_id=room.hall_id if room else hall, details=details or {}, reason=reason,
    )
    log.info("moderator action", action=action, actor=actor.id, target=target,
             room=room.id if room else None, hall=entry.hall_id, audit=entry.pk)
    return _audit_data(entry)


def _audit_data(e: AuditEntry) -> dict:
    return {"id": e.pk, "ts": e.created_at.timestamp(), "action": e.action,
            "actor": _user_ref(e.actor_id, e.actor and display_name(e.actor)),
            "target": _user_ref(e.target_id, e.target and display_name(e.target)),
            "room": e.room_id, "hall": e.hall_id, "details": e.details, "reason": e.reason}


@db
def audit_log(*, hall: int | None, actor: int | None, action: str | None, target: int | None,
              room: int | None, before: int | None, limit: int) -> tuple[list[dict], bool]:
    qs = AuditEntry.objects.select_related("actor__profile", "target__profile")
    if hall is not None:
        qs = qs.filter(hall_id=hall)
    for field, value in (("actor_id", actor), ("action", action), ("target_id", target),
                         ("room_id", room)):
        if value is not None:
            qs = qs.filter(**{field: value})
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-pk")[: limit + 1])
    return [_audit_data(e) for e in rows[:limit]], len(rows) > limit


# --- sanctions -----------------------------------------------------------------------------------

@db
def add_sanction(kind: str, user_id: int, room_id: int | None, minutes: int | None,
                 reason: str, by: Visitor) -> float | None:
    until = timezone.now() + timedelta(minutes=minutes) if minutes else None
    Sanction.objects.create(kind=kind, user_id=user_id, room_id=room_id, until=until,
                            reason=reason, created_by_id=by.id)
    return until.timestamp() if until else None


@db
def lift_sanctions(kind: str, user_id: int, room_id: int | None) -> int:
    qs = Sanction.objects.filter(kind=kind, user_id=user_id, lifted_at__isnull=True)
    if kind == Sanction.Kind.MUTE:
        qs = qs.filter(room_id=room_id)
    return qs.update(lifted_at=timezone.now())


@db
def ban_of(user_id: int) -> Sanction | None:
    from . import sanctions

    return sanctions.active(user_id, Sanction.Kind.BAN, None, timezone.now())


# --- rooms ---------------------------------------------------------------------------------------

@db
def update_room(room_id: int, **fields) -> dict:
    Room.objects.filter(pk=room_id).update(**fields)
    return Room.objects.filter(pk=room_id).values("read_only", "slow_mode_seconds",
                                                  "pinned_seq").get()


@db
def kept_rooms(visitor: Visitor, *, hall: int | None = None, q: str = "",
               ids: list[int] | None = None, recent: bool = True) -> list[dict]:
    """The public rooms (with their facts) that ``visitor`` keeps, for the console; only
    those of ``hall``, whose title contains ``q`` or whose id is in ``ids`` when given.
    ``recent=False`` leaves out the messages of the last five minutes (``messages_5min``)."""
    qs = Room.objects.exclude(kind=Room.Kind.MODERATION)
    if not (visitor.is_admin or (visitor.is_moderator and visitor.moderated_hall is None)):
        keep = Q(booth_id__in=visitor.staff_of)
        if visitor.is_moderator and visitor.moderated_hall is not None:
            keep |= Q(hall_id=visitor.moderated_hall)
        qs = qs.filter(keep)
    if hall is not None:
        qs = qs.filter(hall_id=hall)
    if q:
        qs = qs.filter(title__icontains=q)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    if recent:
        since = timezone.now() - timedelta(minutes=5)
        qs = qs.annotate(recent=Count("messages", filter=Q(messages__created_at__gte=since)))
    return [{"id": r.pk, "kind": r.kind, "title": r.title, "hall": r.hall_id,
             "booth": r.booth_id, "messages_5min": getattr(r, "recent", 0),
             "read_only": r.read_only, "slow_mode": r.slow_mode_seconds}
            for r in qs.order_by("hall_id", "kind", "pk")]


# --- reports and held messages -------------------------------------------------------------------

def _report_data(r: Report) -> dict:
    row = {f: getattr(r.message, "pk" if f == "pk" else f) for f in MESSAGE_FIELDS}
    return {"id": r.pk, "room": r.message.room_id, "seq": r.message.seq,
            "message": message_data(r.message.room_id, row), "reason": r.reason,
            "reporter": _user_ref(r.reporter_id, r.reporter and display_name(r.reporter)),
            "status": r.status, "ts": r.created_at.timestamp()}


@db
def create_report(room_id: int, seq: int, reporter: Visitor, reason: str) -> dict:
    message = ChatMessage.objects.filter(room_id=room_id, seq=seq).first()
    if message is None:
        raise ModerationError(ErrorCode.MESSAGE_NOT_FOUND, f"No message {seq} in this room.")
    report = Report.objects.create(message=message, reporter_id=reporter.id, reason=reason)
    return _report_data(Report.objects.select_related("message", "reporter__profile")
                        .get(pk=report.pk))


@db
def reports(rooms: list[int] | None, status: str) -> list[dict]:
    qs = Report.objects.select_related("message", "reporter__profile").filter(status=status)
    if rooms is not None:
        qs = qs.filter(message__room_id__in=rooms)
    return [_report_data(r) for r in qs.order_by("-pk")[:200]]


@db
def report_by_id(report_id: int) -> dict:
    report = Report.objects.select_related("message", "reporter__profile").filter(
        pk=report_id).first()
    if report is None:
        raise ModerationError(ErrorCode.REPORT_NOT_FOUND, f"No report {report_id}.")
    return _report_data(report)


@db
def resolve_report(report_id: int) -> None:
    Report.objects.filter(pk=report_id).update(status=Report.Status.RESOLVED)


@db
def resolve_reports_of(room_id: int, seq: int) -> None:
    Report.objects.filter(message__room_id=room_id, message__seq=seq).update(
        status=Report.Status.RESOLVED)


def _held_data(h: HeldMessage) -> dict:
    return {"id": h.pk, "room": h.room_id, "user": {"id": h.author_id, "name": h.author_name},
            "body": h.body, "word": h.word, "ts": h.created_at.timestamp()}


@db
def hold(room: RoomInfo, visitor: Visitor, body: str, word: str,
         client_id: str | None = None) -> tuple[dict, bool]:
    """Put a message in the moderators' queue; ``(its data, whether it is new)``. A retried
    send (same sender, room and ``client_id``) finds the first one, whether it is still
    waiting or a moderator decided on it already."""
    if client_id:
        earlier = HeldMessage.objects.filter(room_id=room.id, author_id=visitor.id,
                                             client_id=client_id).first()
        if earlier is not None:
            return _held_data(earlier), False
    try:
        with transaction.atomic():
            h = HeldMessage.objects.create(room_id=room.id, author_id=visitor.id,
                                           author_name=visitor.name, body=body, word=word,
                                           client_id=client_id or "")
    except IntegrityError:  # the same retry on another process, a moment earlier
        earlier = HeldMessage.objects.filter(room_id=room.id, author_id=visitor.id,
                                             client_id=client_id or "").first()
        if earlier is None:
            raise
        return _held_data(earlier), False
    return _held_data(h), True


@db
def held(rooms: list[int] | None) -> list[dict]:
    qs = HeldMessage.objects.filter(decided_at__isnull=True)
    if rooms is not None:
        qs = qs.filter(room_id__in=rooms)
    return [_held_data(h) for h in qs.order_by("pk")[:200]]


@db
def held_by_id(held_id: int) -> dict:
    """A held message, left where it is (to check the caller's right before taking it)."""
    h = HeldMessage.objects.filter(pk=held_id, decided_at__isnull=True).first()
    if h is None:
        raise ModerationError(ErrorCode.HELD_NOT_FOUND, f"No held message {held_id}.")
    return _held_data(h)


@db
def take_held(held_id: int) -> dict:
    with transaction.atomic():
        h = (HeldMessage.objects.select_for_update()
             .filter(pk=held_id, decided_at__isnull=True).first())
        if h is None:
            raise ModerationError(ErrorCode.HELD_NOT_FOUND, f"No held message {held_id}.")
        data = {**_held_data(h), "client_id": h.client_id}
        if h.client_id:
            # Kept, decided: a retry of this send must not be held again.
            h.decided_at = timezone.now()
            h.save(update_fields=["decided_at"])
        else:
            h.delete()
    return data


class WordFilter:
    """Filtered words, cached for a few seconds per process."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._words: list[tuple[str, str]] = []
        self._expires = 0.0

    async def check(self, text: str) -> tuple[str, str] | None:
        """The first (word, action) found in ``text``, blocking words first."""
        if time.monotonic() > self._expires:
            self._words = await db(lambda: sorted(
                FilteredWord.objects.values_list("word", "action"),
                key=lambda w: w[1] != FilteredWord.Action.BLOCK))()
            self._expires = time.monotonic() + self.ttl
        folded = text.casefold()
        for word, action in self._words:
            if word.casefold() in folded:
                return word, action
        return None


# --- Q&A -----------------------------------------------------------------------------------------

def _question_data(q: Question, voted: bool = False) -> dict:
    return {"id": q.pk, "room": q.room_id, "body": q.body,
            "user": _user_ref(q.author_id, q.author_name), "status": q.status,
            "votes": q.votes, "voted": voted, "ts": q.created_at.timestamp()}


@db
def ask(room_id: int, visitor: Visitor, body: str) -> dict:
    return _question_data(Question.objects.create(room_id=room_id, author_id=visitor.id,
                                                  author_name=visitor.name, body=body))


@db
def question(question_id: int) -> dict:
    q = Question.objects.filter(pk=question_id).first()
    if q is None:
        raise ModerationError(ErrorCode.QUESTION_NOT_FOUND, f"No question {question_id}.")
    return _question_data(q)


@db
def vote(question_id: int, user_id: int, up: bool) -> dict:
    with transaction.atomic():
        q = Question.objects.select_for_update().filter(pk=question_id).first()
        if q is None or q.status not in (Question.Status.APPROVED, Question.Status.ANSWERED):
            raise ModerationError(ErrorCode.QUESTION_NOT_FOUND, f"No question {question_id}.")
        if up:
            try:
                with transaction.atomic():
                    QuestionVote.objects.create(question=q, user_id=user_id)
                Question.objects.filter(pk=q.pk).update(votes=F("votes") + 1)
            except IntegrityError:
                pass  # already voted
        elif QuestionVote.objects.filter(question=q, user_id=user_id).delete()[0]:
            Question.objects.filter(pk=q.pk).update(votes=F("votes") - 1)
        q.refresh_from_db()
    return _question_data(q, voted=up)


@db
def set_question_status(question_id: int, status: str) -> dict:
    updated = Question.objects.filter(pk=question_id).update(status=status)
    if not updated:
        raise ModerationError(ErrorCode.QUESTION_NOT_FOUND, f"No question {question_id}.")
    return _question_data(Question.objects.get(pk=question_id))


@db
def questions(room_id: int, user_id: int | None, with_pending: bool) -> list[dict]:
    statuses = [Question.Status.APPROVED, Question.Status.ANSWERED]
    if with_pending:
        statuses.append(Question.Status.PENDING)
    qs = Question.objects.filter(room_id=room_id, status__in=statuses)
    mine = set(QuestionVote.objects.filter(question__room_id=room_id, user_id=user_id)
               .values_list("question_id", flat=True)) if user_id else set()
    return [_question_data(q, q.pk in mine) for q in qs.order_by("-votes", "created_at")]


@db
def presenter_of(room: RoomInfo) -> set[int]:
    """Users who see a roadshow's pending questions besides moderators: its presenter."""
    presenter = (Roadshow.objects.filter(pk=room.roadshow_id)
                 .values_list("presenter_id", flat=True).first())
    return {presenter} if presenter else set()
