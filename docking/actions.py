"""WebSocket actions of project docking (docs/protocol.md, "Meetings"): joining a meeting's
one-to-one call at its time. Requests, answers, cancellations and reminders reach people as
``recruit.notice`` events of the shared notice feed (``recruit.sync`` catches up).

Imported by :class:`docking.apps.DockingConfig.ready`, which registers them with the booths
app's action table.
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
from recruitment import clock
from recruitment.actions import need_user
from streaming.calls import calls, new_id, public_party
from streaming.turn import ice_servers

from .errors import DockCode
from .services import meetings

register_error_codes(DockCode.NOT_FOUND, DockCode.NOT_NOW)


class MeetingRef(_Data):
    meeting: Annotated[int, Field(ge=1, le=2**53)]


@database_sync_to_async
def _joinable(user_id: int, meeting_id: int) -> tuple[dict, int]:
    user = get_user_model().objects.get(pk=user_id)
    now = clock.now()
    meeting = meetings.joinable(user, meeting_id, now)
    other = (meeting.recipient_id if user_id == meeting.requester_id
             else meeting.requester_id)
    left = (meeting.ends_at - now).total_seconds()
    return {"booth": meeting.booth_id or 0, "wait": max(60.0, left + 60),
            "ends_at": meeting.ends_at.isoformat(), "starts_at": meeting.starts_at.isoformat(),
            "left": max(0, int(left))}, other


#: Connection address → meetings it waits at (so that a closing socket stops waiting).
_waiting: dict[str, set[int]] = {}


def _wait_key(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


@action("meeting.join", MeetingRef)
async def meeting_join(session: Session, data: MeetingRef) -> dict:
    """Join the call of an accepted meeting (either of its two people, from 5 minutes before
    its start to its end). The first waits; the second starts a private call of the two
    (``CallService.pair``, as for an interview). Replies carry ``ends_at`` and ``left``."""
    user_id = need_user(session)
    meeting, other = await _joinable(user_id, data.meeting)  # DockError: the error reply
    service = calls()
    await service.start()
    address = session.conn.address
    me = {"user": user_id, "name": session.visitor.name, "addr": address, "staff": False}
    key = _wait_key(data.meeting)
    times = {"meeting": data.meeting, "ends_at": meeting["ends_at"], "left": meeting["left"]}
    for _ in range(3):
        if await service.kv.set(key, me, ttl=meeting["wait"], nx=True):
            _waiting.setdefault(address, set()).add(data.meeting)
            await hub.to_user(other, event("meeting.waiting", {
                **times, "user": {"id": user_id, "name": me["name"]}}))
            return {**times, "waiting": True}
        first = await service.kv.get(key)
        if first is None:
            continue
        if first["user"] == user_id:
            await service.kv.set(key, me, ttl=meeting["wait"])  # the same person, from here now
            _waiting.setdefault(address, set()).add(data.meeting)
            return {**times, "waiting": True}
        if not await service.kv.delete_if(key, first):
            continue  # changed meanwhile: look again
        _forget(first["addr"], data.meeting)
        # CallError (call.busy): the error reply, like any domain error.
        call = await service.pair(f"mt{data.meeting}-{new_id()}", meeting["booth"], first, me)
        return {**times, "waiting": False, "call": call["id"], "booth": meeting["booth"],
                "role": "offerer", "peer": {"id": first["user"], "name": first["name"]},
                "participants": [public_party(p) for p in call["parties"]],
                "ice_servers": ice_servers(user_id)}
    raise ProtocolError(ErrorCode.SERVER_ERROR, "The meeting is busy; try again.")


def _forget(address: str, meeting_id: int) -> None:
    waits = _waiting.get(address)
    if waits is not None:
        waits.discard(meeting_id)
        if not waits:
            del _waiting[address]


async def on_session_closed(session: Session) -> None:
    """A closing socket stops waiting at its meetings."""
    address = session.conn.address
    waits = _waiting.pop(address, set()) if address else set()
    if not waits:
        return
    service = calls()
    for meeting_id in waits:
        with contextlib.suppress(Exception):
            first = await service.kv.get(_wait_key(meeting_id))
            if first is not None and first["addr"] == address:
                await service.kv.delete_if(_wait_key(meeting_id), first)


if on_session_closed not in CLOSE_HOOKS:
    CLOSE_HOOKS.append(on_session_closed)
