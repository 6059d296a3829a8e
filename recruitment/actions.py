"""WebSocket actions of recruitment (docs/protocol.md, "Recruitment"): catching up on notices,
marking them read, and joining an interview call at its slot.

Imported by :class:`recruitment.apps.RecruitmentConfig.ready`, which registers them with the
booths app's action table.
"""

from __future__ import annotations

from typing import Annotated

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from pydantic import Field

from booths.actions import CLOSE_HOOKS, Session, action
from booths.protocol import ErrorCode, ProtocolError, _Data, register_error_codes
from hallserver.realtime.frames import event
from streaming.rendezvous import Rendezvous

from . import clock
from .errors import RecruitCode
from .services import notices, slots

NoticeId = Annotated[int, Field(ge=0, le=2**53)]


register_error_codes(RecruitCode.SLOT_NOT_FOUND, RecruitCode.NOT_NOW)


class SyncData(_Data):
    after: NoticeId = 0


class ReadData(_Data):
    upto: NoticeId


class SlotRef(_Data):
    slot: Annotated[int, Field(ge=1, le=2**53)]


def need_user(session: Session) -> int:
    if session.visitor is None:
        raise ProtocolError(ErrorCode.AUTH_REQUIRED, "Log in or enter as a guest first.")
    return session.visitor.id


@action("recruit.sync", SyncData)
async def recruit_sync(session: Session, data: SyncData) -> dict:
    """Every notice after ``after`` and the unread counts (what a reconnect missed)."""
    user_id = need_user(session)
    return await database_sync_to_async(notices.sync)(user_id, data.after)


@action("recruit.read", ReadData)
async def recruit_read(session: Session, data: ReadData) -> dict:
    user_id = need_user(session)
    return await database_sync_to_async(notices.mark_read)(user_id, data.upto)


@database_sync_to_async
def _joinable(user_id: int, slot_id: int) -> tuple[dict, bool, int]:
    user = get_user_model().objects.get(pk=user_id)
    now = clock.now()
    slot, host = slots.joinable(user, slot_id, now)
    other = slot.application.candidate_id if host else slot.host_id
    # How long a waiting side is remembered: to the slot's end, and a minute more.
    wait = max(60.0, (slot.ends_at - now).total_seconds() + 60)
    return {"booth": slot.booth_id, "wait": wait}, host, other


#: The first of the two waits, the second pairs the call (shared with meetings).
interviews = Rendezvous("interview", "iv", "The interview is busy; try again.",
                        lambda data: event("interview.waiting", data))


@action("interview.join", SlotRef)
async def interview_join(session: Session, data: SlotRef) -> dict:
    """Join the interview of a booked slot (its host or its candidate, within its window).
    The first of the two waits; the second sets up a call of exactly those two."""
    user_id = need_user(session)
    slot, host, other = await _joinable(user_id, data.slot)  # RecruitError: the reply
    return await interviews.join(session, data.slot, user_id=user_id, other=other,
                                 booth=slot["booth"], wait=slot["wait"], staff=host,
                                 reply={"slot": data.slot})


on_session_closed = interviews.on_session_closed

if on_session_closed not in CLOSE_HOOKS:
    CLOSE_HOOKS.append(on_session_closed)
