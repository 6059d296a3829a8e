"""WebSocket hardening: inbound frames too large or not UTF-8, and the cap on anonymous
connections per client address.

- protocol level: daphne's real WebSocket protocol (HallWebSocketProtocol) fed over an
  in-memory transport, to see what it keeps of an oversize message;
- consumer level: the anonymous cap through ``WebsocketCommunicator`` (in-memory presence);
- system level: two daphne processes and a uvicorn process over one Redis, behind
  ``HALLSERVER_PROXY_HEADERS`` so that each test speaks from its own client address.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator

import pytest
import websockets

from hallserver.realtime.server import REJECTED, HallServer
from tests.conftest import ServerProcess, server_cluster
from tests.test_server_memory import settle, upgrade
from tests.test_system import guest_cookie
from tests.wsclient import WsClient

# --- protocol level: what daphne keeps of an oversize message --------------------------------


def client_frame(payload: bytes, opcode: int = 0x1, fin: bool = True) -> bytes:
    """A masked client frame of any length."""
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


def start_server(app, inbound_limit: int) -> HallServer:
    """A HallServer as `hallserver serve` configures it, without a reactor or listener."""
    from daphne.http_protocol import HTTPFactory
    from daphne.ws_protocol import WebSocketFactory

    server = HallServer(application=app, endpoints=["tcp:port=0"], inbound_limit=inbound_limit,
                        websocket_max_message_size=0, websocket_max_frame_size=0)
    server.connections = {}
    server.http_factory = HTTPFactory(server)
    server.ws_factory = WebSocketFactory(server, server="daphne")
    server.ws_factory.setProtocolOptions(maxMessagePayloadSize=0, maxFramePayloadSize=0)
    return server


@pytest.fixture
async def open_socket():
    received: list[dict] = []

    async def app(scope, receive, send):
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        while True:
            received.append(await receive())

    server = start_server(app, inbound_limit=1000)
    transport, ws = upgrade(server)
    await settle()
    transport.clear()
    yield ws, transport, received
    server.connections[ws]["application_instance"].cancel()
    await settle()


async def test_an_oversize_message_is_discarded_as_it_arrives_and_answered(open_socket):
    ws, transport, received = open_socket
    big = client_frame(b"x" * (1 << 20))
    # Arrives in pieces: none of the megabyte is kept, the connection stays open.
    for start in range(0, len(big), 65536):
        ws.dataReceived(big[start:start + 65536])
        assert not ws.message_data and not ws.frame_data
    await settle()
    assert received == [{"type": REJECTED, "code": "frame.too_large"}]
    # A fragmented message over the limit: its first (small) fragment is let go too.
    ws.dataReceived(client_frame(b"a" * 600, fin=False))
    ws.dataReceived(client_frame(b"b" * 600, opcode=0x0))
    assert not ws.message_data
    ws.dataReceived(client_frame(b'{"action":"ping"}'))
    await settle()
    assert received[1:] == [{"type": REJECTED, "code": "frame.too_large"},
                            {"type": "websocket.receive", "text": '{"action":"ping"}'}]
    assert ws.state == ws.STATE_OPEN and transport.value() == b"" and not transport.disconnecting


async def test_text_that_is_not_utf8_is_answered_and_the_connection_carries_on(open_socket):
    ws, transport, received = open_socket
    ws.dataReceived(client_frame(b'{"action":"ping","x":"\xff\xfe"}'))
    ws.dataReceived(client_frame("{\"t\":\"展\"}".encode()))
    ws.dataReceived(client_frame(b"\x00\xff", opcode=0x2))  # binary: passed on as it is
    await settle()
    assert received == [{"type": REJECTED, "code": "frame.malformed"},
                        {"type": "websocket.receive", "text": '{"t":"展"}'},
                        {"type": "websocket.receive", "bytes": b"\x00\xff"}]
    assert ws.state == ws.STATE_OPEN and transport.value() == b"" and not transport.disconnecting


# --- consumer level: the anonymous cap ---------------------------------------------------------


async def first_frame(address: tuple[str, int], user=None) -> tuple[WsClient, dict]:
    from channels.testing import WebsocketCommunicator

    from hallserver.asgi import application
    from tests.wsclient import ORIGIN, session_cookie_for

    c = WsClient(user)
    headers = list(ORIGIN)
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    c.comm = WebsocketCommunicator(application, "/ws/", headers=headers)
    c.comm.scope["client"] = address
    connected, _ = await c.comm.connect()
    assert connected
    return c, await c.next_frame()


REFUSED = {"event": "session.closing", "data": {
    "code": "too_many_connections", "per": "address",
    "message": "Too many connections without a login from your address; log in or close "
               "another tab."}}


@pytest.mark.django_db(transaction=True)
async def test_anonymous_connections_per_address_are_capped(settings):
    from tests.test_consumer import make_user

    settings.HALLSERVER = {**settings.HALLSERVER, "MAX_ANON_CONNECTIONS_PER_ADDRESS": 2}
    here, there = ("198.51.100.1", 4000), ("198.51.100.2", 4000)
    first, _ = await first_frame(here)
    second, _ = await first_frame(here)
    third, frame = await first_frame(here)
    assert frame == REFUSED
    assert (await third.comm.receive_output(2))["code"] == 4009
    # Another address, and a logged-in user at this one, are not held back.
    other, frame = await first_frame(there)
    assert frame["event"] == "session.ready"
    user = await make_user("Logged in")
    known, frame = await first_frame(here, user)
    assert frame["event"] == "session.ready"
    # Closing one frees its place (the disconnect has run when close() returns).
    await first.close()
    fourth, frame = await first_frame(here)
    assert frame["event"] == "session.ready"
    for c in (second, third, other, known, fourth):
        await c.close()


@pytest.mark.django_db(transaction=True)
async def test_an_anonymous_connection_that_cannot_be_counted_is_let_in(monkeypatch):
    """Redis unreachable: read-only visitors still come in (uncounted), the cap fails open."""
    from booths import runtime

    store = runtime.presence().store

    async def unreachable(*args):
        raise ConnectionError("Redis is away")

    monkeypatch.setattr(store, "add", unreachable)
    c, frame = await first_frame(("198.51.100.3", 4000))
    assert frame["event"] == "session.ready"
    await c.close()


# --- system level ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trio(tmp_path_factory, redis_url) -> Iterator[list[ServerProcess]]:
    """Two daphne processes and a uvicorn process over one Redis, taking the client address
    from X-Forwarded-For, with at most 3 anonymous connections per address."""
    with server_cluster(tmp_path_factory, redis_url, ("web1", "daphne"), ("web2", "daphne"),
                        ("uv", "uvicorn"),
                        env={"HALLSERVER_PROXY_HEADERS": "true",
                             "HALLSERVER_MAX_ANON_CONNECTIONS_PER_ADDRESS": "3"}) as servers:
        yield servers


def connect(server: ServerProcess, address: str, cookie: str | None = None):
    headers = {"X-Forwarded-For": address}
    if cookie:
        headers["Cookie"] = cookie
    return websockets.connect(server.ws_url, origin=server.url, additional_headers=headers,
                              max_size=None)


async def next_json(ws) -> dict:
    async with asyncio.timeout(10):
        return json.loads(await ws.recv())


async def errors_until_pong(ws, n: int) -> list[tuple]:
    """The next ``n`` error replies, then a ping's answer: the connection carried on."""
    errors = []
    while len(errors) < n:
        frame = await next_json(ws)
        if frame.get("ok") is False:
            errors.append((frame["reply"], frame["error"]["code"]))
    await ws.send(json.dumps({"action": "ping", "id": "after", "data": {"t": 1}}))
    while (frame := await next_json(ws)).get("reply") != "after":
        pass
    assert frame["ok"] and frame["data"]["t"] == 1
    return errors


@pytest.mark.system
async def test_daphne_answers_oversize_and_non_utf8_frames_and_carries_on(trio):
    web1 = trio[0]
    async with connect(web1, "203.0.113.10", guest_cookie(web1.url, "Big sender")) as ws:
        assert (await next_json(ws))["event"] == "session.ready"
        await ws.send("x" * (1 << 20))  # 1 MB
        await ws.send(["y" * 10_000, "z" * 10_000])  # 20 KB in two fragments
        await ws.send(b'{"action":"ping","id":1,"data":{"t":"\xff"}}', text=True)
        assert await errors_until_pong(ws, 3) == [
            (None, "frame.too_large"), (None, "frame.too_large"), (None, "frame.malformed")]


@pytest.mark.system
async def test_uvicorn_closes_a_message_over_a_megabyte_and_text_that_is_not_utf8(trio):
    """uvicorn (websockets) has no such hook: up to its 1 MB cap the consumer answers
    frame.too_large; beyond it the connection is closed with 1009 and a reason, text that is not
    UTF-8 with 1007 (docs/protocol.md)."""
    uv = trio[2]
    cookie = guest_cookie(uv.url, "Uvicorn sender")
    async with connect(uv, "203.0.113.11", cookie) as ws:
        assert (await next_json(ws))["event"] == "session.ready"
        await ws.send("x" * 20_000)
        assert await errors_until_pong(ws, 1) == [(None, "frame.too_large")]
        await ws.send("x" * ((1 << 20) + 1))
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await next_json(ws)
        assert ws.close_code == 1009 and ws.close_reason
    async with connect(uv, "203.0.113.11", cookie) as ws:
        assert (await next_json(ws))["event"] == "session.ready"
        await ws.send(b'{"action":"ping","data":{"t":"\xff"}}', text=True)
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await next_json(ws)
        assert ws.close_code == 1007  # without a reason (websockets gives none)


async def refused(server: ServerProcess, address: str) -> dict:
    async with connect(server, address) as ws:
        frame = await next_json(ws)
        with pytest.raises(websockets.ConnectionClosed):
            await next_json(ws)
        assert ws.close_code == 4009
        return frame


@pytest.mark.system
async def test_the_anonymous_cap_per_address_holds_across_processes(trio):
    web1, web2, uv = trio
    address = "203.0.113.20"
    async with connect(web1, address) as a, connect(web2, address) as b, \
            connect(uv, address) as c:
        for ws in (a, b, c):
            assert (await next_json(ws))["event"] == "session.ready"
        for server in trio:
            assert await refused(server, address) == REFUSED
        # Other addresses, and a logged-in guest at this one, get in.
        async with connect(web2, "203.0.113.21") as other, \
                connect(web1, address, guest_cookie(web1.url, "Logged in")) as known:
            assert (await next_json(other))["event"] == "session.ready"
            assert (await next_json(known))["event"] == "session.ready"
        await a.close()
        # The place is free once web1 has seen the close (waited for, not slept on).
        async with asyncio.timeout(10):
            while True:
                async with connect(web2, address) as d:
                    frame = await next_json(d)
                if frame["event"] == "session.ready":
                    break
                assert frame == REFUSED
