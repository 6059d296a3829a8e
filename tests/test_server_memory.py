"""What keeps an idle connection small (docs/benchmarks.md, memory per idle connection): the
inbox that replaces daphne's asyncio.Queue, the middleware that runs for the handshake only,
and the WebSocket protocol that lets go of the upgraded HTTP request and of the handshake's
state. The last part drives daphne's real HTTP-to-WebSocket upgrade over an in-memory
transport."""

from __future__ import annotations

import asyncio
import base64
import gc
import os
import weakref
from unittest import mock

import pytest
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.ws_protocol import WebSocketFactory
from django.urls import path
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.web.http import HTTPChannel

from hallserver.realtime import server as server_module
from hallserver.realtime.handshake import HandshakeStack, TypeRouter, handshake_routes
from hallserver.realtime.server import (
    _HANDSHAKE_ONLY,
    HallServer,
    HallWebSocketProtocol,
    Inbox,
)

# --- Inbox ---------------------------------------------------------------------------------------


async def test_inbox_is_fifo_and_empty_when_drained():
    inbox = Inbox()
    for i in range(3):
        inbox.put_nowait(i)
    assert inbox.qsize() == 3
    assert [await inbox.get() for _ in range(3)] == [0, 1, 2]
    assert inbox.empty() and inbox._items is None and inbox._readers is None


async def test_inbox_wakes_waiting_readers_in_turn():
    inbox = Inbox()
    readers = [asyncio.create_task(inbox.get()) for _ in range(3)]
    await asyncio.sleep(0)
    inbox.put_nowait("a")
    inbox.put_nowait("b")
    await asyncio.sleep(0)
    assert [r.result() for r in readers[:2]] == ["a", "b"] and not readers[2].done()
    inbox.put_nowait("c")
    assert await readers[2] == "c"
    assert inbox._readers is None


async def test_inbox_cancelled_reader_loses_nothing():
    inbox = Inbox()
    first, second = asyncio.create_task(inbox.get()), asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    inbox.put_nowait("x")  # wakes the first reader ...
    first.cancel()  # ... which is cancelled before it takes the item
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(second, 1) == "x"

    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    waiting.cancel()  # cancelled while waiting: forgotten
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert inbox._readers is None
    inbox.put_nowait("y")
    assert await inbox.get() == "y"


# --- handshake-only middleware --------------------------------------------------------------


class Recorder:
    """A middleware that adds to the scope; remembers that its frame is gone by a weakref to
    an object only its frame holds."""

    class Token:
        pass

    def __init__(self, inner):
        self.inner = inner
        self.frames: list[weakref.ref] = []

    async def __call__(self, scope, receive, send):
        token = self.Token()
        self.frames.append(weakref.ref(token))
        return await self.inner(dict(scope, seen_by="recorder"), receive, send)


class Denier:
    """Answers the connection itself when the path asks for it (like a refused origin)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["path"] == "/deny/":
            await send({"type": "websocket.close"})
            return None
        return await self.inner(scope, receive, send)


async def test_handshake_stack_runs_the_route_after_the_middleware():
    from channels.routing import URLRouter

    seen = {}

    async def endpoint(scope, receive, send):
        # The middleware has returned: its frame (and the token in it) is gone.
        gc.collect()
        seen["alive"] = [ref() is not None for ref in recorder.frames]
        seen["scope"] = scope
        await send({"type": "websocket.accept"})

    recorder = Recorder(URLRouter(handshake_routes([path("ws/<int:n>/", endpoint)])))
    app = TypeRouter({"websocket": HandshakeStack(Denier(recorder))})
    sent = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "websocket.connect"}

    await app({"type": "websocket", "path": "/ws/7/"}, receive, send)
    assert seen["alive"] == [False]
    assert seen["scope"]["seen_by"] == "recorder"
    assert seen["scope"]["url_route"] == {"args": (), "kwargs": {"n": 7}}
    assert "hallserver.handshake" not in seen["scope"]
    assert sent == [{"type": "websocket.accept"}]

    sent.clear()
    await app({"type": "websocket", "path": "/deny/"}, receive, send)
    assert sent == [{"type": "websocket.close"}]

    with pytest.raises(ValueError, match="No route found"):
        await app({"type": "websocket", "path": "/elsewhere/"}, receive, send)
    with pytest.raises(ValueError, match="No application configured"):
        await app({"type": "lifespan"}, receive, send)


async def test_handshake_routes_run_their_app_outside_a_stack():
    from channels.routing import URLRouter

    ran = []

    async def endpoint(scope, receive, send):
        ran.append(scope["path"])

    router = URLRouter(handshake_routes([path("ws/", endpoint)]))
    await router({"type": "websocket", "path": "/ws/"}, None, None)
    assert ran == ["/ws/"]


# --- daphne's upgrade, in memory ------------------------------------------------------------

UPGRADE = (
    b"GET /ws/?x=1 HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8000\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Origin: http://127.0.0.1:8000\r\n"
    b"Cookie: csrftoken=abc\r\n"
    b"User-Agent: test-agent/1.0\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)) + b"\r\n"
    # Browsers always offer compression; Hallserver declines it, as daphne does by default.
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    b"\r\n"
)


def client_text_frame(text: str) -> bytes:
    payload, mask = text.encode(), os.urandom(4)
    assert len(payload) < 126
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def start_server(app, max_message_size: int = 1 << 20) -> HallServer:
    """A HallServer with the factories daphne's run() makes, but no reactor or listener."""
    server = HallServer(application=app, endpoints=["tcp:port=0"],
                        websocket_max_message_size=max_message_size)
    server.connections = {}
    server.http_factory = HTTPFactory(server)
    server.ws_factory = WebSocketFactory(server, server="daphne")
    server.ws_factory.setProtocolOptions(
        autoPingTimeout=server.ping_timeout, allowNullOrigin=True,
        openHandshakeTimeout=server.websocket_handshake_timeout,
        maxMessagePayloadSize=server.websocket_max_message_size,
        maxFramePayloadSize=server.websocket_max_frame_size,
    )
    return server


def upgrade(server: HallServer) -> tuple[StringTransport, object]:
    """Feed an upgrade request to daphne's HTTP protocol; the WebSocket protocol it made."""
    before = set(server.connections)
    http = server.http_factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
    http.makeConnection(transport)
    assert isinstance(transport.producer, HTTPChannel)
    http.dataReceived(UPGRADE)
    (ws,) = [p for p in server.connections
             if p not in before and isinstance(p, HallWebSocketProtocol)]
    return transport, ws


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_open_connection_keeps_no_handshake_state():
    received: list[dict] = []

    async def app(scope, receive, send):
        assert ("user-agent", "test-agent/1.0") in [
            (k.decode(), v.decode()) for k, v in scope["headers"]]
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while True:
            received.append(await receive())

    server = start_server(app)
    transport, ws = upgrade(server)
    await settle()

    response = transport.value()
    assert response.startswith(b"HTTP/1.1 101 ")
    assert b"Sec-WebSocket-Extensions" not in response  # compression declined
    assert ws.state == ws.STATE_OPEN

    # The HTTP channel and request are no longer held by the socket: once daphne forgets the
    # upgraded request (its application check, every second, does this), it is garbage.
    assert transport.producer is None
    requests = [p for p in server.connections if isinstance(p, WebRequest)]
    assert requests and all("disconnected" in server.connections[r] for r in requests)
    del requests
    with mock.patch.object(server_module.reactor, "callLater"):  # one check, not a schedule
        server.application_checker()
    assert not [p for p in server.connections if isinstance(p, WebRequest)]
    assert not [p for p in server._attention if isinstance(p, WebRequest)]
    gc.collect()
    assert not [o for o in gc.get_objects() if type(o) is WebRequest and o.channel is not None
                and o.channel.transport is transport]

    attrs = vars(ws)
    assert not set(_HANDSHAKE_ONLY) & set(attrs)
    assert not set(ws.CONFIG_ATTRS) & set(attrs)  # options are class attributes
    assert ws.maxMessagePayloadSize == 1 << 20 and ws.allowNullOrigin is True
    assert ws.perMessageCompressionAccept([]) is None  # a function option stays a function
    assert ws.request.path == "/ws/" and ws._raw_query_string == b"x=1"
    assert isinstance(ws.application_queue, Inbox)
    assert len(ws.send_queue) == 0 and not ws.send_queue

    ws.dataReceived(client_text_frame('{"action":"ping"}'))
    await settle()
    assert received == [{"type": "websocket.receive", "text": '{"action":"ping"}'}]

    server.connections[ws]["application_instance"].cancel()
    await settle()


async def test_servers_in_one_process_keep_their_own_options():
    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        await asyncio.Event().wait()

    small, large = start_server(app, 1000), start_server(app, 5000)
    _, ws_small = upgrade(small)
    _, ws_large = upgrade(large)
    _, ws_small_again = upgrade(small)
    await settle()
    assert type(ws_small) is type(ws_small_again) is not type(ws_large)
    assert (ws_small.maxMessagePayloadSize, ws_large.maxMessagePayloadSize) == (1000, 5000)
    assert ws_small_again.maxMessagePayloadSize == 1000
    for server in (small, large):
        for details in server.connections.values():
            if "application_instance" in details:
                details["application_instance"].cancel()
    await settle()


async def test_connections_are_reaped_when_something_happens_to_them_not_by_walking_all():
    """The application check looks only at connections whose application finished or whose
    socket went away, and does what daphne's does with them."""
    finish = asyncio.Event()

    async def app(scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await finish.wait()

    server = start_server(app)
    _, ws = upgrade(server)
    await settle()
    check = mock.patch.object(server_module.reactor, "callLater")
    with check:
        server.application_checker()  # forgets the upgraded HTTP request
    assert server._attention == set()  # an open socket with a running app: nothing to do
    assert ws in server.connections

    server.protocol_disconnected(ws)  # the socket went away; the app is still running
    with check:
        server.application_checker()
    assert ws in server._attention and ws in server.connections
    server.connections[ws]["disconnected"] -= server.application_close_timeout + 1
    with check:
        server.application_checker()  # too long to shut down: cancelled and reaped
    await settle()
    with check:
        server.application_checker()
    assert ws not in server.connections and server._attention == set()


async def test_an_application_error_is_reported_to_its_connection(caplog):
    async def app(scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        raise RuntimeError("boom")

    server = start_server(app)
    _, ws = upgrade(server)
    await settle()
    assert ws in server._attention  # the application finished
    with mock.patch.object(ws, "handle_exception") as handled, \
            mock.patch.object(server_module.reactor, "callLater"):
        server.application_checker()
    handled.assert_called_once()
    assert "boom" in caplog.text
    assert "application_instance" not in server.connections[ws]  # reaped, socket still known
