"""WebSocket actions of project docking (docs/protocol.md, "Meetings"): joining a meeting's
one-to-one call at its time. Requests, answers, cancellations and reminders reach people as
``recruit.notice`` events of the shared notice feed (``recruit.sync`` catches up).

Imported by :class:`docking.apps.DockingConfig.ready`, which registers them with the booths
app's action table.
"""

from __future__ import annotations

from typing import Annotated

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from pydantic import Field

from booths.actions import CLOSE_HOOKS, Session, action
from booths.protocol import _Data, register_error_codes
from hallserver.realtime.frames import event
from recruitment import clock
from recruitment.actions import need_user
from streaming.rendezvous import Rendezvous

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


#: The first of the two waits, the second pairs the call (as for an interview).
rendezvous = Rendezvous("meeting", "mt", "The meeting is busy; try again.",
                        lambda data: event("meeting.waiting", data))


@action("meeting.join", MeetingRef)
async def meeting_join(session: Session, data: MeetingRef) -> dict:
    """Join the call of an accepted meeting (either of its two people, from 5 minutes before
    its start to its end). The first waits; the second starts a private call of the two
    (``CallService.pair``, as for an interview). Replies carry ``ends_at`` and ``left``."""
    user_id = need_user(session)
    meeting, other = await _joinable(user_id, data.meeting)  # DockError: the error reply
    times = {"meeting": data.meeting, "ends_at": meeting["ends_at"], "left": meeting["left"]}
    # CallError (call.busy): the error reply, like any domain error.
    return await rendezvous.join(session, data.meeting, user_id=user_id, other=other,
                                 booth=meeting["booth"], wait=meeting["wait"], staff=False,
                                 reply=times)


on_session_closed = rendezvous.on_session_closed

if on_session_closed not in CLOSE_HOOKS:
    CLOSE_HOOKS.append(on_session_closed)
