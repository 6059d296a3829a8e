"""Action handlers: what each protocol action does, independent of the transport.

A :class:`Session` is one connected visitor. Handlers are registered with :func:`action`
and receive the session and the validated ``data`` of the frame; they return the reply data
or raise :class:`~booths.protocol.ProtocolError`. Services raise
:class:`~hallserver.errors.DomainError` instead, which :meth:`Session.handle` turns into the
same error reply (code, message and extra fields unchanged): the one mapping for every app.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from pydantic import BaseModel

from analytics import recorder as analytics
from hallserver.errors import DomainError
from hallserver.realtime.connection import Connection
from hallserver.realtime.frames import event
from hallserver.realtime.hub import hub

from . import runtime
from .models import FilteredWord, Room
from .permissions import can, may_enter
from .protocol import (
    ChatHistoryData,
    ChatSendData,
    ErrorCode,
    PingData,
    PresenceCountsData,
    ProtocolError,
    RoomJoinData,
    RoomRef,
    register_frame,
)
from .services import chat
from .services import moderation as moderation_data
from .services.identity import Visitor
from .services.rooms import RoomInfo, directory

log = logging.getLogger(__name__)

Handler = Callable[["Session", Any], Awaitable[dict]]
HANDLERS: dict[str, Handler] = {}
#: Called with the session when its socket closes, before it leaves its rooms (other apps
#: clean up what the visitor left behind: a knock in a queue, a call waiting for its peer).
CLOSE_HOOKS: list[Callable[[Session], Awaitable[None]]] = []


def action(
    name: str, data_model: type[BaseModel], *, id_optional: bool = False
) -> Callable[[Handler], Handler]:
    """Register the handler of action ``name`` and the schema of its ``data``."""

    def register(fn: Handler) -> Handler:
        register_frame(name, data_model, id_optional=id_optional)
        HANDLERS[name] = fn
        return fn

    return register


def address_key(address: str) -> int:
    """The presence-store key counting anonymous connections from ``address``: negative like
    the per-user keys (``-user id``), and below any of them (a 56-bit hash of the address)."""
    digest = hashlib.blake2b(address.encode(), digest_size=7, person=b"hall-anon").digest()
    return -(1 << 60) - int.from_bytes(digest, "big")


class Session:
    """One visitor's connection: who they are and which rooms they are in."""

    def __init__(self, conn: Connection, visitor: Visitor | None,
                 address: str | None = None) -> None:
        self.conn = conn
        self.visitor = visitor
        self.address = address
        self.user = {"id": visitor.id, "name": visitor.name} if visitor else None
        self.member = runtime.presence().member_key(self.user, conn.id, hub.process_id)
        self.rooms: dict[int, RoomInfo] = {}
        self.visits: dict[int, float] = {}  # booth/roadshow room → when the visit began
        self.counted = False  # whether this socket counts towards the user's connection cap
        self.budget = runtime.limits().connection_budget()
        self.after_reply: list[Callable[[], None]] = []
        self.limits = settings.HALLSERVER

    async def handle(self, name: str, data: Any) -> dict:
        wait = self.budget.take()
        if wait is not None:
            raise ProtocolError(ErrorCode.RATE_LIMITED, "Too many requests; slow down.",
                                extra={"retry_after": wait})
        try:
            return await HANDLERS[name](self, data)
        except DomainError as exc:  # the one place a service's refusal becomes a reply
            raise ProtocolError(exc.code, exc.message, extra=exc.extra) from None

    async def content_limit(self, name: str) -> None:
        """Count one more message/report/question of this user and address, or refuse it."""
        wait = await runtime.limits().content(name, self.visitor.id, self.address)
        if wait is not None:
            raise ProtocolError(ErrorCode.RATE_LIMITED,
                                f"Too many messages; wait {wait:g} s.",
                                extra={"retry_after": wait})

    async def leave_room(self, room_id: int) -> None:
        """Leave a room (on request, or when kicked)."""
        room = self.rooms.pop(room_id, None)
        if room is None:
            return
        hub.leave(self.conn, room.id)
        analytics.visit_ended(self, room)
        await runtime.presence().exit(room, self.member, self.user)

    def joined(self, room_id: int) -> RoomInfo:
        room = self.rooms.get(room_id)
        if room is None:
            raise ProtocolError(ErrorCode.ROOM_NOT_JOINED, f"Join room {room_id} first.")
        return room

    async def enterable(self, room_id: int) -> RoomInfo:
        room = await directory.get(room_id)
        if room is None:
            raise ProtocolError(ErrorCode.ROOM_NOT_FOUND, f"No room {room_id}.")
        if not may_enter(self.visitor, room):
            raise ProtocolError(ErrorCode.ROOM_FORBIDDEN, "You may not enter this room.")
        return room

    async def close(self) -> None:
        """The socket is gone: run the close hooks, then leave every room."""
        for hook in CLOSE_HOOKS:
            try:
                await hook(self)
            except Exception:
                log.exception("close hook %s failed for %s", hook.__qualname__,
                              self.conn.address)
        presence = runtime.presence()
        rooms = list(self.rooms.values())
        self.rooms.clear()
        hub.detach(self.conn)
        for room in rooms:
            analytics.visit_ended(self, room)
        for room in rooms:
            await presence.exit(room, self.member, self.user)
        if self.counted:
            self.counted = False
            await presence.store.remove(self._cap[0], self._connection_key)

    @property
    def _connection_key(self) -> str:
        return f"c{self.conn.address}"

    @property
    def _cap(self) -> tuple[int, int]:
        """Where this socket is counted and how many may be there: its user's connections,
        or, without a login, the anonymous connections from its client address."""
        if self.visitor is not None:
            return -self.visitor.id, self.limits["MAX_CONNECTIONS_PER_USER"]
        return address_key(self.address or ""), self.limits["MAX_ANON_CONNECTIONS_PER_ADDRESS"]

    async def count_connection(self) -> bool:
        """Count this socket among its user's open connections, or among the anonymous ones
        of its address (on every process); False if there are already as many as allowed.
        The count uses the presence store with a negative key (see :func:`address_key`), so
        a dead process's sockets are reaped with its presence. An anonymous socket that
        cannot be counted (Redis unreachable) is let in uncounted: read-only visitors keep
        coming in during an outage."""
        store = runtime.presence().store
        key, limit = self._cap
        try:
            _, count = await store.add(key, self._connection_key, None)
        except Exception:
            if self.visitor is not None:
                raise
            log.warning("anonymous connection from %s let in uncounted", self.address,
                        exc_info=True)
            return True
        if count > limit:
            await store.remove(key, self._connection_key)
            return False
        self.counted = True
        return True

    def ready_event(self) -> dict:
        return {
            "user": self.visitor.public() if self.visitor else None,
            "server_time": time.time(),
            "limits": {
                "max_frame_bytes": self.limits["MAX_FRAME_BYTES"],
                "max_chat_chars": self.limits["MAX_CHAT_CHARS"],
                "max_rooms": self.limits["MAX_ROOMS_PER_CONNECTION"],
            },
        }


@action("ping", PingData, id_optional=True)
async def ping(session: Session, data: PingData) -> dict:
    return {"t": data.t, "server_time": time.time()}


@action("room.join", RoomJoinData)
async def room_join(session: Session, data: RoomJoinData) -> dict:
    room = await session.enterable(data.room)
    first_time = room.id not in session.rooms
    if first_time and len(session.rooms) >= session.limits["MAX_ROOMS_PER_CONNECTION"]:
        raise ProtocolError(ErrorCode.ROOM_TOO_MANY, "This connection is in too many rooms.")
    conn = session.conn
    # Subscribe first, then read the backlog: whatever is stored after the read arrives live.
    await hub.join(conn, room.id)
    try:
        result: dict[str, Any] = {}
        if data.since is None:
            # Up to the last message this process delivered in the room; later ones arrive
            # live (the socket is a member already), so nothing is lost or repeated.
            last = hub.last_delivered(room.id)
            messages, has_more = await chat.history_cache.page(
                room.id, last, session.limits["HISTORY_PAGE"])
            result.update(history=messages, has_more=has_more)
        else:
            messages, last, reset, deleted = await chat.since(
                room.id, data.since, session.limits["RESUME_LIMIT"]
            )
            result.update(missed=messages, reset=reset, deleted=deleted)
        presence = runtime.presence()
        # Names only for small rooms: listing a big room on every join would cost O(members).
        if first_time:
            result["presence"] = await presence.enter_and_list(room, session.member,
                                                               session.user)
        else:
            count = await presence.store.count(room.id)
            if count > session.limits["PRESENCE_DETAIL_LIMIT"]:
                result["presence"] = {"count": count}
            else:
                result["presence"] = await presence.listing(room)
        if room.kind == Room.Kind.LOBBY and room.hall_id is not None:
            result["counts"], result["total"] = await presence.hall_counts(room.hall_id)
    except BaseException:
        if first_time:
            hub.leave(conn, room.id)
        else:
            conn.end_sync(room.id, 0)
        raise
    session.rooms[room.id] = room
    if first_time:
        analytics.visit_started(session, room)
    session.after_reply.append(lambda: conn.end_sync(room.id, last))
    result["room"] = room.public(last)
    result["room"]["pinned"] = (await chat.get_message(room.id, room.pinned_seq)
                                if room.pinned_seq else None)
    return result


@action("room.leave", RoomRef)
async def room_leave(session: Session, data: RoomRef) -> dict:
    session.joined(data.room)
    await session.leave_room(data.room)
    return {}


@action("chat.send", ChatSendData)
async def chat_send(session: Session, data: ChatSendData) -> dict:
    visitor = session.visitor
    if visitor is None:
        raise ProtocolError(ErrorCode.AUTH_REQUIRED, "Log in or enter as a guest to chat.")
    room = session.joined(data.room)
    if not can(visitor, "chat.send", room):
        raise ProtocolError(ErrorCode.PERM_DENIED, "You may not chat here.")
    body = data.body.strip()
    if not body:
        raise ProtocolError(ErrorCode.CHAT_EMPTY, "The message is empty.")
    limit = session.limits["MAX_CHAT_CHARS"]
    if len(body) > limit:
        raise ProtocolError(ErrorCode.CHAT_TOO_LONG, f"Messages have at most {limit} characters.")
    try:
        await session.content_limit("chat.send")
        privileged = can(visitor, "chat.bypass_limits", room)
        hit = None if privileged else await runtime.word_filter().check(body)
    except (ProtocolError, DomainError):
        raise
    except Exception as exc:
        # Redis (the rate limits) or the database (the word filter) failed before anything
        # was written: say so, so that the client knows a retry cannot duplicate anything.
        log.warning("chat.send refused before storing: %r", exc)
        raise not_stored() from exc
    if hit is not None:
        word, verdict = hit
        if verdict == FilteredWord.Action.BLOCK:
            raise ProtocolError(ErrorCode.CHAT_BLOCKED,
                                "Your message contains a word that is not allowed here.")
        if data.client_id is not None:
            # A retry of a send a moderator has released since: the stored message's reply.
            earlier = await chat.sent_before(room.id, visitor.id, data.client_id)
            if earlier is not None:
                return {"seq": earlier["seq"], "id": earlier["pk"]}
        held, new = await moderation_data.hold(room, visitor, body, word, data.client_id)
        if new:  # a retry of a held send is not queued (nor announced) twice
            await tell_moderators(room, "mod.held", held)
        return {"held": True}
    try:
        row = await chat.store_message(room, visitor, body, privileged, data.client_id)
    except chat.NotStored as exc:  # answered chat.not_stored by Session.handle
        log.warning("chat.send not stored: %s", exc.detail)
        raise
    if not row.get("repeat"):
        # Stored: from here on the send succeeded. If Redis cannot take the message now, the
        # hubs' sequence sweep delivers it from the database once it can.
        try:
            await publish_message(room, row)
        except Exception:
            log.warning("chat message %s/%s stored but not published; the sweep delivers it",
                        room.id, row["seq"], exc_info=True)
        if room.kind in (Room.Kind.BOOTH, Room.Kind.ROADSHOW) and not room.is_staff(visitor.id):
            analytics.record("chat", booth=room.booth_id, roadshow=room.roadshow_id,
                             user=visitor.id)
    return {"seq": row["seq"], "id": row["pk"]}


def not_stored() -> ProtocolError:
    return ProtocolError(ErrorCode.CHAT_NOT_STORED,
                         "The message was not stored; send it again (with the same client_id).")


async def publish_message(room: RoomInfo, row: dict) -> None:
    """Deliver a stored chat message to its room and to the moderators' live feed."""
    await hub.publish(room.id, chat.message_frame(room.id, row), row["seq"])
    if room.kind != Room.Kind.MODERATION:
        await tell_moderators(room, "mod.feed", chat.message_data(room.id, row))


async def tell_moderators(room: RoomInfo | None, name: str, data: dict,
                          hall: int | None = None) -> None:
    """Send an event to the moderators' rooms concerned by ``room`` (or ``hall``)."""
    for mod_room in await directory.moderation_rooms(room.hall_id if room else hall):
        await hub.publish(mod_room, event(name, data))


@action("chat.history", ChatHistoryData)
async def chat_history(session: Session, data: ChatHistoryData) -> dict:
    room = session.rooms.get(data.room) or await session.enterable(data.room)
    messages, has_more = await chat.history(room.id, data.before, data.limit)
    return {"messages": messages, "has_more": has_more}


@action("presence.counts", PresenceCountsData)
async def presence_counts(session: Session, data: PresenceCountsData) -> dict:
    """Counts of booth rooms of a hall, for the booths a lobby page shows."""
    counts = await runtime.presence().booth_counts(data.hall, data.rooms)
    return {"counts": counts}


@action("presence.list", RoomRef)
async def presence_list(session: Session, data: RoomRef) -> dict:
    room = session.joined(data.room)
    return await runtime.presence().listing(room)
