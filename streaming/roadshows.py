"""Roadshow actions: going live, presenting and viewing through a media worker, reactions.

The presenter (staff of the roadshow's booth) moves the roadshow scheduled → live → ended.
While it is live, the presenter's browser *publishes* and viewers' browsers *view*: each sends
a complete SDP offer (ICE candidates included) which is passed to the roadshow's media worker
through the channel layer; the worker answers with ``roadshow.answer`` to that connection.

The roadshow → worker assignment is ``rsworker:<id>`` in the store: taken with SET NX by the
first publish or view, for the least loaded live worker, and kept alive by the worker.
"""

from __future__ import annotations

import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from booths.actions import Session, action
from booths.models import Roadshow, Room
from booths.moderation import audit_action
from booths.permissions import can
from booths.protocol import ErrorCode, ProtocolError
from booths.services.rooms import directory
from hallserver.errors import DomainError
from hallserver.realtime.frames import event
from hallserver.realtime.hub import hub

from .errors import RoadshowError
from .models import Recording
from .protocol import LiveError, ReactionData, RoadshowOffer, RoadshowRef, check_sdp
from .store import store
from .worker import ASSIGNMENT_TTL, WORKER_TTL, inline_worker

log = logging.getLogger(__name__)

PRESENTER_TTL = 12 * 3600

# Per connection address of this process: roadshows it publishes or views (for cleanup).
_local: dict[str, dict[int, str]] = {}


@database_sync_to_async
def _load(roadshow_id: int) -> dict | None:
    row = Roadshow.objects.filter(pk=roadshow_id).values("id", "booth_id", "state",
                                                         "presenter_id").first()
    if row is None:
        return None
    row["room"] = Room.objects.filter(roadshow_id=roadshow_id).values_list("pk", flat=True).first()
    return row


@database_sync_to_async
def _set_state(roadshow_id: int, old: str, new: str) -> bool:
    return bool(Roadshow.objects.filter(pk=roadshow_id, state=old).update(state=new))


async def roadshow_of(roadshow_id: int) -> dict:
    row = await _load(roadshow_id)
    if row is None:
        raise RoadshowError(LiveError.ROADSHOW_NOT_FOUND, f"No roadshow {roadshow_id}.")
    return row


def need_presenter(session: Session, permission: str, row: dict) -> None:
    """The caller must have ``permission`` at the roadshow's booth: its staff, or the
    roadshow's named presenter."""
    visitor = session.visitor
    if visitor is None:
        raise ProtocolError(ErrorCode.AUTH_REQUIRED, "Log in first.")
    if not can(visitor, permission, booth=row["booth_id"], presenter=row["presenter_id"]):
        raise ProtocolError(LiveError.ROADSHOW_FORBIDDEN,
                            "Only the booth's staff present this roadshow.")


def need_anyone(session: Session, permission: str, row: dict) -> None:
    """Check a permission that every person (or everyone) has today, at the roadshow's booth."""
    if not can(session.visitor, permission, booth=row["booth_id"],
               presenter=row["presenter_id"]):
        raise ProtocolError(ErrorCode.PERM_DENIED, "You may not do this here.")


def need_live(row: dict) -> None:
    if row["state"] == Roadshow.State.ENDED:
        raise RoadshowError(LiveError.ROADSHOW_ENDED, "This roadshow has ended.")
    if row["state"] != Roadshow.State.LIVE:
        raise RoadshowError(LiveError.ROADSHOW_NOT_LIVE, "This roadshow is not live yet.")


async def announce_presenter(roadshow: int, room: int | None, presenting: bool) -> None:
    """Tell the roadshow's room that a presenter started or stopped sending (viewers show
    that the stage waits for one while nobody presents)."""
    if room is not None:
        await hub.publish(room, event("roadshow.presenter", {
            "roadshow": roadshow, "presenting": presenting}))


async def announce_state(row: dict, state: str) -> None:
    if row["room"] is not None:
        await hub.publish(row["room"], event("roadshow.state", {
            "roadshow": row["id"], "room": row["room"], "state": state}))


# --- workers ----------------------------------------------------------------------------------

async def worker_for(roadshow: int) -> str:
    """The channel of the worker serving ``roadshow``, assigning one if needed."""
    if settings.LIVE_VIDEO["WORKER_MODE"] == "inline":
        worker = await inline_worker()
        await store().set(f"rsworker:{roadshow}", worker.channel, ttl=ASSIGNMENT_TTL)
        return worker.channel
    kv = store()
    workers = await kv.hgetall("workers")
    now = time.time()
    alive = {ch: w for ch, w in workers.items() if now - w["seen"] < WORKER_TTL}
    current = await kv.get(f"rsworker:{roadshow}")
    if current in alive:
        return current
    if not alive:
        raise RoadshowError(LiveError.MEDIA_UNAVAILABLE, "No media worker is running.")
    if current is not None:
        await kv.delete_if(f"rsworker:{roadshow}", current)  # its worker is gone
    choice = min(alive, key=lambda ch: (alive[ch]["load"], ch))
    if await kv.set(f"rsworker:{roadshow}", choice, ttl=ASSIGNMENT_TTL, nx=True):
        return choice
    winner = await kv.get(f"rsworker:{roadshow}")
    if winner is None:
        raise RoadshowError(LiveError.MEDIA_UNAVAILABLE, "No media worker took the roadshow.")
    return winner


async def to_worker(channel: str, message: dict) -> None:
    await get_channel_layer().send(channel, message)


async def stop_media(roadshow: int) -> None:
    """The roadshow ended: its worker closes every connection of it."""
    kv = store()
    channel = await kv.get(f"rsworker:{roadshow}")
    await kv.delete(f"rspresenter:{roadshow}")
    if channel:
        await to_worker(channel, {"type": "media.stop", "roadshow": roadshow})


# --- actions --------------------------------------------------------------------------------

@action("roadshow.start", RoadshowRef)
async def roadshow_start(session: Session, data: RoadshowRef) -> dict:
    row = await roadshow_of(data.roadshow)
    need_presenter(session, "roadshow.start", row)
    if row["state"] == Roadshow.State.ENDED:
        raise ProtocolError(LiveError.ROADSHOW_ENDED, "This roadshow has ended.")
    if row["state"] == Roadshow.State.SCHEDULED and await _set_state(
            row["id"], Roadshow.State.SCHEDULED, Roadshow.State.LIVE):
        await announce_state(row, Roadshow.State.LIVE)
    return {"roadshow": row["id"], "room": row["room"], "state": Roadshow.State.LIVE}


@action("roadshow.end", RoadshowRef)
async def roadshow_end(session: Session, data: RoadshowRef) -> dict:
    """End a live roadshow: its presenter or booth staff, or a moderator of its room."""
    row = await roadshow_of(data.roadshow)
    if session.visitor is None:
        raise ProtocolError(ErrorCode.AUTH_REQUIRED, "Log in first.")
    room = await directory.get(row["room"]) if row["room"] is not None else None
    if room is None or not can(session.visitor, "roadshow.end", room,
                               presenter=row["presenter_id"]):
        raise ProtocolError(ErrorCode.PERM_DENIED, "You may not end this roadshow here.")
    need_live(row)
    if await _set_state(row["id"], Roadshow.State.LIVE, Roadshow.State.ENDED):
        # Only the request that moved the state tells the room, stops the media and is audited.
        await announce_state(row, Roadshow.State.ENDED)
        await stop_media(row["id"])
        await audit_action(session, "roadshow.end", room=room, details={"roadshow": row["id"]})
    return {"roadshow": row["id"], "state": Roadshow.State.ENDED}


@action("roadshow.publish", RoadshowOffer)
async def roadshow_publish(session: Session, data: RoadshowOffer) -> dict:
    row = await roadshow_of(data.roadshow)
    need_presenter(session, "roadshow.publish", row)
    need_live(row)
    check_sdp(data.sdp)
    address = session.conn.address
    kv = store()
    key = f"rspresenter:{row['id']}"
    new = await kv.set(key, address, ttl=PRESENTER_TTL, nx=True)
    if not new:
        holder = await kv.get(key)
        if holder != address:
            raise ProtocolError(LiveError.ROADSHOW_PRESENTER_BUSY,
                                "Someone else is presenting this roadshow.")
    try:
        channel = await worker_for(row["id"])
    except DomainError:
        await kv.delete_if(key, address)
        raise
    _local.setdefault(address, {})[row["id"]] = "presenter"
    await to_worker(channel, {"type": "media.publish", "roadshow": row["id"], "addr": address,
                              "sdp": data.sdp})
    if new:
        await announce_presenter(row["id"], row["room"], True)
    return {"roadshow": row["id"]}


@action("roadshow.view", RoadshowOffer)
async def roadshow_view(session: Session, data: RoadshowOffer) -> dict:
    row = await roadshow_of(data.roadshow)
    need_anyone(session, "roadshow.view", row)
    need_live(row)
    check_sdp(data.sdp)
    channel = await worker_for(row["id"])
    _local.setdefault(session.conn.address, {})[row["id"]] = "viewer"
    await to_worker(channel, {"type": "media.view", "roadshow": row["id"],
                              "addr": session.conn.address, "sdp": data.sdp})
    presenting = await store().get(f"rspresenter:{row['id']}") is not None
    return {"roadshow": row["id"], "presenting": presenting}


async def _leave(address: str, roadshow: int) -> bool:
    role = _local.get(address, {}).pop(roadshow, None)
    if role is None:
        return False
    kv = store()
    if role == "presenter" and await kv.delete_if(f"rspresenter:{roadshow}", address):
        row = await _load(roadshow)
        if row is not None and row["state"] == Roadshow.State.LIVE:
            await announce_presenter(roadshow, row["room"], False)
    channel = await kv.get(f"rsworker:{roadshow}")
    if channel:
        await to_worker(channel, {"type": "media.leave", "roadshow": roadshow, "addr": address})
    return True


@action("roadshow.leave", RoadshowRef)
async def roadshow_leave(session: Session, data: RoadshowRef) -> dict:
    if not can(session.visitor, "roadshow.leave"):  # everyone, today
        raise ProtocolError(ErrorCode.PERM_DENIED, "You may not do this here.")
    if not await _leave(session.conn.address, data.roadshow):
        raise ProtocolError(LiveError.ROADSHOW_NOT_FOUND,
                            f"You neither present nor view roadshow {data.roadshow}.")
    return {}


@action("roadshow.react", ReactionData)
async def roadshow_react(session: Session, data: ReactionData) -> dict:
    if session.visitor is None:
        raise ProtocolError(ErrorCode.AUTH_REQUIRED, "Log in or enter as a guest to react.")
    row = await roadshow_of(data.roadshow)
    need_anyone(session, "roadshow.react", row)
    need_live(row)
    if row["room"] is not None:
        await hub.publish(row["room"], event("roadshow.reaction", {
            "roadshow": row["id"], "emoji": data.emoji,
            "user": {"id": session.visitor.id, "name": session.visitor.name}}))
    return {}


@database_sync_to_async
def _recordings(roadshow_id: int) -> list[dict]:
    return [{"id": r.pk, "url": r.url, "size": r.size,
             "started": r.started_at.timestamp(),
             "ended": r.ended_at.timestamp() if r.ended_at else None}
            for r in Recording.objects.filter(roadshow_id=roadshow_id)]


@action("roadshow.recordings", RoadshowRef)
async def roadshow_recordings(session: Session, data: RoadshowRef) -> dict:
    row = await roadshow_of(data.roadshow)
    need_anyone(session, "roadshow.recordings", row)
    return {"recordings": await _recordings(row["id"])}


async def connection_closed(address: str) -> None:
    for roadshow in list(_local.get(address, {})):
        await _leave(address, roadshow)
    _local.pop(address, None)


def connections_in_role(role: str) -> int:
    """Connections of this process presenting (``presenter``) or viewing (``viewer``) a
    roadshow through a media worker (a metric)."""
    return sum(1 for roles in _local.values() for r in roles.values() if r == role)
