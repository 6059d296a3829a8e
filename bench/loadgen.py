"""A load-generator worker process: ``python -m bench.loadgen CONFIG_JSON``.

The parent (:mod:`bench.workers`) starts several of these, each with its share of the
clients, and drives them over a tiny JSON-lines RPC: one command per line on stdin
(``{"id": 1, "cmd": "connect", "args": {...}}``), one answer per line on stdout
(``{"id": 1, "ok": true, "result": {...}}``). Commands run concurrently, so the parent can ask
for ``stats`` while a ``send`` is under way. Nothing else may be printed on stdout.

Clients use the ``websockets`` asyncio client without compression, without library-level
keepalive pings and without proxies (targets are on loopback only). A client records, for
every chat message it receives, ``time.time()`` at receipt minus the send time the sender
put into the message body (``b|<tag>|<n>|<unix time>``): all processes share one clock.

Targets speak different protocols; :class:`Target` hides the difference:

* ``hallserver``: wait for ``session.ready``, ``room.join`` the room id, ``chat.send`` with the
  body, receive ``chat.message`` events (docs/protocol.md).
* ``channels`` and ``websockets``: the room is in the URL; ``{"message": body}`` is relayed
  verbatim (channels re-serialises it) to the room.

All three answer ``{"action":"ping","id":n,"data":{"t":...}}`` with ``{"reply":n,"ok":true,...}``.

Workers run on uvloop when it is installed (``BENCH_LOOP=asyncio`` turns it off): the load
generators share the machine's cores with the servers they measure, and uvloop makes a
client handshake about a quarter cheaper, which leaves more CPU to the servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import resource
import sys
import time
from collections import Counter, deque
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bench.servers import HALL_TARGETS
from bench.stats import Histogram


def _dumps(obj: Any) -> str:
    # Compact: the floor server recognises pings by the prefix '{"action":"ping"'.
    return json.dumps(obj, separators=(",", ":"))


def raise_fd_limit() -> int:
    """Raise the soft limit of open files to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


class JoinError(Exception):
    """The server refused the room.join."""


def classify(exc: BaseException) -> str:
    """A short, countable name for why a connection attempt failed."""
    if isinstance(exc, InvalidStatus):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, JoinError):
        return f"join {exc}"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionClosed):
        code = exc.rcvd.code if exc.rcvd is not None else 1006
        return f"closed {code}"
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{type(exc).__name__} errno {exc.errno}"
    return type(exc).__name__


class Target:
    """How to open a connection to one of the targets and read its frames."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.kind: str = cfg["target"]
        self.urls: list[str] = cfg["urls"]  # ws://127.0.0.1:PORT/ws/ per server process
        self.origins: list[str] = cfg["origins"]
        self.rooms: list = cfg["rooms"]
        self.room = self.rooms[0]  # where chat is sent
        self.is_hall = self.kind in HALL_TARGETS

    async def open(self, index: int, cookie: str | None,
                   handshake_timeout: float) -> ClientConnection:
        """Connect client number ``index`` and join its room (servers and rooms are taken
        round robin by index)."""
        server = index % len(self.urls)
        room = self.rooms[index % len(self.rooms)]
        url = self.urls[server] if self.is_hall else f"{self.urls[server]}{room}/"
        ws = await connect(
            url,
            origin=self.origins[server],
            additional_headers={"Cookie": cookie} if cookie else None,
            compression=None,
            proxy=None,
            ping_interval=None,
            open_timeout=handshake_timeout,
            close_timeout=2,
            max_size=4 * 1024 * 1024,
        )
        if not self.is_hall:
            return ws
        try:
            async with asyncio.timeout(handshake_timeout):
                while json.loads(await ws.recv()).get("event") != "session.ready":
                    pass
                await ws.send(_dumps({"action": "room.join", "id": "join",
                                      "data": {"room": room}}))
                while True:
                    frame = json.loads(await ws.recv())
                    if frame.get("reply") == "join":
                        if not frame.get("ok"):
                            raise JoinError(frame.get("error", {}).get("code", "?"))
                        break
        except BaseException:
            ws.transport.abort()
            raise
        return ws

    def chat_frame(self, request_id: str, body: str) -> str:
        if self.is_hall:
            return _dumps({"action": "chat.send", "id": request_id,
                           "data": {"room": self.room, "body": body}})
        return _dumps({"message": body})


class Client:
    __slots__ = ("alive", "index", "last", "pings", "received", "tasks", "ws")

    def __init__(self, index: int, ws: ClientConnection) -> None:
        self.index = index
        self.ws = ws
        self.last: dict[str, int] = {}  # highest message number seen per sender tag
        self.pings: dict[int, list] = {}  # ping id -> [sent at, already counted late]
        self.received = 0
        self.alive = True
        self.tasks: list[asyncio.Task] = []


class Worker:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.name = cfg.get("name", "worker")
        self.target = Target(cfg)
        self.clients: list[Client] = []
        self.stopping = False
        # totals
        self.chat = Histogram()  # delivery latency of chat messages, ms
        self.ping = Histogram()  # ping round trips, ms
        self.received = 0
        self.dups = 0
        self.other_frames = 0
        self.errors: Counter[str] = Counter()  # failed connects, server closes, chat errors
        self.chats_sent = 0
        self.chats_ok = 0
        self.chat_errors = 0
        self.acks = Histogram()  # chat.send -> reply (Hallserver), ms
        self._chat_sent_at: dict[str, float] = {}
        self.pings_sent = 0
        self.pings_due = 0
        self.pings_late = 0
        self.connected = 0
        self.peak = 0
        self.attempted = 0
        # flood windows (reset by cmd_window)
        self._win = self._new_window()
        self._ping_ids = itertools.count(1)
        self._late_queue: deque[tuple[float, Client, int]] = deque()
        self._ramp_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()  # keeps background tasks referenced
        self._answered = asyncio.Event()  # cmd_ping_all: every awaited ping answered
        self._awaited: set[int] = set()
        self._ramp_stop = asyncio.Event()
        self.ramp_done = False

    @staticmethod
    def _new_window() -> dict[str, Any]:
        return {"chat": Histogram(), "ping": Histogram(), "due": 0, "late": 0, "sent": 0,
                "failed": 0, "closed": 0}

    # --- frames -------------------------------------------------------------------------------
    def _on_frame(self, c: Client, text: str | bytes) -> None:
        now = time.time()
        try:
            frame = json.loads(text)
        except ValueError:
            self.errors["bad frame"] += 1
            return
        if self.target.is_hall:
            name = frame.get("event")
            if name == "chat.message":
                self._on_chat(c, frame["data"]["body"], now)
            elif name is not None:
                self.other_frames += 1
            else:
                self._on_reply(c, frame, now)
        else:
            body = frame.get("message")
            if body is not None:
                self._on_chat(c, body, now)
            else:
                self._on_reply(c, frame, now)

    def _on_chat(self, c: Client, body: str, now: float) -> None:
        parts = body.split("|")
        if len(parts) != 4 or parts[0] != "b":
            self.other_frames += 1
            return
        tag, number = parts[1], int(parts[2])
        if tag.startswith("w"):  # warm-up messages are not measured
            self.other_frames += 1
            return
        ms = (now - float(parts[3])) * 1000.0
        self.chat.record(ms)
        self._win["chat"].record(ms)
        if number > c.last.get(tag, 0):
            c.last[tag] = number
            c.received += 1
            self.received += 1
        else:
            self.dups += 1

    def _on_reply(self, c: Client, frame: dict, now: float) -> None:
        rid = frame.get("reply")
        if isinstance(rid, int):
            entry = c.pings.pop(rid, None)
            if entry is not None:
                ms = (now - entry[0]) * 1000.0
                self.ping.record(ms)
                self._win["ping"].record(ms)
                if self._awaited and not c.pings:
                    self._awaited.discard(id(c))
                    if not self._awaited:
                        self._answered.set()
            return
        if isinstance(rid, str) and rid.startswith("c"):
            sent_at = self._chat_sent_at.pop(rid, None)
            if sent_at is not None:
                self.acks.record((now - sent_at) * 1000.0)
            if frame.get("ok"):
                self.chats_ok += 1
            else:
                self.chat_errors += 1
                self.errors["chat " + frame.get("error", {}).get("code", "?")] += 1
            return
        self.other_frames += 1

    async def _read(self, c: Client) -> None:
        try:
            async for text in c.ws:
                self._on_frame(c, text)
        except ConnectionClosed:
            pass
        except Exception as exc:  # pragma: no cover - reported, not raised
            self.errors["reader " + type(exc).__name__] += 1
        finally:
            if c.alive:
                c.alive = False
                self.connected -= 1
                if not self.stopping:
                    code = c.ws.close_code if c.ws.close_code is not None else 1006
                    self.errors[f"closed by server {code}"] += 1
                    self._win["closed"] += 1
                for task in c.tasks:
                    if task is not asyncio.current_task():
                        task.cancel()

    # --- opening ------------------------------------------------------------------------------
    async def _open(self, index: int, cookie: str | None, handshake_timeout: float,
                    hist: Histogram | None = None) -> Client | None:
        self.attempted += 1
        started = time.perf_counter()
        try:
            ws = await self.target.open(index, cookie, handshake_timeout)
        except Exception as exc:
            self.errors["connect " + classify(exc)] += 1
            self._win["failed"] += 1
            return None
        if hist is not None:
            hist.record((time.perf_counter() - started) * 1000.0)
        c = Client(index, ws)
        self.clients.append(c)
        self.connected += 1
        self.peak = max(self.peak, self.connected)
        c.tasks.append(asyncio.get_running_loop().create_task(self._read(c)))
        return c

    async def _open_many(self, count: int, index0: int, stride: int, concurrency: int,
                         cookies: list[str], handshake_timeout: float, hist: Histogram) -> int:
        slots = asyncio.Semaphore(max(1, concurrency))

        async def one(k: int) -> bool:
            async with slots:
                cookie = cookies[k % len(cookies)] if cookies else None
                c = await self._open(index0 + k * stride, cookie, handshake_timeout, hist)
                return c is not None

        results = await asyncio.gather(*(one(k) for k in range(count)))
        return sum(results)

    # --- commands -----------------------------------------------------------------------------
    async def cmd_connect(self, count: int, index0: int = 0, stride: int = 1,
                          concurrency: int = 25, cookies: list[str] | None = None,
                          handshake_timeout: float = 30.0) -> dict:
        """Open ``count`` clients (indices ``index0 + k*stride``) and join them to the room."""
        hist = Histogram()
        started = time.time()
        ok = await self._open_many(count, index0, stride, concurrency, cookies or [],
                                   handshake_timeout, hist)
        return {"connected": ok, "failed": count - ok, "errors": dict(self.errors),
                "handshake": hist.to_json(), "t_start": started, "t_end": time.time()}

    async def cmd_storm(self, count: int, index0: int = 0, stride: int = 1,
                        concurrency: int = 100, handshake_timeout: float = 30.0,
                        start_at: float | None = None) -> dict:
        """Open ``count`` clients with ``concurrency`` handshakes in flight; time each one."""
        if start_at is not None:
            await asyncio.sleep(max(0.0, start_at - time.time()))
        return await self.cmd_connect(count, index0, stride, concurrency, None,
                                      handshake_timeout)

    async def cmd_close_all(self) -> dict:
        """Close every client (used after the warm-up of the idle benchmark)."""
        clients, self.clients = self.clients, []
        self.stopping = True
        await asyncio.gather(*(self._close(c) for c in clients))
        self.stopping = False
        return {"closed": len(clients)}

    async def _close(self, c: Client) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await c.ws.close()
        c.ws.transport.abort()

    async def cmd_stats(self) -> dict:
        accepted = self.chats_ok if self.target.is_hall else self.chats_sent
        return {"received": self.received, "connected": self.connected, "dups": self.dups,
                "sent": self.chats_sent, "accepted": accepted, "refused": self.chat_errors}

    async def cmd_ping_all(self, wait_s: float = 10.0) -> dict:
        """Ping every open client once and wait (at most ``wait_s``) for the answers."""
        live = [c for c in self.clients if c.alive]
        if not live:
            return {"sent": 0, "answered": 0, "rtt": self.ping.to_json()}
        self._answered = asyncio.Event()
        self._awaited = {id(c) for c in live}
        await asyncio.gather(*(self._ping(c) for c in live))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await self._answered.wait()
        self._awaited = set()
        missing = sum(len(c.pings) for c in live)
        return {"sent": len(live), "answered": len(live) - missing, "rtt": self.ping.to_json()}

    async def _ping(self, c: Client) -> None:
        pid = next(self._ping_ids)
        now = time.time()
        c.pings[pid] = [now, False]
        self.pings_sent += 1
        self._win["sent"] += 1
        self._late_queue.append((now, c, pid))
        with contextlib.suppress(ConnectionClosed):
            await c.ws.send(_dumps({"action": "ping", "id": pid, "data": {"t": now}}))

    async def cmd_send(self, rate: float, duration: float, tag: str = "s") -> dict:
        """The fan-out sender: ``rate`` chat messages per second for ``duration`` seconds.

        Returns when the last one is sent; ``stats`` tells how many the server accepted."""
        c = self.clients[0]
        total = max(1, round(rate * duration))
        start = time.monotonic() + 0.05
        for k in range(total):
            delay = start + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.time()
            body = f"b|{tag}|{k + 1}|{now:.6f}"
            if tag.startswith("w"):  # warm-up: neither counted nor timed
                await c.ws.send(self.target.chat_frame(f"w{k + 1}", body))
                continue
            self._chat_sent_at[f"c{k + 1}"] = now
            await c.ws.send(self.target.chat_frame(f"c{k + 1}", body))
            self.chats_sent += 1
        # Late by more than one interval means the socket (the server) held the sender back.
        return {"sent": total, "late_s": time.monotonic() - start - (total - 1) / rate}

    async def cmd_report(self) -> dict:
        return {
            "received": self.received, "dups": self.dups, "other_frames": self.other_frames,
            "chat": self.chat.to_json(), "ping": self.ping.to_json(), "acks": self.acks.to_json(),
            "errors": dict(self.errors), "connected": self.connected, "peak": self.peak,
            "attempted": self.attempted, "chats_sent": self.chats_sent,
            "chats_ok": self.chats_ok, "pings_sent": self.pings_sent,
            "pings_due": self.pings_due, "pings_late": self.pings_late,
            "per_client_min": min((c.received for c in self.clients), default=0),
        }

    # --- flood ----------------------------------------------------------------------------------
    async def cmd_flood(self, start_at: float, total: int, rate: float, worker: int,
                        workers: int, chat_every: int, chat_mean: float, ping_interval: float,
                        ping_timeout: float, cookies: list[str],
                        handshake_timeout: float = 30.0) -> dict:
        """Start ramping (in the background): global client ``g`` opens at
        ``start_at + g / rate``; this worker takes ``g = worker, worker + workers, ...``."""
        self._ramp_task = asyncio.get_running_loop().create_task(self._ramp(
            start_at, total, rate, worker, workers, chat_every, chat_mean, ping_interval,
            cookies, handshake_timeout))
        self._spawn(self._late_checker(ping_timeout))
        return {"planned": len(range(worker, total, workers))}

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _ramp(self, start_at, total, rate, worker, workers, chat_every, chat_mean,
                    ping_interval, cookies, handshake_timeout) -> None:
        loop = asyncio.get_running_loop()
        offset = start_at - time.time()  # wall clock -> loop clock
        base = loop.time() + offset
        try:
            for g in range(worker, total, workers):
                delay = base + g / rate - loop.time()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self._ramp_stop.wait()
                if self._ramp_stop.is_set():
                    break
                chatter = chat_every > 0 and g % chat_every == 0
                cookie = cookies[(g // chat_every) % len(cookies)] if chatter and cookies else None
                self._spawn(self._flood_client(g, chatter, cookie, chat_mean, ping_interval,
                                               handshake_timeout))
        finally:
            self.ramp_done = True

    async def _flood_client(self, g: int, chatter: bool, cookie: str | None, chat_mean: float,
                            ping_interval: float, handshake_timeout: float) -> None:
        c = await self._open(g, cookie, handshake_timeout)
        if c is None:
            return
        c.tasks.append(asyncio.current_task())
        loop = asyncio.get_running_loop()
        rng = random.Random(g)
        next_ping = loop.time() + rng.uniform(0.0, ping_interval)
        next_chat = loop.time() + rng.expovariate(1.0 / chat_mean) if chatter else float("inf")
        n = 0
        try:
            while c.alive and not self.stopping:
                now = loop.time()
                wake = min(next_ping, next_chat)
                if wake > now:
                    await asyncio.sleep(wake - now)
                    continue
                if next_ping <= now:
                    next_ping = now + ping_interval * rng.uniform(0.8, 1.2)
                    await self._ping(c)
                if next_chat <= now:
                    next_chat = now + rng.expovariate(1.0 / chat_mean)
                    n += 1
                    sent_at = time.time()
                    body = f"b|c{g}|{n}|{sent_at:.6f}"
                    self.chats_sent += 1
                    if self.target.is_hall:
                        self._chat_sent_at[f"c{g}.{n}"] = sent_at
                    await c.ws.send(self.target.chat_frame(f"c{g}.{n}", body))
        except (ConnectionClosed, asyncio.CancelledError):
            pass

    async def _late_checker(self, ping_timeout: float) -> None:
        queue = self._late_queue
        while not self.stopping:
            await asyncio.sleep(0.5)
            limit = time.time() - ping_timeout
            while queue and queue[0][0] < limit:
                _, c, pid = queue.popleft()
                self.pings_due += 1
                self._win["due"] += 1
                entry = c.pings.get(pid)
                if entry is not None and not entry[1]:
                    entry[1] = True
                    self.pings_late += 1
                    self._win["late"] += 1

    async def cmd_window(self) -> dict:
        """Flood progress since the previous call."""
        win, self._win = self._win, self._new_window()
        return {"connected": self.connected, "peak": self.peak, "attempted": self.attempted,
                "ramp_done": self.ramp_done, "chat": win["chat"].to_json(),
                "ping": win["ping"].to_json(), "pings_due": win["due"],
                "pings_late": win["late"], "pings_sent": win["sent"],
                "failed": win["failed"], "closed": win["closed"],
                "chats_sent": self.chats_sent}

    async def cmd_stop_ramp(self) -> dict:
        self._ramp_stop.set()
        return {"attempted": self.attempted}

    async def shutdown(self) -> None:
        self.stopping = True
        self._ramp_stop.set()
        for c in self.clients:
            c.alive = False
            with contextlib.suppress(Exception):
                c.ws.transport.abort()


async def amain(cfg: dict[str, Any]) -> None:
    fd_limit = raise_fd_limit()
    await serve_pipe(Worker(cfg), fd_limit)


async def serve_pipe(worker: Any, fd_limit: int, limit: int = 1 << 20) -> None:
    """Answer the parent's commands on stdin (one JSON line each: ``{"id", "cmd", "args"}``,
    run as ``worker.cmd_<cmd>(**args)``) on stdout until ``stop`` or the pipe closes; lines
    of up to ``limit`` bytes."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=limit)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout
    running: set[asyncio.Task] = set()

    def answer(message: dict) -> None:
        out.write(json.dumps(message, separators=(",", ":")) + "\n")
        out.flush()

    async def handle(request: dict) -> None:
        try:
            method = getattr(worker, "cmd_" + request["cmd"])
            result = await method(**request.get("args", {}))
            answer({"id": request["id"], "ok": True, "result": result})
        except Exception as exc:
            answer({"id": request["id"], "ok": False, "error": f"{type(exc).__name__}: {exc}"})

    answer({"id": 0, "ok": True, "result": {"pid": os.getpid(), "fd_limit": fd_limit}})
    while True:
        line = await reader.readline()
        if not line:  # the parent is gone
            break
        request = json.loads(line)
        if request["cmd"] == "stop":
            await worker.shutdown()
            answer({"id": request["id"], "ok": True, "result": {}})
            break
        task = loop.create_task(handle(request))
        running.add(task)
        task.add_done_callback(running.discard)


def event_loop() -> Any:
    """How workers run: ``uvloop.run`` if uvloop is installed and not turned off, else
    ``asyncio.run``."""
    if os.environ.get("BENCH_LOOP", "uvloop") == "uvloop":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run
    return asyncio.run


def run(start: Any) -> None:
    """A worker process: ``start(cfg)`` (cfg from argv) on :func:`event_loop`, then exit."""
    cfg = json.loads(sys.argv[1])
    try:
        event_loop()(start(cfg))
    finally:
        sys.stdout.flush()
        # Thousands of aborted sockets need no orderly teardown.
        os._exit(0)


def main() -> None:
    run(amain)


if __name__ == "__main__":
    main()
