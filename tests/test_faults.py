"""Faults that lose nothing: real ``hallserver serve`` processes, a real Redis of their own,
SQLite and (where one answers) PostgreSQL.

- a web process SIGKILLed during steady chat: its clients resume on the other one, nothing
  lost or repeated, and presence forgets the visitors who did not come back;
- Redis stopped for 5 s and started again empty: the processes recover by themselves; sends
  during the outage are refused as not stored; presence is rebuilt from the processes' own
  sockets; no stale pooled connection fails a request afterwards;
- one web process cut off from Redis for 10 s by a TCP proxy while the other carries on: the
  same promises, and the cut-off process's clients get what was said meanwhile.

Nothing here races the clock: every wait is for an event (a reply, a frame, a count), with a
generous timeout only as a safety net. How long recovery took is measured and printed (the
figures in docs/operations.md come from these runs), not asserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.conftest import ServerProcess, prepare_database, server_env
from tests.redis_server import RedisServer
from tests.test_postgres import DEFAULT_URL as POSTGRES_DEFAULT_URL
from tests.test_system import guest_cookie, rooms_of

pytestmark = pytest.mark.system

SAFETY = 60.0  # seconds: only a safety net; every wait ends on its event


# --- a client that survives its server --------------------------------------------------------
class Peer:
    """A protocol client whose replies and events are read by one background task."""

    def __init__(self, name: str, cookie: str | None = None) -> None:
        self.name = name
        self.cookie = cookie
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future] = {}
        self.rooms_of: dict[int, int | None] = {}  # request id -> its data's room
        self.events: list[dict] = []
        self.chat: dict[int, list[dict]] = {}  # room -> chat.message data, in arrival order
        self.server: ServerProcess | None = None
        self.ws = None
        self.user: dict | None = None
        self._reader: asyncio.Task | None = None
        self._new = asyncio.Event()
        self.closed = asyncio.Event()

    async def open(self, server: ServerProcess) -> Peer:
        self.server = server
        self.closed = asyncio.Event()
        headers = {"Cookie": self.cookie} if self.cookie else None
        self.ws = await websockets.connect(server.ws_url, origin=server.url,
                                           additional_headers=headers, max_size=None,
                                           max_queue=None, open_timeout=SAFETY)
        async with asyncio.timeout(SAFETY):
            ready = json.loads(await self.ws.recv())
        assert ready["event"] == "session.ready", ready
        self.user = ready["data"]["user"]
        self._reader = asyncio.get_running_loop().create_task(self._read(self.ws))
        return self

    async def _read(self, ws) -> None:
        try:
            async for raw in ws:
                frame = json.loads(raw)
                future = self.pending.pop(frame.get("reply"), None) if "reply" in frame \
                    else None
                if future is not None:
                    missed = (frame.get("data") or {}).get("missed")
                    if frame["ok"] and missed:
                        # Resumed: what was missed comes before the live frames that follow
                        # the reply, so it is recorded here, in the order of the socket.
                        self.chat.setdefault(self.rooms_of[frame["reply"]], []).extend(missed)
                    if not future.done():
                        future.set_result(frame)
                else:
                    if frame.get("event") == "chat.message":
                        data = frame["data"]
                        self.chat.setdefault(data["room"], []).append(data)
                    self.events.append(frame)
                self._new.set()
        except ConnectionClosed:
            pass
        finally:
            if ws is self.ws:
                pending, self.pending = self.pending, {}
                for future in pending.values():
                    if not future.done():
                        future.set_exception(ConnectionError(f"{self.name}: socket closed"))
                self.closed.set()
                self._new.set()

    async def request(self, action: str, data: dict, client_id: str | None = None) -> dict:
        """Send an action; the whole reply frame (ok or not)."""
        rid = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.pending[rid] = future
        self.rooms_of[rid] = data.get("room")
        try:
            await self.ws.send(json.dumps({"action": action, "id": rid, "data": data}))
        except ConnectionClosed as exc:
            self.pending.pop(rid, None)
            if future.done():
                future.exception()  # retrieved: the socket closed under it
            raise ConnectionError(f"{self.name}: socket closed") from exc
        async with asyncio.timeout(SAFETY):
            return await future

    async def call(self, action: str, data: dict) -> dict:
        frame = await self.request(action, data)
        assert frame["ok"], f"{self.name} {action}: {frame}"
        return frame["data"]

    async def wait_event(self, name: str, match: Callable[[dict], bool] = lambda d: True,
                         within: float = SAFETY) -> dict:
        """The first event ``name`` whose data ``match``es (taken off the list)."""
        async with asyncio.timeout(within):
            while True:
                for i, frame in enumerate(self.events):
                    if frame.get("event") == name and match(frame["data"]):
                        return self.events.pop(i)["data"]
                self._new.clear()
                await self._new.wait()

    async def wait_seq(self, room: int, seq: int, within: float = SAFETY) -> None:
        """Until this client has received chat message ``seq`` of ``room``."""
        async with asyncio.timeout(within):
            while not any(m["seq"] >= seq for m in self.chat.get(room, ())):
                self._new.clear()
                await self._new.wait()

    def seqs(self, room: int) -> list[int]:
        return [m["seq"] for m in self.chat.get(room, ())]

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await self._reader


async def wait_until(check, within: float = SAFETY, every: float = 0.1):
    """Poll the coroutine function ``check`` until it returns something true; returns it."""
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(every)


async def presence_is(peer: Peer, room: int, names: set[str]) -> bool:
    """Whether ``presence.list`` answers exactly ``names`` (and that count)."""
    frame = await peer.request("presence.list", {"room": room})
    if not frame["ok"]:
        return False
    data = frame["data"]
    return data["count"] == len(names) and {u["name"] for u in data["users"]} == names


# --- a TCP proxy the test can cut -------------------------------------------------------------
class CuttableProxy:
    """Forwards a local port to Redis, in a thread of its own. :meth:`cut` drops every
    connection and refuses new ones (they are accepted and closed at once) until
    :meth:`mend`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.is_cut = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redis-proxy", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update((writer, up_writer))

    def _drop_all(self) -> None:
        self.is_cut = True
        for writer in list(self._writers):
            writer.transport.abort()

    def cut(self) -> None:
        done = threading.Event()
        self._loop.call_soon_threadsafe(lambda: (self._drop_all(), done.set()))
        done.wait(10)

    def mend(self) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "is_cut", False)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._drop_all)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


# --- servers --------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> Iterator[str | None]:
    """None (SQLite in the data directory), or a fresh PostgreSQL database where one answers."""
    if request.param == "sqlite":
        yield None
        return
    admin_url = os.environ.get("HALLSERVER_TEST_POSTGRES_URL", POSTGRES_DEFAULT_URL)
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {admin_url} ({exc.__class__.__name__})")
    name = f"hallserver_faults_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A Redis of this test's own: the tests stop and restart it."""
    with RedisServer() as server:
        yield server


@contextlib.contextmanager
def cluster(data_dir: Path, redis_url: str, database_url: str | None,
            web1_redis_url: str | None = None) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    extra = {"DATABASE_URL": database_url} if database_url else {}
    env = server_env(data_dir, REDIS_URL=redis_url,
                     HALLSERVER_REDIS_PREFIX=f"f{os.getpid()}-{time.monotonic_ns()}:", **extra)
    prepare_database(env)
    procs: list[ServerProcess] = []
    try:
        procs.append(ServerProcess(dict(env, REDIS_URL=web1_redis_url or redis_url), "web1"))
        procs.append(ServerProcess(env, "web2"))
        yield procs[0], procs[1]
    finally:
        for proc in procs:
            proc.stop()


def log_timing(what: str, seconds: float) -> None:
    print(f"[faults] {what}: {seconds:.2f} s", flush=True)


async def guests(server: ServerProcess, *names: str) -> list[Peer]:
    cookies = await asyncio.gather(*(asyncio.to_thread(guest_cookie, server.url, n)
                                     for n in names))
    return [Peer(n, c) for n, c in zip(names, cookies, strict=True)]


async def not_stored_during_outage(peer: Peer, room: int, body: str) -> None:
    """A send while the process cannot reach Redis is answered with ``chat.not_stored``."""
    frame = await peer.request("chat.send", {"room": room, "body": body, "client_id": body})
    assert not frame["ok"], frame
    assert frame["error"]["code"] == "chat.not_stored", frame


async def every_request_answers(peer: Peer, room: int, other_room: int, tag: str) -> int:
    """A round of requests that each touch Redis: none may fail. Returns the sent seq."""
    await peer.call("presence.list", {"room": room})
    await peer.call("room.join", {"room": other_room})
    await peer.call("room.leave", {"room": other_room})
    return (await peer.call("chat.send", {"room": room, "body": tag, "client_id": tag}))["seq"]


def stored_bodies(history: list[dict]) -> list[str]:
    return [m["body"] for m in history]


# --- Redis restarted empty --------------------------------------------------------------------
async def test_redis_restarted_empty_loses_nothing(tmp_path, redis_server, database_url):
    with cluster(tmp_path, redis_server.url, database_url) as (web1, web2):
        rooms = rooms_of(web1)
        room, other = rooms["booth"], rooms["booth2"]
        ann, cid, eve = await guests(web1, "Ann", "Cid", "Eve")
        (ben,) = await guests(web2, "Ben")
        peers = [ann, cid, ben]
        try:
            for peer, server in ((ann, web1), (cid, web1), (ben, web2)):
                await peer.open(server)
                await peer.call("room.join", {"room": room})
            await wait_until(lambda: presence_is(ben, room, {"Ann", "Cid", "Ben"}))
            before = await ann.call("chat.send", {"room": room, "body": "before",
                                                  "client_id": "before"})
            await ben.wait_seq(room, before["seq"])

            started = time.monotonic()
            await asyncio.to_thread(redis_server.down)
            # While Redis is down: sends are refused as not stored, on both processes, and a
            # visitor leaves (the removal cannot reach Redis).
            await not_stored_during_outage(ann, room, "outage-ann")
            await not_stored_during_outage(ben, room, "outage-ben")
            await cid.close()
            await asyncio.sleep(max(0.0, 5.0 - (time.monotonic() - started)))
            await asyncio.to_thread(redis_server.up)
            back = time.monotonic()

            # At once: every request on either process is answered (no stale connection).
            after = [await every_request_answers(ann, room, other, "after-ann"),
                     await every_request_answers(ben, room, other, "after-ben")]
            log_timing("first requests answered after Redis came back", time.monotonic() - back)
            # A visitor arriving now is counted and sees the others.
            await eve.open(web2)
            peers.append(eve)
            await eve.call("room.join", {"room": room})
            # Presence is rebuilt from the processes' own sockets and broadcast: Cid, who left
            # during the outage, is not counted.
            expected = {"Ann", "Ben", "Eve"}
            await ann.wait_event("presence.update", match=lambda d: d["count"] == 3)
            await wait_until(lambda: presence_is(ann, room, expected))
            await wait_until(lambda: presence_is(ben, room, expected))
            log_timing("presence right again after Redis came back", time.monotonic() - back)
            # Live chat crosses processes again (the hub's subscriptions are back).
            last = (await ben.call("chat.send", {"room": room, "body": "live",
                                                 "client_id": "live"}))["seq"]
            for peer in (ann, ben):
                await peer.wait_seq(room, last)
            log_timing("every message delivered after Redis came back", time.monotonic() - back)
            for peer in (ann, ben):
                got = peer.seqs(room)
                assert got == sorted(set(got)), f"{peer.name}: out of order or repeated: {got}"
                assert set(range(before["seq"], last + 1)) <= set(got), (peer.name, got)

            # Resume from before the outage on either process: every stored message, once, and
            # nothing of the refused sends.
            for server in (web1, web2):
                (late,) = await guests(server, f"Late on {server.name}")
                peers.append(late)
                await late.open(server)
                data = await late.call("room.join", {"room": room, "since": before["seq"] - 1})
                bodies = stored_bodies(data["missed"])
                assert bodies[0] == "before" and bodies[-1] == "live", bodies
                assert sorted(after) == [m["seq"] for m in data["missed"]][1:-1]
                assert not [b for b in bodies if b.startswith("outage")], bodies
        finally:
            for peer in peers:
                await peer.close()


# --- one process cut off from Redis -------------------------------------------------------------
async def test_process_cut_off_from_redis_loses_nothing(tmp_path, redis_server, database_url):
    proxy = CuttableProxy(redis_server.port)
    try:
        with cluster(tmp_path, redis_server.url, database_url,
                     web1_redis_url=proxy.url) as (web1, web2):
            await _cut_off(web1, web2, proxy)
    finally:
        proxy.close()


async def _cut_off(web1: ServerProcess, web2: ServerProcess, proxy: CuttableProxy) -> None:
    rooms = rooms_of(web1)
    room, other = rooms["booth"], rooms["booth2"]
    ann, cid = await guests(web1, "Ann", "Cid")
    ben, dan = await guests(web2, "Ben", "Dan")
    peers = [ann, cid, ben, dan]
    try:
        for peer, server in ((ann, web1), (cid, web1), (ben, web2), (dan, web2)):
            await peer.open(server)
            await peer.call("room.join", {"room": room})
        await wait_until(lambda: presence_is(ben, room, {"Ann", "Cid", "Ben", "Dan"}))
        first = (await ben.call("chat.send", {"room": room, "body": "before",
                                              "client_id": "before"}))["seq"]
        await ann.wait_seq(room, first)

        started = time.monotonic()
        await asyncio.to_thread(proxy.cut)
        # web1 cannot reach Redis: its sends are refused as not stored, a visitor leaves it.
        await not_stored_during_outage(ann, room, "outage-ann")
        await cid.close()
        # web2 carries on: its visitors chat and see each other's messages.
        during = [(await ben.call("chat.send", {"room": room, "body": f"during {i}",
                                                "client_id": f"during-{i}"}))["seq"]
                  for i in range(5)]
        await dan.wait_seq(room, during[-1])
        await asyncio.sleep(max(0.0, 10.0 - (time.monotonic() - started)))
        proxy.mend()
        back = time.monotonic()

        # Ann, still on web1, gets what was said meanwhile (the hub resubscribes and fills the
        # gap from the database), then live messages, each once and in order.
        await ann.wait_seq(room, during[-1])
        log_timing("cut-off process caught up after the cut", time.monotonic() - back)
        after = await every_request_answers(ann, room, other, "after-ann")
        log_timing("first requests answered after the cut", time.monotonic() - back)
        await ben.wait_seq(room, after)
        last = (await ben.call("chat.send", {"room": room, "body": "live",
                                             "client_id": "live"}))["seq"]
        await ann.wait_seq(room, last)
        got = ann.seqs(room)
        assert got == list(range(got[0], last + 1)), got
        assert first in got
        # Presence: Cid, who left while web1 was cut off, is not counted.
        expected = {"Ann", "Ben", "Dan"}
        await wait_until(lambda: presence_is(ann, room, expected))
        await wait_until(lambda: presence_is(ben, room, expected))
        log_timing("presence right again after the cut", time.monotonic() - back)
        # Nothing of the refused send was stored.
        history = await ben.call("chat.history", {"room": room, "limit": 50})
        bodies = stored_bodies(history["messages"])
        assert "outage-ann" not in bodies and bodies.count("during 0") == 1, bodies
    finally:
        for peer in peers:
            await peer.close()


# --- a web process killed -------------------------------------------------------------------------
def documented_reap_time() -> float:
    """Seconds within which the other processes drop a crashed process's visitors, as
    documented (docs/faults.md): the heartbeat's time to live plus one janitor round, read
    from booths/services/presence.py. Only a bound for the safety net of the wait."""
    from booths.services import presence

    return presence.HEARTBEAT_TTL + presence.JANITOR_SECONDS


async def rejoin(peer: Peer, server: ServerProcess, room: int) -> None:
    """Reconnect ``peer`` to ``server`` and resume ``room`` from the last message it has."""
    await peer.open(server)
    seen = peer.seqs(room)
    data = await peer.call("room.join", {"room": room, "since": seen[-1] if seen else 0})
    assert not data["reset"]  # its missed messages are in peer.chat already


class Sender:
    """Sends numbered messages one after the other; a send that fails with the socket is sent
    again with the same client id after reconnecting to ``fallback``."""

    def __init__(self, peer: Peer, room: int, fallback: ServerProcess) -> None:
        self.peer = peer
        self.room = room
        self.fallback = fallback
        self.acked: dict[str, int] = {}
        self.retried = 0

    async def run(self, until: Callable[[], bool]) -> None:
        n = 0
        while not until():
            n += 1
            cid = f"{self.peer.name}-{n}"
            while True:
                try:
                    frame = await self.peer.request("chat.send", {"room": self.room, "body": cid,
                                                                  "client_id": cid})
                except (ConnectionError, ConnectionClosed):
                    self.retried += 1
                    await self.peer.closed.wait()
                    await rejoin(self.peer, self.fallback, self.room)
                    continue
                assert frame["ok"], frame
                self.acked[cid] = frame["data"]["seq"]
                break
            await asyncio.sleep(0.02)


async def test_killed_process_loses_and_repeats_nothing(tmp_path, redis_server, database_url):
    with cluster(tmp_path, redis_server.url, database_url) as (web1, web2):
        room = rooms_of(web1)["booth3"]
        s1, r1, leaver = await guests(web1, "S1", "R1", "Leaver")
        s2, r2 = await guests(web2, "S2", "R2")
        peers = [s1, r1, leaver, s2, r2]
        try:
            start = 0
            for peer, server in ((s1, web1), (r1, web1), (leaver, web1), (s2, web2),
                                 (r2, web2)):
                await peer.open(server)
                start = (await peer.call("room.join", {"room": room}))["room"]["last_seq"]
            everyone = {p.name for p in peers}
            await wait_until(lambda: presence_is(r2, room, everyone))
            senders = [Sender(s1, room, web2), Sender(s2, room, web2)]
            killed = asyncio.Event()
            after_kill: dict[Sender, int] = {}

            def enough() -> bool:
                return killed.is_set() and all(len(s.acked) >= after_kill[s] + 20
                                               for s in senders)

            sending = [asyncio.create_task(s.run(enough)) for s in senders]
            await wait_until(lambda: _all_sent(senders, 10))

            async def come_back(peer: Peer) -> float:
                await peer.closed.wait()
                await rejoin(peer, web2, room)
                return time.monotonic()

            returning = asyncio.create_task(come_back(r1))
            os.kill(web1.proc.pid, signal.SIGKILL)
            crashed = time.monotonic()
            after_kill.update({s: len(s.acked) for s in senders})
            killed.set()
            log_timing("reader back on the other process", await returning - crashed)
            async with asyncio.timeout(SAFETY):
                await asyncio.gather(*sending)
            log_timing("sender back on the other process", time.monotonic() - crashed)

            acked = {cid: seq for s in senders for cid, seq in s.acked.items()}
            last = max(acked.values())
            # Nothing duplicated: one stored message per client id, each at its acked seq.
            assert len(set(acked.values())) == len(acked)
            assert sorted(acked.values()) == list(range(start + 1, last + 1))
            history = await r2.call("chat.history", {"room": room, "limit": 200})
            stored = {m["body"]: m["seq"] for m in history["messages"] if m["seq"] > start}
            assert stored == acked
            # Nothing lost or repeated for anyone, whether their process died or not.
            for peer in (s1, r1, s2, r2):
                await peer.wait_seq(room, last)
                assert peer.seqs(room) == list(range(start + 1, last + 1)), (peer.name,
                                                                           peer.seqs(room))
            # The visitor who did not come back leaves presence within the documented time.
            await wait_until(lambda: presence_is(r2, room, everyone - {"Leaver"}),
                             within=documented_reap_time() + SAFETY)
            log_timing("presence without the dead process's visitors",
                       time.monotonic() - crashed)
        finally:
            for peer in peers:
                await peer.close()


async def _all_sent(senders: list[Sender], n: int) -> bool:
    return all(len(s.acked) >= n for s in senders)
