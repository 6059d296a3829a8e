"""System tests: two real daphne processes (``hallserver serve``) sharing a database and a
real Redis; clients are real WebSocket connections (the ``websockets`` library)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
from urllib.request import Request, urlopen

import pytest
import websockets

from tests.conftest import ServerProcess, prepare_database, server_env

pytestmark = pytest.mark.system


def http_json(url: str) -> tuple[dict, str]:
    """GET JSON; returns the answer and the cookies it set, as a Cookie header value."""
    with urlopen(Request(url), timeout=10) as resp:
        cookies = [c.split(";", 1)[0] for c in resp.headers.get_all("Set-Cookie") or []]
        return json.loads(resp.read()), "; ".join(cookies)


def _read(req: Request) -> dict:
    with urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def guest_cookie(base: str, name: str) -> str:
    """Log in as a fresh guest; returns the Cookie header value."""
    _, cookie = http_json(f"{base}/api/session")
    token = dict(c.split("=", 1) for c in cookie.split("; "))["csrftoken"]
    req = Request(f"{base}/api/guest", data=json.dumps({"name": name}).encode(), headers={
        "Cookie": cookie, "Content-Type": "application/json", "X-CSRFToken": token,
        "Referer": base + "/"})
    with urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["user"]["name"] == name
        for c in resp.headers.get_all("Set-Cookie"):
            k, v = c.split(";", 1)[0].split("=", 1)
            if k == "sessionid":
                return f"sessionid={v}"
    raise AssertionError("no session cookie")


class Client:
    """A protocol client on a real socket."""

    def __init__(self, server: ServerProcess, cookie: str | None = None) -> None:
        self.server = server
        self.cookie = cookie
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.ws = None

    async def __aenter__(self) -> Client:
        headers = {"Cookie": self.cookie} if self.cookie else None
        self.ws = await websockets.connect(self.server.ws_url, origin=self.server.url,
                                           additional_headers=headers, max_size=None,
                                           max_queue=None)
        ready = json.loads(await self.ws.recv())
        assert ready["event"] == "session.ready"
        self.user = ready["data"]["user"]
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def call(self, action: str, data: dict) -> dict:
        rid = next(self.ids)
        await self.ws.send(json.dumps({"action": action, "id": rid, "data": data}))
        async with asyncio.timeout(10):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame.get("reply") == rid:
                    assert frame["ok"], frame
                    return frame["data"]
                self.events.append(frame)

    async def wait_event(self, name: str, match=lambda d: True, within: float = 10) -> dict:
        for i, frame in enumerate(self.events):
            if frame.get("event") == name and match(frame["data"]):
                return self.events.pop(i)["data"]
        async with asyncio.timeout(within):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame.get("event") == name and match(frame["data"]):
                    return frame["data"]
                self.events.append(frame)

    async def collect(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                while True:
                    self.events.append(json.loads(await self.ws.recv()))
        except TimeoutError:
            pass

    def seqs(self, room: int) -> list[int]:
        return [f["data"]["seq"] for f in self.events
                if f.get("event") == "chat.message" and f["data"]["room"] == room]


async def chat_reaches(sender: Client, receiver: Client, room: int, body: str) -> dict:
    """``sender`` says ``body`` in ``room``; returns the message as ``receiver`` got it."""
    sent = await sender.call("chat.send", {"room": room, "body": body})
    got = await receiver.wait_event("chat.message", match=lambda d: d["seq"] == sent["seq"])
    assert got["body"] == body
    return got


def rooms_of(server: ServerProcess) -> dict:
    expo = _read(Request(f"{server.url}/api/expo"))
    hall = expo["halls"][0]
    booths = _read(Request(f"{server.url}/api/halls/{hall['id']}"))["booths"]
    return {"lobby": hall["lobby_room"], "booth": booths[0]["room"], "booth2": booths[1]["room"],
            "roadshow": expo["roadshows"][0]["room"], "booth3": booths[2]["room"]}


async def test_chat_and_presence_cross_processes(two_servers):
    web1, web2 = two_servers
    rooms = rooms_of(web1)
    room = rooms["booth"]
    async with Client(web1, guest_cookie(web1.url, "Ann on web1")) as a, \
            Client(web2, guest_cookie(web2.url, "Ben on web2")) as b:
        await a.call("room.join", {"room": room})
        joined = await b.call("room.join", {"room": room})
        assert joined["presence"]["count"] == 2
        # Ann (web1) sees Ben (web2) arrive.
        update = await a.wait_event("presence.update",
                                    match=lambda d: any(u["name"] == "Ben on web2"
                                                        for u in d.get("joined", [])))
        assert update["count"] == 2
        got = await chat_reaches(b, a, room, "hello from web2")
        assert got["user"]["name"] == "Ben on web2"
        await chat_reaches(a, b, room, "and back from web1")
        names = {u["name"] for u in (await a.call("presence.list", {"room": room}))["users"]}
        assert names == {"Ann on web1", "Ben on web2"}
    # Both left: a third client sees an empty room again.
    async with Client(web2) as c:
        for _ in range(50):
            data = await c.call("room.join", {"room": room})
            if data["presence"]["count"] == 1:  # only c itself
                break
            await asyncio.sleep(0.1)
        assert data["presence"]["count"] == 1


async def test_hall_counts_cross_processes(two_servers):
    web1, web2 = two_servers
    rooms = rooms_of(web1)
    key = str(rooms["booth2"])
    async with Client(web1) as lobby:
        data = await lobby.call("room.join", {"room": rooms["lobby"]})
        assert key not in data["counts"] and data["total"] == 0
        async with Client(web2) as visitor:
            await visitor.call("room.join", {"room": rooms["booth2"]})
            await lobby.wait_event("hall.counts", match=lambda d: d["counts"].get(key) == 1)
        await lobby.wait_event("hall.counts", match=lambda d: d["counts"].get(key) == 0)


async def test_resume_on_the_other_process_loses_and_repeats_nothing(two_servers):
    web1, web2 = two_servers
    room = rooms_of(web1)["booth3"]
    writer_cookie = guest_cookie(web2.url, "Writer")
    reader_cookie = guest_cookie(web1.url, "Reader")
    async with Client(web2, writer_cookie) as writer:
        await writer.call("room.join", {"room": room})
        async with Client(web1, reader_cookie) as reader:
            start = (await reader.call("room.join", {"room": room}))["room"]["last_seq"]
            for i in range(5):
                await writer.call("chat.send", {"room": room, "body": f"seen {i}"})
            await reader.wait_event("chat.message", match=lambda d: d["seq"] == start + 5)
            last_seen = max([*reader.seqs(room), start + 5])
        # The reader is gone; the conversation goes on.
        for i in range(7):
            await writer.call("chat.send", {"room": room, "body": f"missed {i}"})
        # It comes back through the other process and resumes.
        async with Client(web2, reader_cookie) as back:
            data = await back.call("room.join", {"room": room, "since": last_seen})
            assert [m["seq"] for m in data["missed"]] == list(range(last_seen + 1,
                                                                    last_seen + 8))
            assert data["reset"] is False
            for i in range(3):
                await writer.call("chat.send", {"room": room, "body": f"live {i}"})
            await back.wait_event("chat.message", match=lambda d: d["seq"] == last_seen + 10)
            await back.collect(0.5)
            live = [last_seen + 8, last_seen + 9, last_seen + 10]
            assert sorted(back.seqs(room) + live[2:]) == live  # each exactly once


async def test_concurrent_senders_on_both_processes_are_seen_in_one_order(two_servers):
    web1, web2 = two_servers
    room = rooms_of(web1)["roadshow"]
    clients = [Client(web1, guest_cookie(web1.url, "S1")),
               Client(web2, guest_cookie(web2.url, "S2")), Client(web1), Client(web2)]
    async with contextlib.AsyncExitStack() as stack:
        s1, s2, r1, r2 = [await stack.enter_async_context(c) for c in clients]
        base = None
        for c in (s1, s2, r1, r2):
            base = (await c.call("room.join", {"room": room}))["room"]["last_seq"]

        async def send(c: Client, n: int) -> None:
            for i in range(n):
                await c.call("chat.send", {"room": room, "body": f"{i}"})

        await asyncio.gather(send(s1, 25), send(s2, 25))
        expected = list(range(base + 1, base + 51))
        for c in (r1, r2, s1, s2):
            await c.wait_event("chat.message", match=lambda d: d["seq"] == base + 50)
            await c.collect(0.3)
        for c in (r1, r2):
            assert [*c.seqs(room), base + 50] == expected


async def test_a_burst_of_200_handshakes_all_succeed(two_servers):
    web1, _ = two_servers
    room = rooms_of(web1)["lobby"]

    async def one() -> int:
        async with Client(web1) as c:
            data = await c.call("room.join", {"room": room})
            return data["presence"]["count"]

    counts = await asyncio.gather(*(one() for _ in range(200)), return_exceptions=True)
    failures = [c for c in counts if isinstance(c, BaseException)]
    assert failures == []


def raw_websocket(port: int) -> socket.socket:
    """A WebSocket that completes the handshake and then never reads."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(
        b"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Origin: http://127.0.0.1\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0]
    return sock


def mask_frame(text: str) -> bytes:
    payload = text.encode()
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload), 0, 0, 0, 0]) + payload


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory):
    """One process whose connections may hold only 64 KiB unsent; a client closed as slow
    has a minute to read what was queued for it (generous: the test reads it at once)."""
    env = server_env(tmp_path_factory.mktemp("tight"), HALLSERVER_SEND_BUFFER_BYTES="65536",
                     HALLSERVER_SLOW_CLOSE_GRACE="60")
    prepare_database(env)
    server = ServerProcess(env, "tight")
    yield server
    server.stop()


async def test_a_client_that_stops_reading_is_closed_and_others_carry_on(tight_server):
    room = rooms_of(tight_server)["booth"]
    stalled = raw_websocket(tight_server.port)
    stalled.sendall(mask_frame(json.dumps({"action": "room.join", "id": 1,
                                           "data": {"room": room}})))
    async with Client(tight_server, guest_cookie(tight_server.url, "Talker")) as talker, \
            Client(tight_server) as listener:
        await talker.call("room.join", {"room": room})
        await listener.call("room.join", {"room": room})
        body = "展" * 2000  # 6 KB of UTF-8 per message
        for _ in range(900):  # ~5.4 MB: past the 64 KiB budget plus the kernel's 4 MB buffer
            await talker.call("chat.send", {"room": room, "body": body})
        last = (await talker.call("chat.send", {"room": room, "body": "end"}))["seq"]
        await listener.wait_event("chat.message", match=lambda d: d["seq"] == last)
        assert len(listener.seqs(room)) >= 900
    deadline = time.monotonic() + 15
    while "closing slow consumer" not in tight_server.output():
        assert time.monotonic() < deadline, tight_server.output()
        await asyncio.sleep(0.2)
    # The stalled client reads again: what was queued before it was given up, then why, then
    # the close frame with 4008; it answers the close and the server ends the TCP connection
    # cleanly (no reset), which tells it apart from a network failure.
    stalled.settimeout(10)
    frames = read_frames(stalled)
    opcode, payload = frames[-1]
    assert opcode == 0x8 and int.from_bytes(payload[:2], "big") == 4008
    texts = [json.loads(p) for op, p in frames[:-1] if op == 0x1]
    assert texts[-1] == {"event": "session.closing", "data": {"code": "slow_consumer"}}
    assert sum(1 for t in texts if t.get("event") == "chat.message") > 10
    stalled.sendall(bytes([0x88, 0x82, 0, 0, 0, 0]) + (4008).to_bytes(2, "big"))
    assert stalled.recv(65536) == b""  # EOF, not ConnectionResetError
    stalled.close()


def read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError(f"connection ended after {len(data)} of {n} bytes")
        data += chunk
    return data


def read_frames(sock: socket.socket) -> list[tuple[int, bytes]]:
    """Server frames (opcode, payload) up to and including a close frame."""
    frames = []
    while True:
        first, second = read_exactly(sock, 2)
        n = second & 0x7F
        if n == 126:
            n = int.from_bytes(read_exactly(sock, 2), "big")
        elif n == 127:
            n = int.from_bytes(read_exactly(sock, 8), "big")
        frames.append((first & 0x0F, read_exactly(sock, n)))
        if first & 0x0F == 0x8:
            return frames
