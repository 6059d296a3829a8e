"""daphne, with a direct path from the hub to the socket.

daphne hands an ASGI application a ``send`` coroutine that ends in autobahn's
``sendMessage``, which frames the payload anew for every socket and buffers without limit in
the Twisted transport. For fan-out we want the opposite: frame once, write the same bytes to
every socket, and see how much each socket still has unsent. This subclass puts the
WebSocket protocol object into the scope under the ``hallserver.direct`` extension;
:class:`hallserver.realtime.connection.DirectConnection` uses it. Under any other ASGI server
the extension is absent and connections fall back to a bounded queue in front of ``send``.

It relies on daphne 4.2 / autobahn / Twisted internals (pinned in pyproject.toml, every one
named in :mod:`hallserver.realtime.internals`, which ``hallserver serve`` and
tests/test_server_internals.py check, and covered by tests/test_system.py).

Inbound messages: one over ``HALLSERVER_MAX_FRAME_BYTES`` is discarded as it arrives and one
that is not UTF-8 is refused, each answered with an error while the connection carries on
(:class:`HallWebSocketProtocol`); a close the server starts waits ``close_timeout`` for the
client and, once answered, ends the TCP connection without a reset.

It also makes an idle connection cheaper (docs/benchmarks.md, memory per idle connection):
:class:`Inbox` replaces daphne's per-connection ``asyncio.Queue``, and
:class:`HallWebSocketProtocol` keeps autobahn's options on its class, lets go of the upgraded
HTTP request and of what only the opening handshake needed, and compacts its attributes once
the connection is open.
"""

from __future__ import annotations

import asyncio
import logging
import pprint
import time
from collections import deque
from functools import partial
from typing import Any

import autobahn.websocket.protocol as autobahn_protocol
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor, tcp
from twisted.web.http import HTTPChannel

from . import connection
from .connection import DIRECT_EXTENSION

log = logging.getLogger(__name__)

__all__ = ["DIRECT_EXTENSION", "REJECTED", "HallServer", "HallWebSocketProtocol"]

#: The ASGI event an application gets instead of an inbound message that was too large
#: (``{"type": REJECTED, "code": "frame.too_large"}``) or not UTF-8 (``frame.malformed``).
REJECTED = "hallserver.rejected"

# The direct path's fast case writes to Twisted's TCP transports itself.
connection._TCP_SERVER = tcp.Server


class _Lazy:
    """A log argument computed only if a log message really formats it: ``fn(*args)``."""

    __slots__ = ("args", "fn")

    def __init__(self, fn, *args: object) -> None:
        self.fn = fn
        self.args = args

    def __format__(self, spec: str) -> str:
        return format(self.fn(*self.args), spec)

    def __str__(self) -> str:
        return str(self.fn(*self.args))


def _lazily(fn):
    """``fn`` with its work put off until the result is formatted (see :class:`_Lazy`)."""

    def lazy(*args: object) -> _Lazy:
        return _Lazy(fn, *args)

    lazy.__wrapped__ = fn
    return lazy


def _lazy_autobahn_debug() -> None:
    """autobahn computes the arguments of its debug log lines whether debug logging is on or
    not: it pretty-prints its ~40 protocol options on every new connection
    (``WebSocketProtocol._connectionMade``: 5 % of the server's CPU in a handshake storm), and
    colours qualified method names and values with click (``hltype``, ``hlval``: about 2 %
    more, and a ``Failure`` formatted on every lost connection). Their only uses in these
    modules are log arguments, so each becomes lazy. pformat's one other use that must return
    text (``Timings.__str__``) gets the real pformat back."""
    import autobahn.twisted.websocket as autobahn_twisted

    if hasattr(autobahn_protocol.pformat, "__wrapped__"):
        return
    for module, names in ((autobahn_protocol, ("pformat", "hltype", "hlval")),
                          (autobahn_twisted, ("hltype", "hlval"))):
        for name in names:
            setattr(module, name, _lazily(getattr(module, name)))
    autobahn_protocol.Timings.__str__ = lambda self: pprint.pformat(self._timings)


_lazy_autobahn_debug()


class Inbox:
    """What daphne puts a connection's events into and the application's ``receive`` takes
    from: an unbounded FIFO with ``put_nowait`` and ``get``, like the ``asyncio.Queue`` daphne
    uses, without its cost while empty.

    An ``asyncio.Queue`` holds four deques (760 bytes each, empty or not) and an Event: 3 KB
    per connection for a queue that is empty nearly all the time. Here the items and the
    waiting readers live in containers that exist only while there are any. As with the
    queue, each ``put_nowait`` wakes one waiting reader, and a reader cancelled after it was
    woken passes the wake-up on, so no item is left behind.
    """

    __slots__ = ("_items", "_readers")

    def __init__(self) -> None:
        self._items: deque | None = None
        self._readers: list[asyncio.Future] | None = None

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: Any) -> None:
        items = self._items
        if items is None:
            items = self._items = deque()
        items.append(item)
        self._wake_one()

    def _wake_one(self) -> None:
        readers = self._readers
        while readers:
            reader = readers.pop(0)
            if not reader.done():
                reader.set_result(None)
                break
        if not readers:
            self._readers = None

    async def get(self) -> Any:
        while not self._items:
            reader = asyncio.get_running_loop().create_future()
            if self._readers is None:
                self._readers = []
            self._readers.append(reader)
            try:
                await reader
            except BaseException:
                reader.cancel()
                readers = self._readers
                if readers is not None and reader in readers:
                    readers.remove(reader)
                    if not readers:
                        self._readers = None
                elif self._items and not reader.cancelled():
                    self._wake_one()  # woken, but cancelled before taking the item
                raise
        items = self._items
        item = items.popleft()
        if not items:
            self._items = None
        return item


#: Attributes autobahn or daphne set on every connection that keep these values while an
#: open connection is quiet. They are class attributes of :class:`HallWebSocketProtocol`, so
#: an open connection drops its own copies (``_compact``); whatever sets one later sets it on
#: the instance again, as before.
_QUIET_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys((
        "_perMessageCompress", "trackedTimings", "wasNotCleanReason", "localCloseCode",
        "localCloseReason", "remoteCloseCode", "remoteCloseReason", "openHandshakeTimeoutCall",
        "closeHandshakeTimeoutCall", "autoPingTimeoutCall", "autoPingPending",
        "autoPingPendingCall", "autoPingPendingSent", "protocol_to_accept",
        "websocket_protocol_in_use", "current_frame", "message_data", "frame_data",
    ), None),
    **dict.fromkeys((
        "triggered", "wasMaxFramePayloadSizeExceeded", "wasMaxMessagePayloadSizeExceeded",
        "closedByMe", "failedByMe", "droppedByMe", "wasClean", "wasServerConnectionDropTimeout",
        "wasOpenHandshakeTimeout", "wasCloseHandshakeTimeout",
        "wasServingFlashSocketPolicyFile", "inside_message", "_isMessageCompressed",
        "utf8validateIncomingCurrentMessage", "message_is_binary",
    ), False),
    "autoPingPendingSeq": 0,
    "message_data_total_length": 0,
    "frame_length": 0,
    "data": b"",
    "root_path": "",
    "_raw_query_string": b"",
}

#: What only the opening handshake reads (autobahn's ``processHandshake`` and
#: ``succeedHandshake``, daphne's ``onConnect``): released once the connection is open. The
#: request headers alone are about 1 KB in the parsed dict and 1 KB in daphne's header list.
_HANDSHAKE_ONLY = (
    "clean_headers", "application_deferred", "http_headers", "http_request_data",
    "http_response_data", "http_status_line", "http_request_uri", "http_request_path",
    "http_request_params", "http_request_host", "_wskey", "websocket_origin",
    "websocket_protocols", "websocket_extensions", "websocket_extensions_in_use",
)


class _SendQueue(list):
    """autobahn's queue of chopped or synchronous sends (``send_queue``): it only appends,
    ``popleft``s and takes the length, and daphne never chops or syncs, so it stays empty. An
    empty list is 56 bytes, the deque autobahn makes for every connection 760."""

    __slots__ = ()

    def popleft(self) -> Any:
        return self.pop(0)


class _HandshakeRequest:
    """What daphne reads of the opening request once the connection is open: its path (for
    ``log_action`` and ``repr``). Stands in for autobahn's ``ConnectionRequest``, which also
    holds the parsed headers."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


class HallWebSocketProtocol(WebSocketProtocol):
    """daphne's WebSocket protocol with less memory per open connection.

    - autobahn copies its ~30 options from the factory into every connection's ``__dict__``
      (``_connectionMade``); here they are class attributes of a subclass per factory, so the
      copy is skipped (it only copies options the connection does not have).
    - daphne upgrades an HTTP request to a WebSocket by handing the socket to this protocol,
      but Twisted's ``HTTPChannel`` stays registered as the socket's producer and with it the
      request, its headers and body buffer (2-3 KB). The request is never finished, so the
      channel ignores pause/resume calls anyway; the protocol unregisters it (on a plain TCP
      transport; a TLS transport wraps its producer and is left as it is).
    - Once open, the protocol drops what only the handshake needed (``_HANDSHAKE_ONLY``, the
      request), swaps autobahn's ``send_queue`` deque for a list, and rebuilds its
      ``__dict__`` without the entries equal to class defaults (``_QUIET_DEFAULTS``). What
      frames and keepalive pings set again brings it to 35-41 entries instead of 108: an
      832-byte dict (room for 42) instead of 3.3 KB.
    """

    #: The factory whose options this class carries (see ``_connectionMade``).
    _options_of: Any = None
    #: Largest inbound message the application is given (``HALLSERVER_MAX_FRAME_BYTES``); a
    #: larger one is discarded as it arrives and answered ``frame.too_large`` (0: no limit).
    inbound_limit = 0
    #: Whether the message being received went over ``inbound_limit`` (see below).
    _oversize = False

    @classmethod
    def for_factory(cls, factory: Any) -> type[HallWebSocketProtocol]:
        """The protocol class for the connections of ``factory``."""
        return type(cls.__name__, (cls,), {"__module__": cls.__module__})

    def _connectionMade(self) -> None:
        cls = type(self)
        factory = self.factory
        if cls._options_of is not factory:
            # Options are set before the first connection (daphne's run()), and a class per
            # factory (for_factory) keeps two servers in one process apart.
            for name in self.CONFIG_ATTRS:
                value = getattr(factory, name)
                if hasattr(value, "__get__"):
                    # A function option (perMessageCompressionAccept) must not become a method.
                    value = staticmethod(value)
                setattr(cls, name, value)
            cls._options_of = factory
        transport = self.transport
        if isinstance(getattr(transport, "producer", None), HTTPChannel):
            transport.unregisterProducer()
        super()._connectionMade()
        self.send_queue = _SendQueue()

    def onOpen(self) -> None:
        super().onOpen()
        self._compact()

    def dropConnection(self, abort: bool = False) -> None:
        """autobahn, as a server, aborts the TCP connection (a reset) as soon as the client
        answered its close frame. Once that handshake is complete (``wasClean``) nothing is
        left to send or wait for, so the connection ends with a plain close: the client
        (one closed as slow, say) sees its close code and an orderly end, not a network
        failure. Timeouts and failures still abort."""
        super().dropConnection(abort=abort and not self.wasClean)

    # --- inbound messages: too large or not UTF-8 is answered, not a dropped connection -----
    # autobahn fails the whole connection when a message is over its size limit or a text
    # message is not UTF-8 (and daphne's onMessage would raise on the latter). Here the size
    # limit is the application's own: a message over it is counted but not kept, frame by
    # frame, so at most ``inbound_limit`` bytes of it are ever held, and the application gets
    # a ``hallserver.rejected`` event instead of the message. autobahn's own limits are off
    # (0) and its incremental UTF-8 check too (``utf8validateIncoming``, set on the factory):
    # a text message is decoded once, whole, below.

    def onMessageBegin(self, isBinary: bool) -> None:
        super().onMessageBegin(isBinary)
        if self._oversize:
            del self._oversize

    def onMessageFrameBegin(self, length: int) -> None:
        limit = self.inbound_limit
        if self._oversize or 0 < limit < self.message_data_total_length + length:
            self._oversize = True
            self.message_data = []  # what earlier frames of this message brought, let go
            self.message_data_total_length += length
            self.frame_length = length
            self.frame_data = None
            return
        super().onMessageFrameBegin(length)

    def onMessageFrameData(self, payload: bytes) -> None:
        if not self._oversize:
            super().onMessageFrameData(payload)

    def onMessageFrameEnd(self) -> None:
        if not self._oversize:
            super().onMessageFrameEnd()

    def onMessageEnd(self) -> None:
        if not self._oversize:
            super().onMessageEnd()
            return
        del self._oversize
        self.message_data = None
        self._reject("frame.too_large")

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if isBinary or self.muted:
            super().onMessage(payload, isBinary)
            return
        # daphne's onMessage for text, without its exception on bytes that are not UTF-8.
        try:
            text = payload.decode("utf8")
        except UnicodeDecodeError:
            self._reject("frame.malformed")
            return
        self.last_ping = time.time()
        self.application_queue.put_nowait({"type": "websocket.receive", "text": text})

    def _reject(self, code: str) -> None:
        """Tell the application that an inbound message was refused (``code``)."""
        if not self.muted:
            self.application_queue.put_nowait({"type": REJECTED, "code": code})

    def _compact(self) -> None:
        attrs = self.__dict__
        request = attrs.get("request")
        if request is not None:
            attrs["request"] = _HandshakeRequest(request.path)
        for name in _HANDSHAKE_ONLY:
            attrs.pop(name, None)
        for name, default in _QUIET_DEFAULTS.items():
            if name in attrs and attrs[name] is default:
                del attrs[name]
        # A dict does not shrink when entries are deleted; a copy is sized for what is left.
        self.__dict__ = dict(attrs)


# Reading a released or compacted attribute gives its default (handshake-only ones: None).
for _name, _default in {**_QUIET_DEFAULTS, **dict.fromkeys(_HANDSHAKE_ONLY)}.items():
    setattr(HallWebSocketProtocol, _name, _default)


class HallServer(Server):
    """daphne's server with our WebSocket protocol, the direct path, and event-driven reaping.

    daphne's ``application_checker`` walks every connection each second to find applications
    that finished or outlived their disconnect; at 5,000 sockets per process that was 5 % of
    the CPU in a flood profile. Here a connection is looked at only once something happened
    to it: its application finished, or its socket went away.
    """

    def __init__(self, *args: Any, inbound_limit: int = 0, close_timeout: float = 10.0,
                 **kwargs: Any) -> None:
        """daphne's arguments, plus ``inbound_limit`` (largest inbound message handed to the
        application; larger ones are discarded and answered) and ``close_timeout`` (seconds a
        client has to read what is queued for it and answer our close frame before its
        connection is dropped)."""
        super().__init__(*args, **kwargs)
        self._attention: set = set()
        self.inbound_limit = inbound_limit
        self.close_timeout = close_timeout

    def protocol_disconnected(self, protocol: Any) -> None:
        super().protocol_disconnected(protocol)
        self._attention.add(protocol)

    def _watch(self, protocol: Any) -> None:
        details = self.connections.get(protocol)
        instance = details.get("application_instance") if details else None
        if instance is not None:
            instance.add_done_callback(lambda _: self._attention.add(protocol))

    def application_checker(self) -> None:
        now = time.time()
        for protocol in list(self._attention):
            details = self.connections.get(protocol)
            if details is None:
                self._attention.discard(protocol)
                continue
            instance = details.get("application_instance")
            disconnected = details.get("disconnected")
            if (disconnected and instance is not None and not instance.done()
                    and now - disconnected > self.application_close_timeout):
                log.warning("Application instance %r for connection %r took too long to shut "
                            "down and was killed.", instance, protocol)
                instance.cancel()
            if instance is not None and instance.done():
                self._reap(protocol, instance, disconnected)
                del details["application_instance"]
                instance = None
            if instance is None and disconnected:
                del self.connections[protocol]
            if instance is None or not disconnected:
                # Gone, or finished while connected (the disconnect brings it back), or
                # still running while connected: nothing to watch until the next event.
                self._attention.discard(protocol)
        reactor.callLater(1, self.application_checker)

    def _reap(self, protocol: Any, instance: asyncio.Future, disconnected: float | None) -> None:
        """What daphne does with a finished application: report its exception, if any."""
        if instance.cancelled():
            return
        exception = instance.exception()
        if exception is None:
            return
        if isinstance(exception, KeyboardInterrupt):
            self.stop()  # the application asks the server to exit (tests do)
            return
        log.error("Exception inside application: %s", exception, exc_info=exception)
        if not disconnected:
            protocol.handle_exception(exception)

    # daphne's run() makes its WebSocket factory and stores it here: give it our protocol.
    @property
    def ws_factory(self) -> Any:
        return self.__dict__.get("_ws_factory")

    @ws_factory.setter
    def ws_factory(self, factory: Any) -> None:
        protocol = factory.protocol = HallWebSocketProtocol.for_factory(factory)
        protocol.inbound_limit = self.inbound_limit
        # Message size and UTF-8 are checked by the protocol (see onMessageFrameBegin); the
        # size options daphne sets after this only bound a single frame's header, so they
        # are passed as 0 (serve). A close we start waits close_timeout for the client.
        factory.setProtocolOptions(utf8validateIncoming=False,
                                   closeHandshakeTimeout=self.close_timeout)
        self._ws_factory = factory

    def create_application(self, protocol, scope):
        if not isinstance(protocol, WebSocketProtocol):
            queue = super().create_application(protocol, scope)
            self._watch(protocol)
            return queue
        # daphne's create_application, with an Inbox instead of an asyncio.Queue.
        details = self.connections.get(protocol)
        if details is None:
            return None
        assert "application_instance" not in details
        scope.setdefault("extensions", {})[DIRECT_EXTENSION] = {"protocol": protocol}
        scope.setdefault("asgi", {"version": "3.0"})
        inbox = Inbox()
        instance = self.application(scope=scope, receive=inbox.get,
                                    send=partial(self.handle_reply, protocol))
        details["application_instance"] = asyncio.ensure_future(
            instance, loop=asyncio.get_event_loop())
        self._watch(protocol)
        return inbox
