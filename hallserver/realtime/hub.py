"""The per-process fan-out hub.

Each server process owns one :class:`Hub`. It holds one channel on the channel layer and adds
that channel to one group per room that has local members, so with the Redis pub/sub layer a
process has one Redis subscription per room however many of its sockets are in the room.
A frame published to a room is serialised once by the sender, travels once to every process
that has members there, is framed once per process and written to each local socket without
awaiting (see :mod:`.connection`).

Chat frames carry a per-room sequence number. The hub delivers them in order: a frame that
arrives early waits briefly for the ones before it, and missing ones are fetched from the
store (``gap_fetcher``), so a message lost between processes (pub/sub is at-most-once, e.g.
during a Redis reconnect) is still delivered. A periodic sweep compares the store's sequence
counters with what was delivered and fills gaps nobody noticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from channels.layers import get_channel_layer

from .connection import Connection
from .frames import TALLY_FRAME, OutFrame, event, utf8_len

log = logging.getLogger(__name__)

#: ``(room, from_seq, to_seq)`` → ``[(seq, frame_text), ...]`` for ``from_seq <= seq <= to_seq``.
GapFetcher = Callable[[int, int, int], Awaitable[list[tuple[int, str]]]]
#: ``rooms`` → ``{room: last_seq}``
SeqLoader = Callable[[Iterable[int]], Awaitable[dict[int, int]]]

#: ``(connection, data)`` → None: what a control message of some ``op`` does to a local socket.
ControlHandler = Callable[[Connection, dict], None]

ALL_PROCESSES = "hub.all"  # the group every hub is in, for messages to users and broadcasts
GAP_WAIT = 0.25  # seconds an out-of-order frame waits before the gap is fetched
SWEEP_INTERVAL = 5.0  # seconds between sequence sweeps
UNSUBSCRIBE_GRACE = 30.0  # seconds a room stays subscribed after its last local member left


_background: set[asyncio.Task] = set()


def spawn(coro) -> asyncio.Task:
    """Run ``coro`` in the background, keeping a reference until it finishes."""
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)
    return task


async def cancel_and_wait(tasks: list[asyncio.Task]) -> None:
    """Cancel background loops and wait until they have ended (their errors are dropped)."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


def room_group(room: int) -> str:
    return f"room.{room}"


@dataclass(eq=False)
class RoomState:
    room: int
    members: set[Connection] = field(default_factory=set)
    ready: asyncio.Future | None = None
    next_seq: int = 1
    early: dict[int, OutFrame] = field(default_factory=dict)
    gap_task: asyncio.Task | None = None
    idle_handle: asyncio.TimerHandle | None = None
    # Frames and bytes fanned out here (a tally, see frames.tally), and its value when each
    # member joined: a leaving member is credited the difference, so per-connection counts
    # cost one add per fan-out instead of one per recipient.
    sent: int = 0
    marks: dict[Connection, int] = field(default_factory=dict)


class Hub:
    """Process-wide registry of rooms and connections, bridged to the channel layer."""

    def __init__(self, layer_alias: str = "default") -> None:
        self.layer_alias = layer_alias
        self.process_id = f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.rooms: dict[int, RoomState] = {}
        # Local connections by user id, for messages addressed to a user.
        self.users: dict[int, set[Connection]] = {}
        # Local connections by id, for messages addressed to one connection.
        self.connections: dict[int, Connection] = {}
        self.control_handlers: dict[str, ControlHandler] = {"close": _close_connection}
        # What a process-wide broadcast of some ``op`` does in this process.
        self.process_handlers: dict[str, Callable[[dict], None]] = {
            "everyone": self._write_everyone,
        }
        self.channel: str | None = None
        self.gap_fetcher: GapFetcher | None = None
        self.seq_loader: SeqLoader | None = None
        self._layer: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []
        self._start_lock: asyncio.Lock | None = None
        self._publish_slots: asyncio.Semaphore | None = None
        self.delivered = 0  # frames handed to sockets, for metrics and benchmarks

    # --- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start (once per event loop): open the hub channel and its reader."""
        loop = asyncio.get_running_loop()
        if self._loop is loop and self.channel is not None:
            return
        if self._loop is not loop:
            # A new event loop (tests run one per test): start afresh.
            self._reset(loop)
        assert self._start_lock is not None
        async with self._start_lock:
            if self.channel is not None:
                return
            self._layer = get_channel_layer(self.layer_alias)
            if self._layer is None:
                raise RuntimeError("Hallserver needs a channel layer (CHANNEL_LAYERS['default']).")
            self.channel = await self._layer.new_channel("hub.")
            await self._layer.group_add(ALL_PROCESSES, self.channel)
            self._tasks = [
                loop.create_task(self._receive_loop(), name="hub-receive"),
                loop.create_task(self._sweep_loop(), name="hub-sweep"),
            ]
            log.info("hub %s listening on %s", self.process_id, self.channel)

    def _reset(self, loop: asyncio.AbstractEventLoop) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        self._loop = loop
        self.channel = None
        self.rooms = {}
        self.users = {}
        self.connections = {}
        self._start_lock = asyncio.Lock()
        self._publish_slots = asyncio.Semaphore(32)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(tasks)
        self.channel = None
        self.rooms = {}

    # --- connections ----------------------------------------------------------------------------
    def attach(self, conn: Connection) -> None:
        """Register a new socket so that messages to its user or its address reach it."""
        conn.address = f"{self.channel}|{conn.id}"
        self.connections[conn.id] = conn
        if conn.user_id is not None:
            self.users.setdefault(conn.user_id, set()).add(conn)

    def detach(self, conn: Connection) -> None:
        """The socket is gone: leave its rooms and forget it."""
        self.disconnect(conn)
        self.connections.pop(conn.id, None)
        if conn.user_id is not None:
            local = self.users.get(conn.user_id)
            if local is not None:
                local.discard(conn)
                if not local:
                    del self.users[conn.user_id]

    # --- membership -----------------------------------------------------------------------------
    async def join(self, conn: Connection, room: int) -> None:
        """Make ``conn`` a local member of ``room``, subscribing the process if needed.

        On return the process receives every frame of the room; the caller then reads the
        room's backlog and calls ``conn.end_sync``.
        """
        await self.start()
        state = self.rooms.get(room)
        if state is None:
            state = self.rooms[room] = RoomState(room)
            state.ready = asyncio.get_running_loop().create_future()
            try:
                await self._layer.group_add(room_group(room), self.channel)
                if self.seq_loader is not None:
                    seqs = await self.seq_loader([room])
                    state.next_seq = seqs.get(room, 0) + 1
                state.ready.set_result(True)
            except BaseException as exc:
                self.rooms.pop(room, None)
                state.ready.set_exception(exc)
                state.ready.exception()  # mark retrieved
                raise
        elif state.ready is not None and not state.ready.done():
            await asyncio.shield(state.ready)
        if state.idle_handle is not None:
            state.idle_handle.cancel()
            state.idle_handle = None
        conn.begin_sync(room)
        conn.rooms.add(room)
        state.members.add(conn)
        state.marks.setdefault(conn, state.sent)

    def leave(self, conn: Connection, room: int) -> None:
        conn.forget_room(room)
        state = self.rooms.get(room)
        if state is None:
            return
        state.members.discard(conn)
        mark = state.marks.pop(conn, None)
        if mark is not None:
            conn.sent += state.sent - mark
        if not state.members and state.idle_handle is None:
            state.idle_handle = asyncio.get_running_loop().call_later(
                UNSUBSCRIBE_GRACE, self._unsubscribe_if_idle, room
            )

    def disconnect(self, conn: Connection) -> None:
        for room in list(conn.rooms):
            self.leave(conn, room)

    def last_delivered(self, room: int) -> int:
        """The sequence number of the last chat frame this process delivered in ``room``
        (which it has joined)."""
        return self.rooms[room].next_seq - 1

    def local_members(self, room: int) -> set[Connection]:
        state = self.rooms.get(room)
        return state.members if state else set()

    def _unsubscribe_if_idle(self, room: int) -> None:
        state = self.rooms.get(room)
        if state is None or state.members:
            return
        del self.rooms[room]
        if state.gap_task:
            state.gap_task.cancel()
        spawn(self._group_discard(room))

    async def _group_discard(self, room: int) -> None:
        if room in self.rooms:  # re-joined meanwhile
            return
        try:
            await self._layer.group_discard(room_group(room), self.channel)
        except Exception:
            log.warning("could not leave group of room %s", room, exc_info=True)

    # --- publishing -----------------------------------------------------------------------------
    async def publish(self, room: int, text: str, seq: int | None = None) -> None:
        """Send a serialised frame to everyone in ``room`` on every process."""
        await self.start()
        assert self._publish_slots is not None
        message = {"type": "hub.room", "room": room, "frame": text}
        if seq is not None:
            message["seq"] = seq
        async with self._publish_slots:
            await self._layer.group_send(room_group(room), message)

    async def to_user(self, user_id: int, text: str | None = None,
                      control: dict | None = None) -> None:
        """Send a frame (and/or a control message) to every socket of a user, on any process."""
        await self.start()
        message: dict[str, Any] = {"type": "hub.user", "user": user_id}
        if text is not None:
            message["frame"] = text
        if control is not None:
            message["control"] = control
        async with self._publish_slots:
            await self._layer.group_send(ALL_PROCESSES, message)

    async def broadcast(self, op: str, data: dict) -> None:
        """Run process handler ``op`` with ``data`` in every process (this one included)."""
        await self.start()
        async with self._publish_slots:
            await self._layer.group_send(ALL_PROCESSES, {"type": "hub.process", "op": op,
                                                         "data": data})

    def _write_everyone(self, data: dict) -> None:
        """Process op ``everyone``: write ``data["frame"]`` to every local socket."""
        frame = OutFrame(data["frame"])
        size = TALLY_FRAME + utf8_len(frame.text)
        for conn in self.connections.values():
            conn.write(frame)
            conn.sent += size  # expo-wide announcements are rare
        self.delivered += len(self.connections)

    async def to_connection(self, address: str, text: str) -> bool:
        """Send a frame to one socket by its ``conn.address``; False if the address is bad."""
        await self.start()
        channel, _, conn_id = address.rpartition("|")
        if not channel or not conn_id.isdigit():
            return False
        message = {"type": "hub.conn", "conn": int(conn_id), "frame": text}
        if channel == self.channel:
            self.on_conn_frame(message)
            return True
        async with self._publish_slots:
            await self._layer.send(channel, message)
        return True

    # --- receiving ------------------------------------------------------------------------------
    async def _receive_loop(self) -> None:
        layer, channel = self._layer, self.channel
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("hub receive failed; retrying")
                await asyncio.sleep(0.5)
                continue
            try:
                kind = message.get("type")
                if kind == "hub.room":
                    self.on_room_frame(message["room"], message.get("seq"), message["frame"])
                elif kind == "hub.user":
                    self.on_user_message(message)
                elif kind == "hub.conn":
                    self.on_conn_frame(message)
                elif kind == "hub.process":
                    handler = self.process_handlers.get(message["op"])
                    if handler is None:
                        log.warning("unknown process op %r", message["op"])
                    else:
                        handler(message["data"])
            except Exception:
                log.exception("hub could not handle %r", message.get("type"))

    def on_user_message(self, message: dict) -> None:
        local = self.users.get(message["user"])
        if not local:
            return
        text, control = message.get("frame"), message.get("control")
        frame = OutFrame(text) if text is not None else None
        for conn in list(local):
            if frame is not None:
                conn.write(frame)
                conn.count_out(text)
                self.delivered += 1
            if control is not None:
                handler = self.control_handlers.get(control.get("op", ""))
                if handler is None:
                    log.warning("unknown control op %r", control.get("op"))
                else:
                    handler(conn, control)

    def on_conn_frame(self, message: dict) -> None:
        conn = self.connections.get(message["conn"])
        if conn is not None:
            conn.write(OutFrame(message["frame"]))
            conn.count_out(message["frame"])
            self.delivered += 1

    def on_room_frame(self, room: int, seq: int | None, text: str) -> None:
        state = self.rooms.get(room)
        if state is None or (state.ready is not None and not state.ready.done()):
            # Not subscribed (any more), or still loading the counter: joiners read the
            # backlog from the store after the subscription is ready.
            return
        frame = OutFrame(text)
        if seq is None:
            self._fan_out(state, None, frame)
            return
        if seq < state.next_seq:
            return  # already delivered (e.g. by a gap fill)
        if seq > state.next_seq:
            state.early[seq] = frame
            if state.gap_task is None:
                state.gap_task = asyncio.get_running_loop().create_task(self._fill_gap(state))
            return
        self._fan_out(state, seq, frame)
        state.next_seq = seq + 1
        self._release_early(state)

    def _release_early(self, state: RoomState) -> None:
        """Deliver held frames that are next in line; forget those already delivered."""
        early = state.early
        while early:
            frame = early.pop(state.next_seq, None)
            if frame is None:
                break
            self._fan_out(state, state.next_seq, frame)
            state.next_seq += 1
        for seq in [s for s in early if s < state.next_seq]:
            del early[seq]

    def _fan_out(self, state: RoomState, seq: int | None, frame: OutFrame) -> None:
        room = state.room
        members = state.members
        for conn in members:
            conn.deliver(room, seq, frame)
        if members:
            self.delivered += len(members)
            state.sent += TALLY_FRAME + utf8_len(frame.text)

    async def _fill_gap(self, state: RoomState) -> None:
        try:
            await asyncio.sleep(GAP_WAIT)
            while state.early and self.rooms.get(state.room) is state:
                self._release_early(state)
                if not state.early:
                    break
                before = state.next_seq
                await self._fetch_into(state, min(state.early) - 1)
                if state.next_seq == before:
                    break  # the store does not have them (yet); the sweep retries
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("gap fill failed for room %s", state.room)
        finally:
            state.gap_task = None

    async def _fetch_into(self, state: RoomState, upto: int) -> None:
        if self.gap_fetcher is None or upto < state.next_seq:
            return
        rows = await self.gap_fetcher(state.room, state.next_seq, upto)
        for seq, text in rows:
            if seq == state.next_seq:
                state.early.pop(seq, None)
                self._fan_out(state, seq, OutFrame(text))
                state.next_seq += 1
        self._release_early(state)

    async def _sweep_loop(self) -> None:
        """Every few seconds, deliver messages the store has and this process missed."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            if self.seq_loader is None or not self.rooms:
                continue
            try:
                started = time.monotonic()
                rooms = [r for r, s in self.rooms.items() if s.members and s.ready.done()]
                latest = await self.seq_loader(rooms)
                for room, last in latest.items():
                    state = self.rooms.get(room)
                    if state is not None and last >= state.next_seq and state.gap_task is None:
                        log.info("room %s: fetching %s..%s missed", room, state.next_seq, last)
                        await self._fetch_into(state, last)
                log.debug("sweep of %d rooms in %.3fs", len(rooms), time.monotonic() - started)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sequence sweep failed")


def _close_connection(conn: Connection, data: dict) -> None:
    """Control op ``close``: tell the client why, then close its socket with ``code``."""
    reason = data.get("reason")
    if reason:
        conn.write(OutFrame(event("session.closing", {"code": reason,
                                                      "message": data.get("message", ""),
                                                      **data.get("details", {})})))
    conn.close(int(data.get("code", 1000)))


hub = Hub()
"""The process-wide hub."""
