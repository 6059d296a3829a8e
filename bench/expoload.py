"""The expo-day load generator: ``python -m bench.expoload CONFIG_JSON`` (driven by bench/expo.py).

Speaks the same JSON-lines RPC on stdin/stdout as :mod:`bench.loadgen` (so
:class:`bench.workers.LoadWorker` drives it), but its clients behave like an expo's visitors,
each a Hallserver WebSocket (docs/protocol.md):

* ``visitor``: anonymous, joins one room (a booth or a hall lobby), moves to another room now
  and then: ``room.leave`` of the old room, then ``room.join`` of the new one, one after the
  other, as the browser's ``joinRoom`` / ``leaveRoom`` do;
* ``chatter``: a visitor signed in as a guest who also sends ``chat.send`` to the room it is
  in; the body carries the message id and the send time (``x|<id>|<unix time>``);
* ``watcher``: sits in a hall lobby and records every ``hall.counts``;
* ``probe``: moves in and out of a booth room no visitor is ever sent to, so that the count the
  lobby shows for that room is known at every moment (0 or 1): the watchers' receipts time how
  long a lobby takes to show a move;
* ``viewer`` / ``asker``: in a roadshow room; askers (guests) send ``qa.ask``;
* ``moderator``: the demo moderator in the expo-wide moderators' room: approves every pending
  question it hears of (``qa.moderate``) and marks it answered a little later.

Every client records its stay in each room (join answered .. leave sent) so that the parent can
tell which clients had to receive which chat message. Searches (``GET /api/search?q=``) are
made over plain HTTP/1.1 on loopback by the worker asked to (``search`` command).
Everything unexpected is an error: a failed handshake, an error reply, a request without a
reply within the timeout, a connection the server closed, an HTTP status other than 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import json
import random
import time
import urllib.parse
from collections import Counter, defaultdict
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.loadgen import classify, raise_fd_limit, run, serve_pipe
from bench.stats import Histogram


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


# Frames nobody measures are counted without parsing them (they are the bulk of the traffic).
_SKIP = ('{"event":"presence.update"', )


class Rooms:
    """Rooms drawn by weight (bench/expo.py gives booth rank k the weight ``1 / k**s``, Zipf,
    and the hall lobbies a fixed share)."""

    def __init__(self, rooms: list[int], weights: list[float], rng: random.Random) -> None:
        self.rooms = rooms
        self.cum = list(itertools.accumulate(weights))
        self.rng = rng

    def pick(self, avoid: int | None = None) -> int:
        for _ in range(20):
            room = self.rng.choices(self.rooms, cum_weights=self.cum)[0]
            if room != avoid or len(self.rooms) == 1:
                return room
        return room


class Client:
    __slots__ = ("alive", "busy", "cookie", "got", "index", "kind", "pending", "room",
                 "stays", "ws")

    def __init__(self, index: int, kind: str, room: int, cookie: str | None) -> None:
        self.index = index
        self.kind = kind
        self.room = room
        self.cookie = cookie
        self.ws: ClientConnection | None = None
        self.pending: dict[int, asyncio.Future] = {}
        self.stays: list[list] = []  # [room, in (join answered), out (leave sent) or None]
        self.got: set[str] = set()  # chat message ids / question tags received
        self.alive = False
        self.busy = False


class Worker:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.urls: list[str] = cfg["urls"]
        self.origins: list[str] = cfg["origins"]
        self.ports: list[int] = cfg["ports"]
        self.sources: list[str] = cfg.get("sources") or ["127.0.0.1"]
        self.timeout: float = cfg.get("timeout", 30.0)
        self.rng = random.Random(cfg.get("seed", 1))
        with open(cfg["visit_file"]) as f:
            visit = json.load(f)
        self.zipf = Rooms(visit["rooms"], visit["weights"], self.rng)
        self.clients: list[Client] = []
        self.ids = itertools.count(1)
        self.errors: Counter[str] = Counter()
        self.stopping = False
        self.tasks: set[asyncio.Task] = set()
        self.activity: dict[str, bool] = {"moves": False, "chat": False, "qa": False,
                                          "probes": False}
        self.move_mean = 60.0
        self.chat_mean = 15.0
        self.ask_mean = 20.0
        self.probe_every = 4.0
        # measurements
        self.chat = Histogram()  # chat delivery, sender to member, ms
        self.qa = Histogram()  # question asked -> approved question at a viewer, ms
        self.search = Histogram()
        self.search_status: Counter[str] = Counter()
        self.sent: list[list] = []  # chat: [id, room, t_send, t_ack or None, ok]
        self.asked: dict[str, list] = {}  # question tag -> [room, t_asked]
        self.approved: list[list] = []  # moderator: [tag, room, t_approved]
        self.moves = 0
        self.move_ms = Histogram()  # leave + join, both answered
        self.probe_moves: list[list] = []  # [room, expected count, t_sent]
        self.watch: dict[int, list] = defaultdict(list)  # probe room -> [(t, count, watcher)]
        self.watch_all: dict[int, list] = defaultdict(list)
        self.lobby_view: dict[int, dict] = {}  # watcher index -> {"total", "counts", "hall"}
        self.probe_rooms: set[int] = set(cfg.get("probe_rooms", []))
        self.probe_room_of: dict[int, int] = {}
        self.frames = Counter()
        self.last_chat_at = 0.0

    # --- plumbing -------------------------------------------------------------------------------
    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def request(self, c: Client, action: str, data: dict) -> dict | None:
        """Send an action and wait for its reply; ``None`` (and an error counted) if it
        failed or did not come within the timeout."""
        if not c.alive:
            return None
        rid = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        c.pending[rid] = future
        try:
            await c.ws.send(_dumps({"action": action, "id": rid, "data": data}))
            async with asyncio.timeout(self.timeout):
                frame = await future
        except TimeoutError:
            if not self.stopping:
                self.errors[f"{action}: no reply within {self.timeout:g} s"] += 1
            return None
        except ConnectionClosed:
            return None
        finally:
            c.pending.pop(rid, None)
        if not frame.get("ok"):
            self.errors[f"{action}: {frame.get('error', {}).get('code', '?')}"] += 1
            return None
        return frame.get("data") or {}

    def on_frame(self, c: Client, text: str) -> None:
        now = time.time()
        if text.startswith(_SKIP):
            self.frames["presence.update"] += 1
            return
        frame = json.loads(text)
        name = frame.get("event")
        if name is None:
            future = c.pending.get(frame.get("reply"))
            if future is not None and not future.done():
                future.set_result(frame)
            elif frame.get("ok") is False:
                self.errors[f"unsolicited error {frame.get('error', {}).get('code')}"] += 1
            return
        self.frames[name] += 1
        data = frame.get("data") or {}
        if name == "chat.message":
            parts = str(data.get("body", "")).split("|")
            if len(parts) == 3 and parts[0] == "x":
                self.last_chat_at = now
                self.chat.record((now - float(parts[2])) * 1000.0)
                c.got.add(parts[1])
        elif name == "hall.counts" and c.kind == "watcher":
            view = self.lobby_view.setdefault(c.index, {"counts": {}, "total": None,
                                                        "hall": data.get("hall")})
            view["total"] = data.get("total")
            for room, n in (data.get("counts") or {}).items():
                view["counts"][int(room)] = n
                if int(room) in self.probe_rooms:
                    self.watch[int(room)].append((now, n, c.index))
                else:  # the last few, for the diagnosis of a count that stays wrong
                    seen = self.watch_all[int(room)]
                    seen.append((round(now, 3), n, c.index, data.get("total")))
                    if len(seen) > 8:
                        del seen[0]
        elif name == "qa.question":
            body = str(data.get("body", ""))
            parts = body.split("|")
            if len(parts) != 3 or parts[0] != "q":
                return
            status = data.get("status")
            if c.kind == "moderator" and status == "pending":
                self.spawn(self.moderate(c, data["id"], parts[1], data.get("room")))
            elif status == "approved" and c.kind in ("viewer", "asker") and parts[1] not in c.got:
                c.got.add(parts[1])
                self.qa.record((now - float(parts[2])) * 1000.0)
        elif name == "session.closing":
            self.errors[f"session.closing {data.get('code')}"] += 1

    async def read(self, c: Client) -> None:
        try:
            async for text in c.ws:
                self.on_frame(c, text)
        except ConnectionClosed:
            pass
        except Exception as exc:  # pragma: no cover - reported, not raised
            self.errors["reader " + type(exc).__name__] += 1
        finally:
            if c.alive:
                c.alive = False
                if not self.stopping:
                    code = c.ws.close_code if c.ws.close_code is not None else 1006
                    self.errors[f"closed by server {code}"] += 1
                for future in c.pending.values():
                    if not future.done():
                        future.cancel()

    # --- connecting -------------------------------------------------------------------------------
    async def open(self, c: Client) -> bool:
        server = c.index % len(self.urls)
        source = self.sources[c.index % len(self.sources)]
        try:
            c.ws = await connect(
                self.urls[server], origin=self.origins[server],
                additional_headers={"Cookie": c.cookie} if c.cookie else None,
                compression=None, proxy=None, ping_interval=None, open_timeout=self.timeout,
                close_timeout=2, max_size=4 * 1024 * 1024, local_addr=(source, 0))
            async with asyncio.timeout(self.timeout):
                while json.loads(await c.ws.recv()).get("event") != "session.ready":
                    pass
        except Exception as exc:
            self.errors["connect " + classify(exc)] += 1
            if c.ws is not None:
                c.ws.transport.abort()
            return False
        c.alive = True
        self.spawn(self.read(c))
        return not c.room or await self.join(c, c.room)

    async def join(self, c: Client, room: int) -> bool:
        reply = await self.request(c, "room.join", {"room": room})
        if reply is None:
            return False
        c.room = room
        c.stays.append([room, time.time(), None])
        return True

    async def leave(self, c: Client) -> bool:
        room, c.room = c.room, 0
        sent = time.time()
        if c.stays and c.stays[-1][0] == room and c.stays[-1][2] is None:
            c.stays[-1][2] = sent
        return await self.request(c, "room.leave", {"room": room}) is not None

    async def cmd_connect(self, plan: list[list], rate: float, start_at: float) -> dict:
        """Open the clients of ``plan`` (``[index, kind, room, cookie or null]``), client k at
        ``start_at + k / rate``."""
        loop = asyncio.get_running_loop()
        base = loop.time() + (start_at - time.time())
        opened: list[asyncio.Task] = []
        for k, (index, kind, room, cookie) in enumerate(plan):
            if kind == "probe":  # it starts outside the room it probes
                self.probe_room_of[index], room = room, 0
            c = Client(index, kind, room, cookie)
            self.clients.append(c)
            delay = base + k / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            opened.append(self.spawn(self.open(c)))
        results = await asyncio.gather(*opened)
        return {"connected": sum(results), "failed": len(results) - sum(results)}

    # --- activity ---------------------------------------------------------------------------------
    async def cmd_activity(self, **flags: Any) -> dict:
        """Turn activities on or off: ``moves``, ``chat``, ``qa``, ``probes`` (booleans) and
        their mean intervals ``move_mean``, ``chat_mean``, ``ask_mean``, ``probe_every``."""
        for key, value in flags.items():
            if key in self.activity:
                self.activity[key] = bool(value)
            else:
                setattr(self, key, float(value))
        return {"activity": self.activity, "moves": self.moves, "chats": len(self.sent),
                "questions": len(self.asked), "in_flight": sum(1 for c in self.clients
                                                               if c.busy)}

    async def cmd_run(self) -> dict:
        """Start the schedulers (they act only while their activity is on)."""
        self.spawn(self.scheduler())
        if any(c.kind == "probe" for c in self.clients):
            self.spawn(self.probes())
        return {}

    async def scheduler(self) -> None:
        """One heap of (due time, what, client) for moves, chat and questions."""
        loop = asyncio.get_running_loop()
        rng = self.rng
        heap: list[tuple[float, int, str, int]] = []
        seq = itertools.count()
        now = loop.time()
        for i, c in enumerate(self.clients):
            if c.kind in ("visitor", "chatter"):
                heapq.heappush(heap, (now + rng.expovariate(1 / self.move_mean), next(seq),
                                      "move", i))
            if c.kind == "chatter":
                heapq.heappush(heap, (now + rng.expovariate(1 / self.chat_mean), next(seq),
                                      "chat", i))
            if c.kind == "asker":
                heapq.heappush(heap, (now + rng.expovariate(1 / self.ask_mean), next(seq),
                                      "ask", i))
        while not self.stopping:
            await asyncio.sleep(0.02)
            now = loop.time()
            while heap and heap[0][0] <= now:
                _, _, what, i = heapq.heappop(heap)
                c = self.clients[i]
                mean = {"move": self.move_mean, "chat": self.chat_mean,
                        "ask": self.ask_mean}[what]
                heapq.heappush(heap, (now + rng.expovariate(1 / mean), next(seq), what, i))
                if not c.alive or c.busy:
                    continue
                if what == "move" and self.activity["moves"]:
                    self.spawn(self.move(c))
                elif what == "chat" and self.activity["chat"] and c.room:
                    self.spawn(self.say(c))
                elif what == "ask" and self.activity["qa"]:
                    self.spawn(self.ask(c))

    async def move(self, c: Client) -> None:
        c.busy = True
        started = time.perf_counter()
        try:
            if c.room and not await self.leave(c):
                return
            if await self.join(c, self.zipf.pick(avoid=c.stays[-1][0] if c.stays else None)):
                self.moves += 1
                self.move_ms.record((time.perf_counter() - started) * 1000.0)
        finally:
            c.busy = False

    async def say(self, c: Client) -> None:
        c.busy = True
        try:
            mid = f"{self.cfg['name']}.{len(self.sent) + 1}"
            sent_at = time.time()
            entry = [mid, c.room, sent_at, None, False]
            self.sent.append(entry)
            reply = await self.request(c, "chat.send", {
                "room": c.room, "body": f"x|{mid}|{sent_at:.6f}", "client_id": mid})
            entry[3], entry[4] = time.time(), reply is not None
        finally:
            c.busy = False

    async def ask(self, c: Client) -> None:
        c.busy = True
        try:
            tag = f"{self.cfg['name']}.q{len(self.asked) + 1}"
            sent_at = time.time()
            self.asked[tag] = [c.room, sent_at]
            await self.request(c, "qa.ask", {"room": c.room, "body": f"q|{tag}|{sent_at:.6f}"})
        finally:
            c.busy = False

    async def moderate(self, c: Client, question: int, tag: str, room: int) -> None:
        if await self.request(c, "qa.moderate", {"question": question,
                                                 "status": "approved"}) is None:
            return
        self.approved.append([tag, room, time.time()])
        await asyncio.sleep(2.0)  # the presenter answers it on stage, then it is marked
        await self.request(c, "qa.moderate", {"question": question, "status": "answered"})

    async def probes(self) -> None:
        """Each probe client goes into its (otherwise empty) booth room and out again, one
        step every ``probe_every`` seconds: the lobby must show 1, then 0."""
        probes = [c for c in self.clients if c.kind == "probe"]
        room_of = self.probe_room_of
        while not self.stopping:
            await asyncio.sleep(self.probe_every)
            if not self.activity["probes"]:
                continue
            for c in probes:
                if c.alive and not c.busy:
                    self.spawn(self.probe_step(c, room_of[c.index]))

    async def probe_step(self, c: Client, room: int) -> None:
        c.busy = True
        try:
            if c.room:
                self.probe_moves.append([room, 0, time.time()])
                await self.leave(c)
            else:
                self.probe_moves.append([room, 1, time.time()])
                await self.join(c, room)
        finally:
            c.busy = False

    # --- search -------------------------------------------------------------------------------
    async def cmd_search(self, rate: float, duration: float, queries: list[str]) -> dict:
        """``rate`` searches per second for ``duration`` seconds, round robin over the
        servers, each on a new HTTP/1.1 connection."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        running = []
        for k in range(max(0, round(rate * duration))):
            delay = start + k / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.stopping:
                break
            running.append(self.spawn(self.search_one(k, queries[k % len(queries)])))
        await asyncio.gather(*running, return_exceptions=True)
        return {"searches": len(running)}

    async def search_one(self, k: int, q: str) -> None:
        port = self.ports[k % len(self.ports)]
        path = "/api/search?q=" + urllib.parse.quote(q)
        started = time.perf_counter()
        writer = None
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Connection: close\r\nAccept: application/json\r\n\r\n".encode())
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                await reader.read()  # to the end: Connection: close
            status = head.split(b" ", 2)[1].decode()
        except Exception as exc:
            status = classify(exc)
        finally:
            if writer is not None:
                writer.close()
        self.search_status[status] += 1
        if status == "200":
            self.search.record((time.perf_counter() - started) * 1000.0)
        else:
            self.errors[f"search {status}"] += 1

    # --- reports ------------------------------------------------------------------------------
    async def cmd_counters(self) -> dict:
        return {"moves": self.moves, "chats": len(self.sent), "questions": len(self.asked),
                "approved": len(self.approved), "errors": sum(self.errors.values()),
                "connected": sum(1 for c in self.clients if c.alive),
                "in_flight": sum(1 for c in self.clients if c.busy),
                "last_chat_at": self.last_chat_at, "probe_moves": len(self.probe_moves)}

    async def cmd_reset(self) -> dict:
        """Forget the latency samples so far (the next phase measures on its own)."""
        self.chat, self.qa, self.search = Histogram(), Histogram(), Histogram()
        self.move_ms = Histogram()
        self.search_status = Counter()
        return {}

    async def cmd_where(self) -> dict:
        """Where everyone is now (room -> clients in it) and what each lobby watcher saw
        last."""
        where: Counter[int] = Counter(c.room for c in self.clients if c.alive and c.room)
        return {"where": {str(k): v for k, v in where.items()},
                "views": [dict(v, counts={str(k): n for k, n in v["counts"].items()})
                          for v in self.lobby_view.values()]}

    async def cmd_ask_counts(self, hall: int, rooms: list[int]) -> dict:
        """What the server's store says now (``presence.counts``, asked by a lobby watcher),
        and the last ``hall.counts`` each of this worker's watchers got for those rooms."""
        watcher = next((c for c in self.clients if c.kind == "watcher" and c.alive), None)
        if watcher is None:
            return {}
        reply = await self.request(watcher, "presence.counts", {"hall": hall, "rooms": rooms})
        return {"store": (reply or {}).get("counts"),
                "frames": {str(room): self.watch_all.get(room, [])[-3:] for room in rooms}}

    async def cmd_report(self) -> dict:
        return {
            "chat": self.chat.to_json(), "qa": self.qa.to_json(), "search": self.search.to_json(),
            "move_ms": self.move_ms.to_json(), "search_status": dict(self.search_status),
            "errors": dict(self.errors), "frames": dict(self.frames), "moves": self.moves,
            "sent": self.sent, "asked": self.asked, "approved": self.approved,
            "probe_moves": self.probe_moves,
            "watch": {str(k): v for k, v in self.watch.items()},
            "connected": sum(1 for c in self.clients if c.alive),
        }

    async def cmd_check_chat(self, messages: list[list], grace: float) -> dict:
        """Which accepted chat messages did not reach a client that was in the room from
        before the send until ``grace`` seconds after the reply (``messages``:
        ``[id, room, t_send, t_ack]``)."""
        stays: dict[int, list[tuple[float, float, Client]]] = defaultdict(list)
        for c in self.clients:
            for room, t_in, t_out in c.stays:
                stays[room].append((t_in, t_out if t_out is not None else float("inf"), c))
        expected = missing = 0
        examples = []
        for mid, room, t_send, t_ack in messages:
            for t_in, t_out, c in stays.get(room, ()):
                if t_in < t_send and t_out > t_ack + grace and c.alive:
                    expected += 1
                    if mid not in c.got:
                        missing += 1
                        if len(examples) < 5:
                            examples.append([mid, room, c.index])
        return {"expected": expected, "missing": missing, "examples": examples}

    async def cmd_check_qa(self, approved: list[list]) -> dict:
        """Approved questions (``[tag, room]``) every viewer and asker of the room got."""
        expected = missing = 0
        for tag, room in approved:
            for c in self.clients:
                if c.kind in ("viewer", "asker") and c.room == room and c.alive:
                    expected += 1
                    missing += tag not in c.got
        return {"expected": expected, "missing": missing}

    async def shutdown(self) -> None:
        self.stopping = True
        for c in self.clients:
            c.alive = False
            if c.ws is not None:
                with contextlib.suppress(Exception):
                    c.ws.transport.abort()


async def amain(cfg: dict[str, Any]) -> None:
    fd_limit = raise_fd_limit()
    await serve_pipe(Worker(cfg), fd_limit, limit=1 << 24)


def main() -> None:
    run(amain)


if __name__ == "__main__":
    main()
