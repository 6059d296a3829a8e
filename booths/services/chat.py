"""Chat: storing messages under a per-room sequence number, history and resume.

The sequence number is taken from ``Room.last_seq`` inside the same transaction that stores
the message; the row lock (PostgreSQL) or the immediate transaction (SQLite) serialises
writers of one room, so numbers have no gaps and a message is committed before any later
one of its room.
"""

from __future__ import annotations

from collections.abc import Iterable

from channels.db import database_sync_to_async
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from hallserver.realtime.frames import event

from ..errors import ChatError, ErrorCode
from ..models import ChatMessage, Room
from . import sanctions
from .identity import Visitor
from .rooms import RoomInfo
from .singleflight import SingleFlight

MESSAGE_FIELDS = ("pk", "seq", "body", "created_at", "author_id", "author_name", "author_staff",
                  "deleted_at")


def message_data(room_id: int, row: dict) -> dict:
    data = {
        "room": room_id,
        "seq": row["seq"],
        "id": row["pk"],
        "body": row["body"],
        "ts": row["created_at"].timestamp(),
        "user": {"id": row["author_id"], "name": row["author_name"], "staff": row["author_staff"]},
    }
    if row.get("deleted_at") is not None:
        data["deleted"] = True
        data["body"] = ""
    return data


def _next_seq(room_id: int) -> tuple[int, bool, int]:
    """Take the room's next sequence number: (seq, read_only, slow_mode_seconds).

    One ``UPDATE ... RETURNING`` (SQLite 3.35+, PostgreSQL) instead of reading the state,
    incrementing and reading the counter back; other databases take those three steps."""
    if connection.vendor not in ("sqlite", "postgresql"):
        state = Room.objects.filter(pk=room_id).values("read_only", "slow_mode_seconds").get()
        Room.objects.filter(pk=room_id).update(last_seq=F("last_seq") + 1)
        seq = Room.objects.filter(pk=room_id).values_list("last_seq", flat=True).get()
        return seq, state["read_only"], state["slow_mode_seconds"]
    table = connection.ops.quote_name(Room._meta.db_table)
    pk = connection.ops.quote_name(Room._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_seq = last_seq + 1 WHERE {pk} = %s "
                       "RETURNING last_seq, read_only, slow_mode_seconds", [room_id])
        seq, read_only, slow_mode = cursor.fetchone()
    return seq, bool(read_only), slow_mode


def message_frame(room_id: int, row: dict) -> str:
    return event("chat.message", message_data(room_id, row))


class NotStored(ChatError):
    """The message was certainly not stored (the transaction failed before its commit)."""

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorCode.CHAT_NOT_STORED,
                         "The message was not stored; send it again (with the same client_id).",
                         extra={})
        self.detail = detail


def _sent_before(room_id: int, author_id: int, client_id: str) -> dict | None:
    row = (ChatMessage.objects.filter(room_id=room_id, author_id=author_id, client_id=client_id)
           .values(*MESSAGE_FIELDS).first())
    return None if row is None else {**row, "repeat": True}


@database_sync_to_async
def sent_before(room_id: int, author_id: int, client_id: str) -> dict | None:
    """The message this sender stored in this room with ``client_id``, if any."""
    return _sent_before(room_id, author_id, client_id)


@database_sync_to_async
def store_message(room: RoomInfo, visitor: Visitor, body: str, privileged: bool = False,
                  client_id: str | None = None) -> dict:
    """Store a message and return its row (as :func:`message_data` takes it).

    Refusals that depend on the room's current state are checked in the same transaction, so
    they hold on every process at once: a mute or ban of the sender, a read-only lock and slow
    mode (the last two not for ``privileged`` senders: moderators, the booth's staff).

    ``client_id`` makes a retried send idempotent: if this sender already stored a message
    with that id in this room, that message's row comes back (with ``"repeat": True``) and
    nothing is stored. A failure inside the transaction raises :class:`NotStored`.
    """
    if client_id is not None:
        earlier = _sent_before(room.id, visitor.id, client_id)
        if earlier is not None:
            return earlier
    try:
        with transaction.atomic():
            try:
                row = _store(room, visitor, body, privileged, client_id)
            except DatabaseError as exc:
                raise NotStored(str(exc)) from exc
    except NotStored as exc:
        # Two sends with one id at once: the second meets the first's unique row.
        if client_id is not None and isinstance(exc.__cause__, IntegrityError):
            earlier = _sent_before(room.id, visitor.id, client_id)
            if earlier is not None:
                return earlier
        raise
    return row


def _store(room: RoomInfo, visitor: Visitor, body: str, privileged: bool,
           client_id: str | None) -> dict:
    now = timezone.now()
    mute, ban = sanctions.in_force(visitor.id, room.id, now)
    if mute is not None or ban is not None:
        until = mute.until.timestamp() if mute is not None and mute.until else None
        raise ChatError(ErrorCode.CHAT_MUTED, "You are muted here" + (
            f" until {mute.until:%H:%M} UTC." if until else "."), extra={
                "until": until, "reason": mute.reason if mute is not None else "",
                "room": mute.room_id if mute is not None else None})
    # The next sequence number and the room's state in one statement; a refusal below
    # rolls the increment back with the transaction.
    seq, read_only, slow_mode = _next_seq(room.id)
    if not privileged:
        if read_only:
            raise ChatError(ErrorCode.ROOM_READ_ONLY, "This room is read-only.")
        if slow_mode:
            last = (ChatMessage.objects.filter(room_id=room.id, author_id=visitor.id)
                    .order_by("-seq").values_list("created_at", flat=True).first())
            wait = slow_mode - (now - last).total_seconds() if last else 0
            if wait > 0:
                raise ChatError(
                    ErrorCode.CHAT_SLOW_MODE,
                    f"Slow mode: one message every {slow_mode} s.",
                    extra={"retry_after": round(wait, 1)},
                )
    msg = ChatMessage.objects.create(
        room_id=room.id, seq=seq, author_id=visitor.id, author_name=visitor.name,
        author_staff=room.is_staff(visitor.id), body=body, created_at=now,
        client_id=client_id or "",
    )
    return {"pk": msg.pk, "seq": seq, "body": body, "created_at": msg.created_at,
            "author_id": visitor.id, "author_name": visitor.name,
            "author_staff": msg.author_staff, "deleted_at": None}


@database_sync_to_async
def delete_message(room_id: int, seq: int) -> dict:
    """Turn a message into a tombstone; returns its row as it was (for the audit log)."""
    with transaction.atomic():
        row = (ChatMessage.objects.select_for_update().filter(room_id=room_id, seq=seq)
               .values(*MESSAGE_FIELDS).first())
        if row is None:
            raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, f"No message {seq} in this room.")
        ChatMessage.objects.filter(pk=row["pk"]).update(deleted_at=timezone.now(), body="")
    return row


@database_sync_to_async
def get_message(room_id: int, seq: int) -> dict:
    row = ChatMessage.objects.filter(room_id=room_id, seq=seq).values(*MESSAGE_FIELDS).first()
    if row is None:
        raise ChatError(ErrorCode.MESSAGE_NOT_FOUND, f"No message {seq} in this room.")
    return message_data(room_id, row)


@database_sync_to_async
def last_seqs(rooms: Iterable[int]) -> dict[int, int]:
    return dict(Room.objects.filter(pk__in=list(rooms)).values_list("pk", "last_seq"))


@database_sync_to_async
def history(room_id: int, before: int | None, limit: int) -> tuple[list[dict], bool]:
    """Up to ``limit`` messages with ``seq < before`` (newest page if None), oldest first."""
    qs = ChatMessage.objects.filter(room_id=room_id)
    if before is not None:
        qs = qs.filter(seq__lt=before)
    rows = list(qs.order_by("-seq").values(*MESSAGE_FIELDS)[: limit + 1])
    has_more = len(rows) > limit
    return [message_data(room_id, r) for r in reversed(rows[:limit])], has_more


@database_sync_to_async
def since(room_id: int, after: int, limit: int) -> tuple[list[dict], int, bool, list[int]]:
    """Messages with ``seq > after``: (messages, last seq covered, reset, deleted).

    ``reset`` is true when more than ``limit`` were missed; the client must reload.
    ``deleted`` lists messages up to ``after`` (among the last ``limit``) that are tombstones
    now, so a returning client can remove what was deleted while it was away.
    """
    last = Room.objects.filter(pk=room_id).values_list("last_seq", flat=True).get()
    deleted = list(ChatMessage.objects.filter(
        room_id=room_id, seq__lte=after, seq__gt=after - limit, deleted_at__isnull=False,
    ).order_by("seq").values_list("seq", flat=True))
    if last - after > limit:
        return [], last, True, deleted
    rows = ChatMessage.objects.filter(room_id=room_id, seq__gt=after, seq__lte=last)
    rows = rows.order_by("seq").values(*MESSAGE_FIELDS)
    return [message_data(room_id, r) for r in rows], last, False, deleted


@database_sync_to_async
def frames_between(room_id: int, first: int, last: int) -> list[tuple[int, str]]:
    """Serialised ``chat.message`` frames for the hub's gap filling."""
    rows = ChatMessage.objects.filter(room_id=room_id, seq__gte=first, seq__lte=last)
    rows = rows.order_by("seq").values(*MESSAGE_FIELDS)
    return [(r["seq"], message_frame(room_id, r)) for r in rows]


class HistoryCache:
    """The newest history page of each room, per process, keyed by the last sequence number.

    A join asks for the page up to the last message the process's hub has delivered for the
    room; anything later reaches the joining socket live. The page is read from the database
    once per new message (per room and process) instead of once per join; deletions clear it
    on every process (``hub.broadcast("room.changed")``).
    """

    def __init__(self, rooms: int = 2000) -> None:
        self.rooms = rooms
        self._pages: dict[int, tuple[int, int, list[dict], bool]] = {}
        self._flights = SingleFlight()  # joins arriving together share one query
        self._generations: dict[int, int] = {}  # bumped by forget()

    async def page(self, room_id: int, last: int, limit: int) -> tuple[list[dict], bool]:
        hit = self._pages.get(room_id)
        if hit is not None and hit[0] == last and hit[1] == limit:
            return hit[2], hit[3]
        return await self._flights.run((room_id, last, limit),
                                       lambda: self._fetch(room_id, last, limit))

    async def _fetch(self, room_id: int, last: int, limit: int) -> tuple[list[dict], bool]:
        generation = self._generations.get(room_id, 0)
        messages, has_more = await history(room_id, last + 1, limit)
        if generation == self._generations.get(room_id, 0):
            if room_id not in self._pages and len(self._pages) >= self.rooms:
                self._pages.pop(next(iter(self._pages)))
            self._pages[room_id] = (last, limit, messages, has_more)
        return messages, has_more

    def forget(self, room_id: int) -> None:
        self._pages.pop(room_id, None)
        self._generations[room_id] = self._generations.get(room_id, 0) + 1
        self._flights.forget_if(lambda key: key[0] == room_id)


history_cache = HistoryCache()
