"""Protocol actions of booth video calls and leads (docs/protocol.md, "Live video").

Imported by :class:`streaming.apps.StreamingConfig.ready`, which registers them with the
booths app's action table.
"""

from __future__ import annotations

from channels.db import database_sync_to_async

from booths.actions import Session, action
from booths.models import Booth
from booths.permissions import can
from booths.protocol import ErrorCode, ProtocolError
from hallserver.realtime.frames import event

from . import roadshows
from .calls import calls, parties_of, public_party, role_of
from .models import Lead
from .protocol import (
    AcceptData,
    BoothRef,
    CallRef,
    Empty,
    KnockRef,
    LeadData,
    ListenData,
    LiveError,
    SignalData,
)
from .turn import ice_servers


def person(session: Session) -> dict:
    """The caller, who must be logged in or a guest."""
    if session.visitor is None:
        raise ProtocolError(ErrorCode.AUTH_REQUIRED, "Log in or enter as a guest first.")
    return {"id": session.visitor.id, "name": session.visitor.name}


def need_user(session: Session, permission: str) -> dict:
    """The caller, who must be a person with ``permission`` (docs/permissions.md, "Live
    video"; those not judged at a booth are every person's)."""
    user = person(session)
    if not can(session.visitor, permission):
        raise ProtocolError(ErrorCode.PERM_DENIED, "You may not do this here.")
    return user


def need_staff(session: Session, permission: str, booth: int) -> dict:
    """The caller, who must have ``permission`` at ``booth`` (a permission of its staff)."""
    user = person(session)
    if not can(session.visitor, permission, booth=booth):
        raise ProtocolError(LiveError.CALL_FORBIDDEN, f"You are not staff of booth {booth}.")
    return user


@database_sync_to_async
def _booth_exists(booth: int) -> bool:
    return Booth.objects.filter(pk=booth).exists()


async def need_booth(booth: int) -> None:
    if not await _booth_exists(booth):
        raise ProtocolError(LiveError.BOOTH_NOT_FOUND, f"No booth {booth}.")


@action("call.config", Empty)
async def call_config(session: Session, data: Empty) -> dict:
    if not can(session.visitor, "call.config"):  # everyone, today
        raise ProtocolError(ErrorCode.PERM_DENIED, "You may not make calls here.")
    return {"ice_servers": ice_servers(session.visitor.id if session.visitor else None)}


@action("call.listen", ListenData)
async def call_listen(session: Session, data: ListenData) -> dict:
    user = person(session)
    for booth in data.booths:
        need_staff(session, "call.listen", booth)
    service = calls()
    queues, open_calls = [], []
    for booth in data.booths:
        knocks = await service.listen(session.conn.address, user, booth)
        queues.append({"booth": booth, "knocks": [service.public_knock(k, n)
                                                  for n, k in enumerate(knocks, start=1)]})
        open_calls += await service.booth_calls(booth)
    return {"queues": queues, "calls": open_calls}


@action("call.knock", BoothRef)
async def call_knock(session: Session, data: BoothRef) -> dict:
    user = person(session)
    await need_booth(data.booth)
    if not can(session.visitor, "call.knock", booth=data.booth):
        raise ProtocolError(LiveError.CALL_FORBIDDEN, "You staff this booth.")
    return await calls().knock(session.conn.address, user, data.booth)


@action("call.cancel", KnockRef)
async def call_cancel(session: Session, data: KnockRef) -> dict:
    need_user(session, "call.cancel")
    await calls().cancel(session.conn.address, data.knock)
    return {}


def participants(call: dict) -> list[dict]:
    return [public_party(p) for p in parties_of(call)]


@action("call.accept", AcceptData)
async def call_accept(session: Session, data: AcceptData) -> dict:
    user = person(session)
    service = calls()
    knock = await service.knock_of(data.knock)
    need_staff(session, "call.accept", knock["booth"])
    if data.call is not None:
        # Into the caller's call: the newcomer offers to everyone in it.
        call, newcomer = await service.add(session.conn.address, data.call, data.knock)
        return {"call": call["id"], "booth": call["booth"],
                "participant": public_party(newcomer), "participants": participants(call)}
    call = await service.accept(session.conn.address, user, data.knock)
    visitor = call["visitor"]
    return {"call": call["id"], "booth": call["booth"], "role": "offerer",
            "peer": {"id": visitor["user"], "name": visitor["name"]},
            "participants": participants(call), "ice_servers": ice_servers(user["id"])}


@action("call.join", CallRef)
async def call_join(session: Session, data: CallRef) -> dict:
    user = person(session)
    service = calls()
    need_staff(session, "call.join", await service.booth_of(data.call))
    call = await service.join(session.conn.address, user, data.call)
    return {"call": call["id"], "booth": call["booth"], "role": "offerer",
            "participants": participants(call), "ice_servers": ice_servers(user["id"])}


@action("call.decline", KnockRef)
async def call_decline(session: Session, data: KnockRef) -> dict:
    person(session)
    service = calls()
    knock = await service.knock_of(data.knock)
    need_staff(session, "call.decline", knock["booth"])
    await service.decline(data.knock)
    return {}


@action("call.signal", SignalData)
async def call_signal(session: Session, data: SignalData) -> dict:
    need_user(session, "call.signal")
    payload = data.payload()
    await calls().signal(session.conn.address, data.call, payload, to=data.to)
    return {}


@action("call.hangup", CallRef)
async def call_hangup(session: Session, data: CallRef) -> dict:
    need_user(session, "call.hangup")
    await calls().hangup(session.conn.address, data.call)
    return {}


@action("call.resume", CallRef)
async def call_resume(session: Session, data: CallRef) -> dict:
    user = need_user(session, "call.resume")
    call, me = await calls().resume(session.conn.address, user["id"], data.call)
    others = [p for p in parties_of(call) if p is not me]
    peer = others[0]  # in a call of two, the other party
    return {"call": call["id"], "booth": call["booth"], "role": role_of(call, me),
            "peer": {"id": peer["user"], "name": peer["name"]},
            "peer_away": "away" in peer, "participants": participants(call),
            "away": [p["user"] for p in others if "away" in p],
            "ice_servers": ice_servers(user["id"])}


# --- leads ------------------------------------------------------------------------------------

@database_sync_to_async
def _store_lead(booth: int, user_id: int, name: str, contact: str, message: str) -> dict:
    return Lead.objects.create(booth_id=booth, user_id=user_id, name=name, contact=contact,
                               message=message).public()


@database_sync_to_async
def _leads(booth: int, limit: int = 200) -> list[dict]:
    return [lead.public() for lead in Lead.objects.filter(booth_id=booth)[:limit]]


@action("lead.create", LeadData)
async def lead_create(session: Session, data: LeadData) -> dict:
    user = need_user(session, "lead.create")
    await need_booth(data.booth)
    contact, message = data.contact.strip(), data.message.strip()
    name = (data.name or user["name"]).strip()
    if not contact or len(contact) > 200:
        raise ProtocolError(LiveError.LEAD_INVALID, "Give a contact of 1 to 200 characters.")
    if len(message) > 2000 or not name or len(name) > 120:
        raise ProtocolError(LiveError.LEAD_INVALID,
                            "The message has at most 2000 characters, the name 1 to 120.")
    lead = await _store_lead(data.booth, user["id"], name, contact, message)
    service = calls()
    for address in await service.listeners(data.booth):
        await service.send(address, event("lead.new", lead))
    return {"lead": lead["id"]}


@action("lead.list", BoothRef)
async def lead_list(session: Session, data: BoothRef) -> dict:
    need_staff(session, "lead.list", data.booth)
    return {"leads": await _leads(data.booth)}


async def on_session_closed(session: Session) -> None:
    """The socket is gone: its knocks leave the queue, its calls wait for a resume."""
    address = session.conn.address
    if not address:
        return
    await calls().connection_closed(address, session.visitor.id if session.visitor else None)
    await roadshows.connection_closed(address)
