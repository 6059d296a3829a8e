"""The WebSocket transport: one consumer per visitor, frames in, replies and events out.

Everything about what an action means lives in :mod:`booths.actions`; this module only
parses frames, answers errors and hands bytes to the connection.
"""

from __future__ import annotations

import logging
import time

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from docking import sweeper as docking_sweeper
from hallserver import logs, metrics
from hallserver.realtime.connection import DIRECT_EXTENSION, DirectConnection, QueuedConnection
from hallserver.realtime.frames import OutFrame, event, reply_error, reply_ok, tally
from hallserver.realtime.handshake import ARRIVED
from hallserver.realtime.hub import hub

from .actions import Session
from .protocol import ErrorCode, ProtocolError, parse_frame
from .services.identity import visitor_for
from .services.moderation import ban_of

log = logging.getLogger(__name__)
slog = logs.get_logger(__name__)


def _send(conn, text: str) -> None:
    """Write a frame meant for this connection alone (counted for its close line)."""
    conn.write(OutFrame(text))
    conn.count_out(text)


class HallConsumer(AsyncWebsocketConsumer):
    """One visitor's WebSocket, multiplexing every room they are in."""

    # The hub carries all cross-process traffic, so a consumer needs no channel of its own.
    channel_layer_alias = "hallserver.consumers-have-no-channel"

    session: Session | None = None
    # No layer groups (the hub has them): spares Channels' empty list per consumer.
    groups = ()

    #: What stays of the scope once the visitor is connected (see ``connect``).
    KEPT_SCOPE = ("type", "path", "client")

    async def __call__(self, scope, receive, send):
        """Receive and dispatch one message at a time.

        Channels' loop (``await_many_dispatch``) waits on the client and the consumer's layer
        channel together: an ``asyncio.wait`` and a new task for every message. With no layer
        channel there is one source, so a plain loop does the same work (a profile of a
        handshake storm put 3 % of the server's CPU in that machinery).
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        del scope  # connect() trims self.scope; this frame must not keep the full one
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message):
        """Dispatch without Channels' per-message ``aclose_old_connections`` thread hop.

        Database work goes through ``database_sync_to_async``, which closes stale
        connections in its own thread.
        """
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        arrived = self.scope.get(ARRIVED) or time.perf_counter()
        await hub.start()
        docking_sweeper.ensure_started()
        user = self.scope.get("user")
        authenticated = user is not None and user.is_authenticated
        visitor = await database_sync_to_async(visitor_for)(user) if authenticated else None
        await self.accept()
        conf = settings.HALLSERVER
        direct = self.scope.get("extensions", {}).get(DIRECT_EXTENSION)
        user_id = visitor.id if visitor else None
        if direct is not None:
            conn = DirectConnection(direct["protocol"], conf["SEND_BUFFER_BYTES"], user_id)
        else:
            conn = QueuedConnection(self.base_send, conf["SEND_QUEUE_FRAMES"], user_id)
        log.debug("connection %s (%s) for user %s", conn.id, type(conn).__name__, user_id)
        hub.attach(conn)
        logs.bind_connection(conn.id, user_id)
        client = self.scope.get("client")
        self.session = session = Session(conn, visitor, client[0] if client else None)
        conn.meta = session
        if visitor is not None:
            ban = await ban_of(visitor.id)
            if ban is not None:
                self.refuse(conn, "banned", ban.reason or "You are banned from this expo.", 4003,
                            reason=ban.reason, until=ban.until.timestamp() if ban.until else None)
                return
            if not await session.count_connection():
                self.refuse(conn, "too_many_connections",
                            "Too many open connections for this user; close another tab.", 4009)
                return
        elif not await session.count_connection():
            self.refuse(conn, "too_many_connections",
                        "Too many connections without a login from your address; log in or "
                        "close another tab.", 4009, per="address")
            return
        _send(conn, event("session.ready", session.ready_event()))
        metrics.HANDSHAKE_SECONDS.observe(time.perf_counter() - arrived)
        # The handshake's headers, cookies, Django session and user are not needed any more
        # (the session holds the visitor): 2-3 KB per open socket otherwise.
        self.scope = {key: self.scope[key] for key in self.KEPT_SCOPE if key in self.scope}

    @staticmethod
    def refuse(conn, code: str, message: str, close_code: int, **details) -> None:
        """Tell the client why (browsers cannot read a refused handshake), then close."""
        conn.write(OutFrame(event("session.closing", {"code": code, "message": message,
                                                       **details})))
        conn.close(close_code)
        slog.info("connection refused", code=code, close_code=close_code)

    async def disconnect(self, code: int) -> None:
        session = self.session
        if session is None:
            return
        self.session = None
        conn = session.conn
        try:
            await session.close()
        finally:
            if isinstance(conn, QueuedConnection):
                conn.stop()
            conn.closed = True
            frames_in, bytes_in = tally(conn.received)
            frames_out, bytes_out = tally(conn.sent)
            slog.info("connection closed", code=code,
                      duration=round(time.monotonic() - conn.opened, 3),
                      frames_in=frames_in, bytes_in=bytes_in,
                      frames_out=frames_out, bytes_out=bytes_out)

    async def hallserver_rejected(self, message) -> None:
        """daphne refused an inbound message (too large, or text that is not UTF-8) without
        passing it on (:data:`hallserver.realtime.server.REJECTED`): answer it, carry on."""
        session = self.session
        if session is None:
            return
        if message["code"] == ErrorCode.FRAME_TOO_LARGE:
            error = (ErrorCode.FRAME_TOO_LARGE,
                     f"Frames have at most {settings.HALLSERVER['MAX_FRAME_BYTES']} bytes.")
        else:
            error = (ErrorCode.FRAME_MALFORMED, "Text frames must be UTF-8.")
        metrics.error_reply(error[0])
        session.conn.write(OutFrame(reply_error(None, *error)))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        session = self.session
        if session is None:
            return
        conn = session.conn
        conn.count_in(text_data if text_data is not None else bytes_data or b"")
        limit = settings.HALLSERVER["MAX_FRAME_BYTES"]
        request_id = action = None
        started = time.perf_counter()
        try:
            if text_data is None:
                raise ProtocolError(ErrorCode.FRAME_MALFORMED, "Send JSON text frames.")
            if len(text_data) > limit or (
                len(text_data) * 4 > limit and len(text_data.encode()) > limit
            ):
                raise ProtocolError(ErrorCode.FRAME_TOO_LARGE,
                                    f"Frames have at most {limit} bytes.")
            frame = parse_frame(text_data)
            request_id, action = frame.id, frame.action
            data = await session.handle(frame.action, frame.data)
            _send(conn, reply_ok(request_id, data))
        except ProtocolError as exc:
            rid = exc.request_id if exc.request_id is not None else request_id
            _send(conn, reply_error(rid, exc.code, exc.message, exc.extra))
            metrics.error_reply(exc.code)
            slog.info("request refused", action=metrics.label_of(action), code=exc.code,
                      request=rid)
        except Exception:
            log.exception("action failed (request %r)", request_id)
            _send(conn, reply_error(request_id, ErrorCode.SERVER_ERROR,
                                    "Something went wrong on the server; try again."))
            metrics.error_reply(ErrorCode.SERVER_ERROR)
        finally:
            metrics.frame_received(action, time.perf_counter() - started)
            hooks, session.after_reply = session.after_reply, []
            for hook in hooks:
                hook()
