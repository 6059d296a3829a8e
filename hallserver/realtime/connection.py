"""One object per WebSocket: identity, rooms, and a bounded, non-blocking ``write``.

``write`` never awaits, so the hub can hand one frame to a thousand sockets in a plain loop.
A connection that cannot keep up is closed with code 4008 (``slow_consumer``) once more than
its budget waits for it; the client reconnects and resumes from its last sequence number, so
closing it loses nothing and keeps server memory bounded. Nothing more is queued for it once it
is closed as slow; what was queued, a ``session.closing`` event and the close frame still go out,
and the client has ``HALLSERVER_SLOW_CLOSE_GRACE`` seconds to read them before it is dropped.

This module imports nothing of daphne or Twisted (it is used under uvicorn too): the daphne
server module hands it what the direct path needs (:data:`_TCP_SERVER`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from .. import metrics
from .frames import TALLY_FRAME, OutFrame, event, utf8_len

log = logging.getLogger(__name__)

#: The scope extension under which daphne (:mod:`hallserver.realtime.server`) hands a
#: connection its WebSocket protocol object.
DIRECT_EXTENSION = "hallserver.direct"

#: Twisted's TCP server transport class, the direct path's common case: set when
#: :mod:`hallserver.realtime.server` is imported (under daphne). While it is None every write
#: takes the general path.
_TCP_SERVER: Any = None

CLOSE_SLOW_CONSUMER = 4008
_ids = itertools.count(1)

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Connection:
    """State the hub keeps per socket. Subclasses decide how bytes reach the socket."""

    __slots__ = ("address", "closed", "id", "meta", "opened", "pending", "received", "rooms",
                 "seen", "sent", "user_id")

    def __init__(self, user_id: int | None = None) -> None:
        self.id = next(_ids)
        self.user_id = user_id
        self.rooms: set[int] = set()
        # Highest chat sequence number delivered per room: later copies are dropped.
        self.seen: dict[int, int] = {}
        # Rooms being joined: live chat frames wait here until the join reply went out.
        self.pending: dict[int, list[tuple[int, OutFrame]]] = {}
        self.closed = False
        # Where other processes send frames for this socket (set by Hub.attach).
        self.address = ""
        # Free slot for the layer above (the consumer's session).
        self.meta: Any = None
        # For the log line at close: when it opened, and frames and bytes received and sent
        # as tallies (frames.tally). Room frames are credited per room when the connection
        # leaves it (Hub.leave), not per frame.
        self.opened = time.monotonic()
        self.received = 0
        self.sent = 0

    def count_in(self, data: str | bytes) -> None:
        """Tally one inbound frame."""
        self.received += TALLY_FRAME + (utf8_len(data) if isinstance(data, str) else len(data))

    def count_out(self, text: str) -> None:
        """Tally one frame written to this connection alone (a reply, an event to it)."""
        self.sent += TALLY_FRAME + utf8_len(text)

    # --- delivery -----------------------------------------------------------------------------
    def deliver(self, room: int, seq: int | None, frame: OutFrame) -> None:
        """Hand over a room frame; chat frames (with ``seq``) at most once and in order."""
        if seq is not None:
            waiting = self.pending.get(room) if self.pending else None
            if waiting is not None:
                waiting.append((seq, frame))
                return
            if seq <= self.seen.get(room, 0):
                return
            self.seen[room] = seq
        self.write(frame)

    def begin_sync(self, room: int) -> None:
        """Start holding live chat frames of ``room`` while its join reply is prepared."""
        self.pending[room] = []

    def end_sync(self, room: int, last_seq: int) -> None:
        """The join reply carried messages up to ``last_seq``: release what came after."""
        waiting = self.pending.pop(room, [])
        if not self.pending:
            self.pending = {}  # an emptied dict keeps its table (224 bytes); a new one has none
        self.seen[room] = max(self.seen.get(room, 0), last_seq)
        for seq, frame in waiting:
            self.deliver(room, seq, frame)

    def forget_room(self, room: int) -> None:
        self.rooms.discard(room)
        self.pending.pop(room, None)
        self.seen.pop(room, None)

    # --- transport --------------------------------------------------------------------------
    def write(self, frame: OutFrame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self, code: int = 1000) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close_slow(self) -> None:
        if self.closed:
            return
        metrics.SLOW_CLIENT_CLOSES.inc()
        log.info("closing slow consumer connection %s (user %s)", self.id, self.user_id)
        self._write_last(OutFrame(event("session.closing", {"code": "slow_consumer"})))
        self.close(CLOSE_SLOW_CONSUMER)

    def _write_last(self, frame: OutFrame) -> None:  # pragma: no cover - abstract
        """Write one last frame regardless of the send budget."""
        raise NotImplementedError


def _send_now(transport: Any, sock: Any, data: bytes) -> None:
    """Nothing is waiting in Twisted's buffer, so the bytes may go to the socket at once, as
    asyncio's own transports do: one send() instead of registering the socket for
    writability and sending from the reactor callback. What the socket does not take goes to
    Twisted's buffer as usual."""
    try:
        sent = sock.send(data)
    except (BlockingIOError, InterruptedError):
        sent = 0
    except OSError:
        transport.write(data)  # let Twisted notice and report the broken connection
        return
    if sent < len(data):
        transport.write(data[sent:])


class DirectConnection(Connection):
    """Writes ready-made WebSocket frames straight into daphne's Twisted transport."""

    __slots__ = ("_limit", "_proto")

    def __init__(self, protocol: Any, limit: int, user_id: int | None = None) -> None:
        super().__init__(user_id)
        self._proto = protocol
        self._limit = limit

    def unsent_bytes(self) -> int:
        """Bytes handed to the transport that the socket has not taken yet."""
        t = self._proto.transport
        if t is None:
            return 0
        # twisted.internet.abstract.FileDescriptor keeps written data in dataBuffer
        # (from offset on) and in _tempDataBuffer (_tempDataLen bytes).
        return t._tempDataLen + len(t.dataBuffer) - t.offset

    def write(self, frame: OutFrame) -> None:
        if self.closed:
            return
        proto = self._proto
        transport = proto.transport
        if transport is None or proto.state != proto.STATE_OPEN:
            return
        # The common case first, inline (this runs once per recipient of a fan-out): nothing
        # waits in Twisted's buffers or autobahn's queue, so the socket is within its budget.
        if (type(transport) is _TCP_SERVER and not proto.send_queue
                and not transport._tempDataLen and transport.offset >= len(transport.dataBuffer)):
            sock = getattr(transport, "socket", None)
            if sock is not None:
                _send_now(transport, sock, frame.wire)
                return
        if self.unsent_bytes() > self._limit:
            self.close_slow()
            return
        self._write_last(frame)

    def _write_last(self, frame: OutFrame) -> None:
        proto = self._proto
        if proto.send_queue:
            # autobahn is trickling chopped data; keep its order.
            proto.sendData(frame.wire)
            return
        transport = proto.transport
        sock = getattr(transport, "socket", None) if type(transport) is _TCP_SERVER else None
        if sock is None or transport._tempDataLen or transport.offset < len(transport.dataBuffer):
            transport.write(frame.wire)
            return
        _send_now(transport, sock, frame.wire)

    def close(self, code: int = 1000) -> None:
        if self.closed:
            return
        self.closed = True
        proto = self._proto
        if proto.state == proto.STATE_OPEN:
            proto.sendClose(code=code)


class QueuedConnection(Connection):
    """For ASGI servers without the direct path: a bounded queue in front of ``send``.

    One writer task per connection drains the queue, so a server that applies back-pressure in
    ``send`` slows this socket only; when the queue is full the client is closed as slow.
    """

    __slots__ = ("_max_frames", "_queue", "_send", "_wake", "_writer")

    def __init__(self, send: Send, max_frames: int, user_id: int | None = None) -> None:
        super().__init__(user_id)
        self._send = send
        self._max_frames = max_frames
        self._queue: deque[OutFrame | int] = deque()
        self._wake = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self._drain())

    def write(self, frame: OutFrame) -> None:
        if self.closed:
            return
        if len(self._queue) >= self._max_frames:
            # The writer is stuck in send(): give up on this client rather than buffer more.
            self._queue.clear()
            self.close_slow()
            return
        self._write_last(frame)

    def _write_last(self, frame: OutFrame) -> None:
        self._queue.append(frame)
        self._wake.set()

    def close(self, code: int = 1000) -> None:
        if self.closed:
            return
        self.closed = True
        self._queue.append(code)
        self._wake.set()

    async def _drain(self) -> None:
        queue = self._queue
        while True:
            await self._wake.wait()
            self._wake.clear()
            while queue:
                item = queue.popleft()
                try:
                    if isinstance(item, int):
                        await self._send({"type": "websocket.close", "code": item})
                        return
                    await self._send({"type": "websocket.send", "text": item.text})
                except Exception:  # the socket is gone; nothing more to send
                    log.debug("send failed on connection %s", self.id, exc_info=True)
                    return

    def stop(self) -> None:
        self.closed = True
        self._writer.cancel()
