"""Moderation and Q&A actions (docs/protocol.md, "Moderation and protection").

Every action checks the permission matrix (booths/permissions.py) for the role the caller has
where they act, writes the audit log, and tells every process what changed through the hub.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hallserver.realtime.frames import event
from hallserver.realtime.hub import hub

from .actions import Session, action, publish_message, tell_moderators
from .models import Question, Room, Sanction
from .permissions import can
from .protocol import ErrorCode, ProtocolError, RoomId, RoomRef, Seq, _Data
from .services import chat
from .services import moderation as mod
from .services.rooms import RoomInfo, directory

UserId = Annotated[int, Field(ge=1, le=2**53)]
Reason = Annotated[str, Field(max_length=500)]


class ReportData(_Data):
    room: RoomId
    seq: Seq
    reason: Reason = ""


class DeleteData(ReportData):
    pass


class MuteData(_Data):
    user: UserId
    room: RoomId | None
    minutes: Annotated[int, Field(ge=1, le=10080)]
    reason: Reason = ""


class UnmuteData(_Data):
    user: UserId
    room: RoomId | None


class KickData(_Data):
    user: UserId
    room: RoomId
    reason: Reason = ""


class BanData(_Data):
    user: UserId
    reason: Reason = ""
    minutes: Annotated[int, Field(ge=1, le=525_600)] | None = None


class UserRef(_Data):
    user: UserId


class SlowModeData(RoomRef):
    seconds: Annotated[int, Field(ge=0, le=3600)]


class LockData(RoomRef):
    read_only: bool


class PinData(RoomRef):
    seq: Seq | None


class AnnounceData(_Data):
    scope: Literal["room", "hall", "expo"]
    target: Annotated[int, Field(ge=1)] | None = None
    text: Annotated[str, Field(min_length=1, max_length=1000)]


class NoData(_Data):
    pass


class RoomsData(_Data):
    hall: RoomId | None = None
    q: Annotated[str, Field(max_length=100)] = ""
    active: bool = False
    sort: Literal["count", "messages", "title"] = "count"
    ascending: bool = False
    rooms: Annotated[list[RoomId], Field(max_length=100)] | None = None
    offset: Annotated[int, Field(ge=0, le=2**31)] = 0
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class ReportsData(_Data):
    status: Literal["open", "resolved"] = "open"


class ResolveData(_Data):
    report: Annotated[int, Field(ge=1)]
    delete: bool = False


class ReleaseData(_Data):
    held: Annotated[int, Field(ge=1)]
    approve: bool


class AuditData(_Data):
    actor: UserId | None = None
    action: Annotated[str, Field(max_length=40)] | None = None
    target: UserId | None = None
    room: RoomId | None = None
    before: Annotated[int, Field(ge=1)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class AskData(RoomRef):
    body: Annotated[str, Field(min_length=1, max_length=500)]


class VoteData(_Data):
    question: Annotated[int, Field(ge=1)]
    up: bool


class QuestionStatusData(_Data):
    question: Annotated[int, Field(ge=1)]
    status: Literal["approved", "rejected", "answered"]


# --- helpers -------------------------------------------------------------------------------------

def _deny(what: str) -> ProtocolError:
    return ProtocolError(ErrorCode.PERM_DENIED, f"You may not {what} here.")


async def _room(session: Session, room_id: int, permission: str, what: str) -> RoomInfo:
    room = await directory.get(room_id)
    if room is None or room.kind == Room.Kind.MODERATION:
        raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, f"No room {room_id}.")
    if not can(session.visitor, permission, room):
        raise _deny(what)
    return room


def _need_user(session: Session) -> None:
    if session.visitor is None:
        raise ProtocolError(ErrorCode.AUTH_REQUIRED, "Log in or enter as a guest first.")


async def _audit(session: Session, name: str, **kw) -> None:
    entry = await mod.audit(session.visitor, name, **kw)
    await tell_moderators(kw.get("room"), "mod.action", entry, hall=kw.get("hall"))


#: For other apps' moderation actions (e.g. streaming's ``roadshow.end``): write the audit log
#: and tell the moderators, as every action here does.
audit_action = _audit


async def room_changed(room: RoomInfo, state: dict) -> None:
    """Forget cached room facts on every process, and tell the room."""
    await hub.broadcast("room.changed", {"room": room.id})
    pinned = await chat.get_message(room.id, state["pinned_seq"]) if state["pinned_seq"] else None
    await hub.publish(room.id, event("room.updated", {
        "room": room.id, "read_only": state["read_only"],
        "slow_mode": state["slow_mode_seconds"], "pinned": pinned}))


async def _keeps(session: Session) -> list[int] | None:
    """The rooms whose reports the caller handles (None: all of them)."""
    v = session.visitor
    if v is None:
        raise ProtocolError(ErrorCode.AUTH_REQUIRED, "Log in first.")
    if v.is_admin or (v.is_moderator and v.moderated_hall is None):
        return None
    rooms = [r["id"] for r in await mod.kept_rooms(v, recent=False)]
    if not rooms:
        raise _deny("moderate")
    return rooms


# --- chat moderation -----------------------------------------------------------------------------

@action("chat.report", ReportData)
async def chat_report(session: Session, data: ReportData) -> dict:
    _need_user(session)
    room = session.joined(data.room)
    if not can(session.visitor, "chat.report", room):
        raise _deny("report messages")
    await session.content_limit("chat.report")
    report = await mod.create_report(room.id, data.seq, session.visitor, data.reason)
    await tell_moderators(room, "mod.report", report)
    return {"report": report["id"]}


@action("chat.delete", DeleteData)
async def chat_delete(session: Session, data: DeleteData) -> dict:
    room = await _room(session, data.room, "chat.delete", "delete messages")
    row = await chat.delete_message(room.id, data.seq)
    await hub.broadcast("room.changed", {"room": room.id})  # cached history pages
    await hub.publish(room.id, event("chat.deleted", {"room": room.id, "seq": data.seq}))
    await mod.resolve_reports_of(room.id, data.seq)
    await _audit(session, "chat.delete", target=row["author_id"], room=room, reason=data.reason,
                 details={"seq": data.seq, "body": row["body"]})
    return {}


async def _mute_scope(session: Session, room_id: int | None, verb: str) -> RoomInfo | None:
    """Check the right to (un)mute in ``room_id``, or expo-wide when it is None."""
    if room_id is None:
        if not can(session.visitor, "mod.mute_expo"):
            raise _deny(f"{verb} people in the whole expo")
        return None
    return await _room(session, room_id, "mod.mute_room", f"{verb} people")


@action("mod.mute", MuteData)
async def mod_mute(session: Session, data: MuteData) -> dict:
    room = await _mute_scope(session, data.room, "mute")
    target = await mod.user_ref(data.user)
    until = await mod.add_sanction(Sanction.Kind.MUTE, data.user, data.room, data.minutes,
                                   data.reason, session.visitor)
    await hub.to_user(data.user, text=event("sanction", {
        "kind": "mute", "room": data.room, "until": until, "reason": data.reason}))
    await _audit(session, "mod.mute", target=target["id"], room=room, reason=data.reason,
                 details={"minutes": data.minutes})
    return {"until": until}


@action("mod.unmute", UnmuteData)
async def mod_unmute(session: Session, data: UnmuteData) -> dict:
    room = await _mute_scope(session, data.room, "unmute")
    await mod.user_ref(data.user)
    await mod.lift_sanctions(Sanction.Kind.MUTE, data.user, data.room)
    await hub.to_user(data.user, text=event("sanction", {
        "kind": "unmute", "room": data.room, "until": None, "reason": ""}))
    await _audit(session, "mod.unmute", target=data.user, room=room)
    return {}


@action("mod.kick", KickData)
async def mod_kick(session: Session, data: KickData) -> dict:
    room = await _room(session, data.room, "mod.kick", "kick people")
    await mod.user_ref(data.user)
    await hub.to_user(data.user, text=event("sanction", {
        "kind": "kick", "room": room.id, "until": None, "reason": data.reason}),
        control={"op": "kick", "room": room.id})
    await _audit(session, "mod.kick", target=data.user, room=room, reason=data.reason)
    return {}


@action("mod.ban", BanData)
async def mod_ban(session: Session, data: BanData) -> dict:
    if not can(session.visitor, "mod.ban"):
        raise _deny("ban people")
    if data.user == session.visitor.id:
        raise _deny("ban yourself")
    await mod.user_ref(data.user)
    until = await mod.add_sanction(Sanction.Kind.BAN, data.user, None, data.minutes,
                                   data.reason, session.visitor)
    await hub.to_user(data.user, control={"op": "close", "code": 4003, "reason": "banned",
                                          "message": data.reason,
                                          "details": {"reason": data.reason, "until": until}})
    await _audit(session, "mod.ban", target=data.user, reason=data.reason,
                 details={"minutes": data.minutes})
    return {"until": until}


@action("mod.unban", UserRef)
async def mod_unban(session: Session, data: UserRef) -> dict:
    if not can(session.visitor, "mod.ban"):
        raise _deny("lift bans")
    await mod.user_ref(data.user)
    await mod.lift_sanctions(Sanction.Kind.BAN, data.user, None)
    await _audit(session, "mod.unban", target=data.user)
    return {}


# --- rooms ---------------------------------------------------------------------------------------

@action("mod.slow_mode", SlowModeData)
async def mod_slow_mode(session: Session, data: SlowModeData) -> dict:
    room = await _room(session, data.room, "mod.slow_mode", "set slow mode")
    state = await mod.update_room(room.id, slow_mode_seconds=data.seconds)
    await room_changed(room, state)
    await _audit(session, "mod.slow_mode", room=room, details={"seconds": data.seconds})
    return {}


@action("mod.lock", LockData)
async def mod_lock(session: Session, data: LockData) -> dict:
    room = await _room(session, data.room, "mod.lock", "lock rooms")
    state = await mod.update_room(room.id, read_only=data.read_only)
    await room_changed(room, state)
    await _audit(session, "mod.lock", room=room, details={"read_only": data.read_only})
    return {}


@action("mod.pin", PinData)
async def mod_pin(session: Session, data: PinData) -> dict:
    room = await _room(session, data.room, "mod.pin", "pin messages")
    if data.seq is not None:
        await chat.get_message(room.id, data.seq)
    state = await mod.update_room(room.id, pinned_seq=data.seq)
    await room_changed(room, state)
    await _audit(session, "mod.pin", room=room, details={"seq": data.seq})
    return {}


@action("mod.announce", AnnounceData)
async def mod_announce(session: Session, data: AnnounceData) -> dict:
    _need_user(session)
    room = None
    announcement = {"scope": data.scope, "target": data.target, "text": data.text,
                    "by": session.user}
    if data.scope == "room":
        if data.target is None:
            raise ProtocolError(ErrorCode.FRAME_INVALID, "target: the room to announce in")
        room = await _room(session, data.target, "mod.announce_room", "make announcements")
        targets = [room.id]
    elif data.scope == "hall":
        if data.target is None or not can(session.visitor, "mod.announce_hall",
                                          hall_id=data.target):
            raise _deny("make announcements to this hall")
        targets = await _public_rooms_of_hall(data.target)
    else:
        if not can(session.visitor, "mod.announce_expo"):
            raise _deny("make announcements to the whole expo")
        targets = []
    entry = await mod.audit(session.visitor, "mod.announce", room=room,
                            hall=data.target if data.scope == "hall" else None,
                            details={"scope": data.scope, "text": data.text})
    announcement.update(id=entry["id"], ts=entry["ts"])
    frame = event("announcement", announcement)
    if data.scope == "expo":
        await hub.broadcast("everyone", {"frame": frame})
    for room_id in targets:
        await hub.publish(room_id, frame)
    return {"id": entry["id"]}


async def _public_rooms_of_hall(hall_id: int) -> list[int]:
    from channels.db import database_sync_to_async

    return await database_sync_to_async(lambda: list(
        Room.objects.filter(hall_id=hall_id, kind__in=[Room.Kind.LOBBY, Room.Kind.BOOTH,
                                                        Room.Kind.ROADSHOW])
        .values_list("pk", flat=True)))()


# --- console -------------------------------------------------------------------------------------

@action("mod.rooms", RoomsData)
async def mod_rooms(session: Session, data: RoomsData) -> dict:
    """One page of the rooms the caller keeps, filtered and sorted, and how many match."""
    _need_user(session)
    v = session.visitor
    if not (v.is_moderator or v.staff_of):
        raise _deny("use the moderator console")
    rooms = await mod.kept_rooms(v, hall=data.hall, q=data.q.strip(), ids=data.rooms)
    if not rooms and not await mod.kept_rooms(v, ids=None, recent=False):
        raise _deny("use the moderator console")
    from . import runtime

    counts = await runtime.presence().store.counts([r["id"] for r in rooms])
    for r in rooms:
        r["count"] = counts.get(r["id"], 0)
    if data.active:
        rooms = [r for r in rooms if r["count"] or r["messages_5min"]]
    key = {"count": "count", "messages": "messages_5min", "title": "title"}[data.sort]
    rooms.sort(key=lambda r: r["id"])
    rooms.sort(key=lambda r: r[key].lower() if key == "title" else r[key],
               reverse=not data.ascending)
    return {"rooms": rooms[data.offset:data.offset + data.limit], "total": len(rooms)}


@action("mod.reports", ReportsData)
async def mod_reports(session: Session, data: ReportsData) -> dict:
    return {"reports": await mod.reports(await _keeps(session), data.status)}


@action("mod.resolve", ResolveData)
async def mod_resolve(session: Session, data: ResolveData) -> dict:
    report = await mod.report_by_id(data.report)
    room = await _room(session, report["room"], "mod.console", "handle this report")
    if data.delete:
        await chat_delete(session, DeleteData(room=room.id, seq=report["seq"],
                                              reason=report["reason"]))
    await mod.resolve_report(data.report)
    await _audit(session, "mod.resolve", room=room, target=report["message"]["user"]["id"],
                 details={"report": data.report, "deleted": data.delete})
    return {}


@action("mod.held", NoData)
async def mod_held(session: Session, data: NoData) -> dict:
    return {"held": await mod.held(await _keeps(session))}


@action("mod.release", ReleaseData)
async def mod_release(session: Session, data: ReleaseData) -> dict:
    kept = await _keeps(session)
    # Judge the caller on the message's room before taking it out of the queue: a refused
    # release must leave the message held (and write nothing to the audit log).
    held = await mod.held_by_id(data.held)
    room = await _room(session, held["room"], "mod.console", "release this message")
    if kept is not None and room.id not in kept:
        raise _deny("release this message")
    held = await mod.take_held(data.held)  # held.not_found if someone released it meanwhile
    result: dict = {}
    if data.approve:
        from .services.identity import visitor_for_id

        author = await visitor_for_id(held["user"]["id"])
        # Stored under the sender's client_id, so that a retry of the send gets this message.
        row = await chat.store_message(room, author, held["body"], privileged=True,
                                       client_id=held["client_id"] or None)
        await publish_message(room, row)
        result["seq"] = row["seq"]
    await _audit(session, "mod.release", room=room, target=held["user"]["id"],
                 details={"approve": data.approve, "body": held["body"]})
    return result


@action("mod.audit", AuditData)
async def mod_audit(session: Session, data: AuditData) -> dict:
    v = session.visitor
    _need_user(session)
    hall = None
    if not (v.is_admin or (v.is_moderator and v.moderated_hall is None)):
        if not (v.is_moderator and can(v, "mod.audit", hall_id=v.moderated_hall)):
            raise _deny("read the audit log")
        hall = v.moderated_hall
    entries, has_more = await mod.audit_log(hall=hall, actor=data.actor, action=data.action,
                                            target=data.target, room=data.room,
                                            before=data.before, limit=data.limit)
    return {"entries": entries, "has_more": has_more}


# --- Q&A -----------------------------------------------------------------------------------------

def _roadshow_room(session: Session, room_id: int) -> RoomInfo:
    room = session.joined(room_id)
    if room.kind != Room.Kind.ROADSHOW:
        raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, "Questions are for roadshow rooms.")
    return room


async def _tell_question(room: RoomInfo, question: dict) -> None:
    frame = event("qa.question", question)
    if question["status"] in (Question.Status.APPROVED, Question.Status.ANSWERED):
        await hub.publish(room.id, frame)
    else:  # pending or rejected: only those who moderate it
        await tell_moderators(room, "qa.question", question)
        for user_id in (await mod.presenter_of(room)) | set(room.staff_ids):
            await hub.to_user(user_id, text=frame)


@action("qa.ask", AskData)
async def qa_ask(session: Session, data: AskData) -> dict:
    _need_user(session)
    room = _roadshow_room(session, data.room)
    if not can(session.visitor, "qa.ask", room):
        raise _deny("ask questions")
    await session.content_limit("qa.ask")
    question = await mod.ask(room.id, session.visitor, data.body.strip())
    await _tell_question(room, question)
    return {"question": question}


@action("qa.vote", VoteData)
async def qa_vote(session: Session, data: VoteData) -> dict:
    _need_user(session)
    question = await mod.question(data.question)
    room = _roadshow_room(session, question["room"])
    if not can(session.visitor, "qa.ask", room):
        raise _deny("vote")
    question = await mod.vote(data.question, session.visitor.id, data.up)
    await hub.publish(room.id, event("qa.question", {**question, "voted": False}))
    return {"votes": question["votes"]}


@action("qa.moderate", QuestionStatusData)
async def qa_moderate(session: Session, data: QuestionStatusData) -> dict:
    question = await mod.question(data.question)
    room = await directory.get(question["room"])
    presenters = await mod.presenter_of(room)
    if not (can(session.visitor, "qa.moderate", room)
            or (session.visitor is not None and session.visitor.id in presenters)):
        raise _deny("moderate questions")
    question = await mod.set_question_status(data.question, data.status)
    await _tell_question(room, question)
    await _audit(session, "qa.moderate", room=room, target=question["user"]["id"]
                 if question["user"] else None, details={"question": data.question,
                                                         "status": data.status})
    return {"question": question}


@action("qa.list", RoomRef)
async def qa_list(session: Session, data: RoomRef) -> dict:
    room = _roadshow_room(session, data.room)
    v = session.visitor
    sees_pending = can(v, "qa.moderate", room) or (
        v is not None and v.id in await mod.presenter_of(room))
    return {"questions": await mod.questions(room.id, v.id if v else None, sees_pending)}
