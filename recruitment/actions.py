"""WebSocket actions of recruitment (docs/protocol.md, "Recruitment"): catching up on notices,
marking them read, and joining an interview call at its slot.

Imported by :class:`recruitment.apps.RecruitmentConfig.ready`, which registers them with the
booths app's action table.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from pydantic import Field

from booths.actions import CLOSE_HOOKS, Session, action
from booths.protocol import ErrorCode, ProtocolError, _Data, register_error_codes
from hallserver.realtime.frames import event
from hallserver.realtime.hub import hub
from streaming.calls import calls, new_id, public_party
from streaming.turn import ice_servers

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


#: Connection address → slots it waits at (so that a closing socket stops waiting).
_waiting: dict[str, set[int]] = {}


def _wait_key(slot_id: int) -> str:
    return f"interview:{slot_id}"


@action("interview.join", SlotRef)
async def interview_join(session: Session, data: SlotRef) -> dict:
    """Join the interview of a booked slot (its host or its candidate, within its window).
    The first of the two waits; the second sets up a call of exactly those two."""
    user_id = need_user(session)
    slot, host, other = await _joinable(user_id, data.slot)  # RecruitError: the reply
    service = calls()
    await service.start()
    address = session.conn.address
    me = {"user": user_id, "name": session.visitor.name, "addr": address, "staff": host}
    key = _wait_key(data.slot)
    ttl = slot["wait"]
    for _ in range(3):
        if await service.kv.set(key, me, ttl=ttl, nx=True):
            _waiting.setdefault(address, set()).add(data.slot)
            await hub.to_user(other, event("interview.waiting", {
                "slot": data.slot, "user": {"id": user_id, "name": me["name"]}}))
            return {"slot": data.slot, "waiting": True}
        first = await service.kv.get(key)
        if first is None:
            continue
        if first["user"] == user_id:
            await service.kv.set(key, me, ttl=ttl)  # the same person, from this connection now
            _waiting.setdefault(address, set()).add(data.slot)
            return {"slot": data.slot, "waiting": True}
        if not await service.kv.delete_if(key, first):
            continue  # changed meanwhile: look again
        _forget(first["addr"], data.slot)
        call = await service.pair(f"iv{data.slot}-{new_id()}", slot["booth"], first, me)
        return {"slot": data.slot, "waiting": False, "call": call["id"], "booth": slot["booth"],
                "role": "offerer", "peer": {"id": first["user"], "name": first["name"]},
                "participants": [public_party(p) for p in call["parties"]],
                "ice_servers": ice_servers(user_id)}
    raise ProtocolError(ErrorCode.SERVER_ERROR, "The interview is busy; try again.")


def _forget(address: str, slot_id: int) -> None:
    waits = _waiting.get(address)
    if waits is not None:
        waits.discard(slot_id)
        if not waits:
            del _waiting[address]


async def on_session_closed(session: Session) -> None:
    """A closing socket stops waiting at its interviews."""
    address = session.conn.address
    waits = _waiting.pop(address, set()) if address else set()
    if not waits:
        return
    service = calls()
    for slot_id in waits:
        with contextlib.suppress(Exception):
            first = await service.kv.get(_wait_key(slot_id))
            if first is not None and first["addr"] == address:
                await service.kv.delete_if(_wait_key(slot_id), first)


if on_session_closed not in CLOSE_HOOKS:
    CLOSE_HOOKS.append(on_session_closed)
