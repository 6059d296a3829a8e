"""WebSocket actions of the exhibitor console (docs/protocol.md, "Exhibitor console").

Imported by :class:`console.apps.ConsoleConfig.ready`, which registers them with the booths
app's action table.
"""

from __future__ import annotations

from typing import Annotated

from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from pydantic import Field

from booths.actions import Session, action
from booths.protocol import ErrorCode, ProtocolError, _Data, register_error_codes

from .services import access, inbox
from .services.now import now

register_error_codes("console.forbidden", "booth.not_found")


class BoothRef(_Data):
    booth: Annotated[int, Field(ge=1, le=2**53)]


@database_sync_to_async
def _check(user_id: int, booth_id: int) -> None:
    user = get_user_model().objects.filter(pk=user_id).first()
    access.console_booth(user, booth_id)


async def need_console(session: Session, booth_id: int) -> None:
    """Staff of the booth (or an organiser), checked against the database: a staff member
    removed from the booth loses the console at once."""
    if session.visitor is None:
        raise ProtocolError(ErrorCode.AUTH_REQUIRED, "Log in first.")
    await _check(session.visitor.id, booth_id)  # a ConsoleError: Session.handle replies


@action("console.now", BoothRef)
async def console_now(session: Session, data: BoothRef) -> dict:
    """Who is in the booth (profile snippets only of those who allow it), the knock queue,
    the calls in progress and the live roadshow."""
    await need_console(session, data.booth)
    return await now(data.booth)


@action("console.inbox", BoothRef)
async def console_inbox(session: Session, data: BoothRef) -> dict:
    """The booth's unread inbox counts (per source and in total)."""
    await need_console(session, data.booth)
    return await database_sync_to_async(inbox.unread)(data.booth)
