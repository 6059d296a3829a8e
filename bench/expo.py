"""``python -m bench expo`` / ``hallserver bench expo``: an expo day on Hallserver.

    python -m bench expo [--visitors 20000] [--scale large] [--server-procs 4] [--procs 4]
    python -m bench expo --smoke      (a few hundred visitors, ~50 booths: CI's delivery check)

Seeds a fresh SQLite database (``seed_demo --scale``; ``large``: 5,000 booths in 6 halls; any
scale ``seed_demo`` knows, e.g. ``conference``), makes ``--roadshows`` roadshows live
(bench/expo_setup.py), starts ``--server-procs`` ``hallserver serve`` processes on one private
Redis and ``--procs`` load generators (bench/expoload.py), and plays the day:

* visitors spread Zipf-like (booth of rank k weighs ``1/k**--zipf``; the hall lobbies hold
  ``--lobby-share`` of them) over the booth rooms and lobbies, arriving at ``--ramp`` per second,
  round robin over the server processes and over ``--sources`` loopback addresses 127.0.0.x;
* each moves to another room every ``--move-every`` seconds on average (exponential):
  ``room.leave``, then ``room.join``;
* ``--chat-fraction`` of them are guests who chat in their room every ``--chat-every`` s;
* ``--roadshows`` roadshow rooms with ``--viewers`` viewers each, ``--askers`` guests asking a
  question every ``--ask-every`` s; the demo moderator approves each one and marks it answered;
* ``--search-rate`` searches per second (``GET /api/search?q=``, bench/search.py's queries);
* in each hall lobby one watcher per server process, and one probe client per hall moving in
  and out of a booth room nobody else visits: the time until the watchers' ``hall.counts`` show
  the probe's move is the lobby's delay.

Phases, each measured on its own (server/Redis/load-generator CPU, RSS, Redis INFO
commandstats): ``idle`` (everyone connected, nobody moves or chats: the baseline; searches and
probes run in every phase), ``moves`` (moves only), ``chat`` (chat only), ``day`` (everything).
Redis operations per move and per chat message are the moves and chat phases' operations above
the idle phase's rate, divided by the moves or messages. Afterwards the run checks delivery:
every accepted chat message reached every client that was in its room from before it was sent
until a grace period after the reply, every approved question reached every viewer of its
roadshow, and every lobby watcher's last ``hall.counts`` equals the true count once the moves
have stopped. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .procstat import CpuMeter, rss_bytes
from .servers import (
    HALLSERVER_LIMITS_FOR_LOAD_TESTS,
    ROOT,
    Redis,
    _cookie_value,
    _http,
    base_env,
    guest_cookie,
    start_target,
)
from .stats import Histogram
from .workers import start_workers, stop_workers

#: The catalogue search benchmark's queries (bench/search.py's QUERIES, repeated here so that
#: this module does not import Django through it).
QUERIES = [
    "robotics", "machine learning", "battery storage system", "machne lerning", "robtics",
    "机器人", "人工智能", "新能源 电池",
    "лазерная оптика", "инженер", "инжинер",
    "maschinenbau", "werkzeug", "maschienenbau",
]

GOALS = {"errors": "0", "chat_p99": "≤ 1,000 ms", "counts": "≤ 2,000 ms",
         "search_p95": "≤ 100 ms"}

SMOKE = {"visitors": 300, "scale": "demo", "booths": 50, "server_procs": 2, "procs": 2,
         "ramp": 60.0, "roadshows": 4, "viewers": 5, "askers": 2, "ask_every": 2.0,
         "move_every": 4.0, "chat_fraction": 0.05, "chat_every": 2.0, "search_rate": 20.0,
         "idle": 2.0, "phase": 2.5, "day": 5.0, "probe_every": 1.5}


def log(message: str) -> None:
    print(f"[expo {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hallserver bench expo",
                                description="An expo day on Hallserver (see bench/README.md).")
    a = p.add_argument
    a("--smoke", action="store_true",
      help="CI's delivery check: " + ", ".join(f"--{k.replace('_', '-')} {v}"
                                               for k, v in SMOKE.items())
      + " (options given explicitly win); exit code 1 if a check fails")
    a("--visitors", type=int, default=20000,
      help="visitors: movers in booths and lobbies plus roadshow viewers and askers (20,000)")
    a("--scale", default="large", help="seed_demo --scale (large: 5,000 booths; conference)")
    a("--booths", type=int, default=0, help="use only this many booth rooms (0: all)")
    a("--server-procs", type=int, default=4, help="hallserver serve processes (4)")
    a("--procs", type=int, default=4, help="load-generator processes (4)")
    a("--ramp", type=float, default=250.0, help="new connections per second (250)")
    a("--sources", type=int, default=0,
      help="loopback source addresses 127.0.0.1.. (0: one per 8,000 clients)")
    a("--zipf", type=float, default=1.0, help="Zipf exponent over booth ranks (1.0)")
    a("--lobby-share", type=float, default=0.05, help="share of visitors in lobbies (0.05)")
    a("--move-every", type=float, default=60.0, help="mean seconds between moves (60)")
    a("--chat-fraction", type=float, default=0.01, help="share of visitors who chat (0.01)")
    a("--chat-every", type=float, default=15.0, help="mean seconds between messages (15)")
    a("--roadshows", type=int, default=20, help="live roadshow rooms with Q&A (20)")
    a("--viewers", type=int, default=50, help="anonymous viewers per roadshow room (50)")
    a("--askers", type=int, default=3, help="guests asking questions per roadshow room (3)")
    a("--ask-every", type=float, default=20.0, help="mean seconds between an asker's questions")
    a("--search-rate", type=float, default=20.0, help="searches per second (20)")
    a("--idle", type=float, default=30.0, help="seconds of the idle phase (30)")
    a("--phase", type=float, default=30.0, help="seconds of the moves and chat phases (30)")
    a("--day", type=float, default=60.0, help="seconds of the full day phase (60)")
    a("--probe-every", type=float, default=4.0, help="seconds between probe steps (4)")
    a("--grace", type=float, default=5.0,
      help="chat check: a client counts as a member if it stayed this long after the reply")
    a("--timeout", type=float, default=30.0, help="seconds a handshake or reply may take")
    a("--redis-url", default=None, help="use this Redis (loopback) instead of a private one")
    a("--out", type=Path, default=None, help="also write the markdown here")
    a("--json", dest="json_out", type=Path, default=None, help="also write the raw results")
    a("--keep", action="store_true", help="keep the work directory and logs")
    return p


def parse(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.smoke:
        given = {a.split("=")[0].lstrip("-").replace("-", "_") for a in argv if a.startswith("--")}
        for key, value in SMOKE.items():
            if key not in given:
                setattr(args, key, value)
    if args.redis_url and not any(h in args.redis_url for h in ("127.0.0.1", "localhost")):
        parser.error("--redis-url must point at a loopback address")
    return args


# --- set-up ----------------------------------------------------------------------------------
def prepare_db(data_dir: Path, scale: str, roadshows: int) -> tuple[dict[str, str], dict]:
    """A fresh SQLite database seeded at ``scale`` with ``roadshows`` live roadshows; returns
    the servers' environment and the expo's layout (bench/expo_setup.py)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(HALLSERVER_DATA_DIR=str(data_dir),
                   HALLSERVER_SQLITE_PATH=str(data_dir / "bench.sqlite3"),
                   HALLSERVER_ALLOWED_HOSTS="127.0.0.1,localhost",
                   DJANGO_SETTINGS_MODULE="hallserver.settings")
    manage = [sys.executable, "-m", "hallserver", "manage"]
    for args in (["migrate", "--noinput", "-v0"], ["seed_demo", "--scale", scale]):
        subprocess.run([*manage, *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    out = data_dir / "layout.json"
    subprocess.run([sys.executable, "-m", "bench.expo_setup", "--roadshows", str(roadshows),
                    "--out", str(out)], cwd=ROOT, env=env, check=True)
    return env, json.loads(out.read_text())


def login_cookie(port: int, username: str, password: str) -> str:
    """Log in over the HTTP API; return the ``Cookie`` header value."""
    _, _, set_cookies = _http(port, "GET", "/api/session")
    csrf = _cookie_value(set_cookies, "csrftoken")
    status, data, set_cookies = _http(
        port, "POST", "/api/login", json.dumps({"username": username,
                                                "password": password}).encode(),
        {"Content-Type": "application/json", "X-CSRFToken": csrf or "",
         "Cookie": f"csrftoken={csrf}"})
    session = _cookie_value(set_cookies, "sessionid")
    if status != 200 or session is None:
        raise RuntimeError(f"POST /api/login answered {status}: {data}")
    return f"sessionid={session}"


class Plan:
    """Who connects where: ``[index, kind, room, cookie]`` per client; index % servers is the
    server process it uses."""

    def __init__(self, args: argparse.Namespace, layout: dict, nsrv: int) -> None:
        rng = random.Random(20261204)
        halls = layout["halls"]
        self.lobbies = [h["lobby"] for h in halls]
        # One booth room per hall is kept for the probe (nobody else goes there): the last.
        self.probe_rooms = [h["booth_rooms"][-1] for h in halls]
        booths = [r for h in halls for r in h["booth_rooms"][:-1]]
        if args.booths:
            # An even sample over the halls (every k-th booth room of the expo).
            step = max(1, len(booths) // args.booths)
            booths = booths[::step][:args.booths]
        rng.shuffle(booths)  # the most visited booths are spread over the halls
        self.booth_rooms = booths
        self.hall_of_room = {r: h["id"] for h in halls for r in h["booth_rooms"]}
        zipf = [1.0 / (k + 1) ** args.zipf for k in range(len(booths))]
        scale = (1.0 - args.lobby_share) / sum(zipf)
        self.rooms = booths + self.lobbies
        self.weights = [w * scale for w in zipf] + [args.lobby_share / len(self.lobbies)] * len(
            self.lobbies)
        self.roadshow_rooms = layout["roadshow_rooms"][:args.roadshows]
        self.moderation_room = layout["moderation_room"]
        stage = len(self.roadshow_rooms) * (args.viewers + args.askers)
        self.movers = max(0, args.visitors - stage)
        self.chatters = round(self.movers * args.chat_fraction)
        self.entries: list[list] = []
        index = 0
        # Measuring clients first: lobby watchers (one per lobby and server process), probes,
        # the moderator; indices are aligned so that watcher s of a lobby uses server s.
        for lobby in self.lobbies:
            for s in range(nsrv):
                self.entries.append([index + s, "watcher", lobby, None])
            index += nsrv
        for room in self.probe_rooms:
            self.entries.append([index, "probe", room, None])
            index += 1
        if self.roadshow_rooms and self.moderation_room:
            self.entries.append([index, "moderator", self.moderation_room, "moderator"])
            index += 1
        for room in self.roadshow_rooms:
            for _ in range(args.askers):
                self.entries.append([index, "asker", room, "guest"])
                index += 1
            for _ in range(args.viewers):
                self.entries.append([index, "viewer", room, None])
                index += 1
        for _ in range(self.movers):
            room = rng.choices(self.rooms, weights=self.weights)[0]
            self.entries.append([index, "visitor", room, None])
            index += 1
        # The chatters: an even spread over the movers.
        movers = [e for e in self.entries if e[1] == "visitor"]
        for e in movers[::max(1, len(movers) // max(1, self.chatters))][:self.chatters]:
            e[1], e[3] = "chatter", "guest"
        self.measuring = len(self.lobbies) * nsrv + len(self.probe_rooms) + (
            1 if self.roadshow_rooms and self.moderation_room else 0)

    def guests_needed(self) -> int:
        return sum(1 for e in self.entries if e[3] == "guest")


# --- measuring -------------------------------------------------------------------------------
class Phase:
    """CPU, RSS and Redis commands of one phase."""

    def __init__(self, name: str, server_pids: list[int], redis_pid: int | None,
                 loadgen_pids: list[int], redis_url: str) -> None:
        self.name = name
        self.server_pids, self.redis_pid, self.loadgen_pids = server_pids, redis_pid, loadgen_pids
        self.redis_url = redis_url
        self.meter = CpuMeter(server_pids + ([redis_pid] if redis_pid else []) + loadgen_pids)
        self.result: dict[str, Any] = {"phase": name}

    def commandstats(self) -> dict[str, int]:
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_timeout=10)
        try:
            stats = client.info("commandstats")
        finally:
            client.close()
        return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.wall0 = time.time()
        self.cmd0 = self.commandstats()
        self.meter.start()

    def stop(self) -> None:
        self.meter.stop()
        cmd1 = self.commandstats()
        seconds = time.monotonic() - self.t0
        delta = {k: v - self.cmd0.get(k, 0) for k, v in cmd1.items() if v - self.cmd0.get(k, 0)}
        server_cpu = {str(p): self.meter.used(p) / seconds * 100 for p in self.server_pids}
        self.result.update(
            seconds=seconds, t0=self.wall0, t1=time.time(),
            redis_ops=sum(delta.values()), redis_commands=delta,
            server_cpu_pct=sum(server_cpu.values()), server_cpu_pct_each=list(server_cpu.values()),
            server_wait_pct=self.meter.waited(self.server_pids) / seconds * 100,
            redis_cpu_pct=(self.meter.used(self.redis_pid) / seconds * 100
                           if self.redis_pid else None),
            loadgen_cpu_pct=sum(self.meter.used(p) for p in self.loadgen_pids) / seconds * 100,
            server_rss_mib_each=[rss_bytes(p) / 2**20 for p in self.server_pids],
            redis_rss_mib=rss_bytes(self.redis_pid) / 2**20 if self.redis_pid else None,
            load_avg=os.getloadavg()[0],
        )


def merged(reports: list[dict], key: str) -> Histogram:
    return Histogram.merged(r[key] for r in reports)


def count_lags(probe_moves: list[list], watch: dict[str, list], watchers_of_hall: int,
               hall_of_room: dict[int, int], t0: float, t1: float,
               limit: float = 30.0) -> dict[str, Any]:
    """Per probe move in [t0, t1) and per watcher of its hall: seconds until that watcher saw
    the room's count at the value the move made; moves after which some watcher never saw it
    (within ``limit`` s, before the next move of the same probe) are counted as unseen."""
    hist = Histogram()
    unseen = 0
    pairs = 0
    by_room: dict[int, list] = {}
    for room, n, t in sorted(probe_moves, key=lambda m: m[2]):
        by_room.setdefault(room, []).append((t, n))
    for room, moves in by_room.items():
        seen = watch.get(str(room), [])
        for i, (t, n) in enumerate(moves):
            if not t0 <= t < t1:
                continue
            until = moves[i + 1][0] if i + 1 < len(moves) else t + limit
            first: dict[int, float] = {}
            for t_recv, count, watcher in seen:
                if t <= t_recv < until and count == n and watcher not in first:
                    first[watcher] = t_recv
            pairs += watchers_of_hall
            for t_recv in first.values():
                hist.record((t_recv - t) * 1000.0)
            unseen += watchers_of_hall - len(first)
    return {"hist": hist, "unseen": unseen, "pairs": pairs}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="hallserver-expo-"))
    redis = Redis(workdir, args.redis_url)
    result: dict[str, Any] = {"phases": [], "checks": {}}
    try:
        await redis.start()
        log(f"seeding (seed_demo --scale {args.scale}, {args.roadshows} live roadshows)")
        started = time.monotonic()
        env, layout = await asyncio.to_thread(prepare_db, workdir / "hallserver", args.scale,
                                              args.roadshows)
        result["seed_s"] = time.monotonic() - started
        nsrv = args.server_procs
        plan = Plan(args, layout, nsrv)
        total_clients = len(plan.entries)
        sources = args.sources or max(1, math.ceil(total_clients / 8000))
        result.update(halls=len(layout["halls"]),
                      booth_rooms=sum(len(h["booth_rooms"]) for h in layout["halls"]),
                      used_booth_rooms=len(plan.booth_rooms), movers=plan.movers,
                      chatters=plan.chatters, roadshows=len(plan.roadshow_rooms),
                      clients=total_clients, measuring=plan.measuring, sources=sources,
                      server_procs=nsrv, procs=args.procs,
                      limits_lifted=sorted(HALLSERVER_LIMITS_FOR_LOAD_TESTS))
        prefix = f"expo{os.getpid()}:"
        redis.flush(prefix)
        log(f"starting {nsrv} server processes")
        servers = await start_target("hallserver", nsrv, redis, workdir, prefix, env)
        try:
            await play(args, plan, servers, redis, workdir, sources, result)
        finally:
            await asyncio.to_thread(servers.stop)
    finally:
        redis.stop()
        if args.keep:
            log(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


async def play(args, plan: Plan, servers, redis: Redis, workdir: Path, sources: int,
               result: dict[str, Any]) -> None:
    ports = servers.ports
    n_guests = plan.guests_needed()
    log(f"entering {n_guests} guests and the moderator")
    with ThreadPoolExecutor(8) as pool:
        loop = asyncio.get_running_loop()
        guests = await asyncio.gather(*(
            loop.run_in_executor(pool, guest_cookie, ports[i % len(ports)], f"expo-{i}")
            for i in range(n_guests)))
        moderator = await loop.run_in_executor(pool, login_cookie, ports[0], "moderator",
                                               "moderator-demo")
    it = iter(guests)
    for e in plan.entries:
        if e[3] == "guest":
            e[3] = next(it)
        elif e[3] == "moderator":
            e[3] = moderator
    config = {"urls": servers.urls, "origins": servers.origins, "ports": ports,
              "sources": [f"127.0.0.{1 + k}" for k in range(sources)],
              "timeout": args.timeout, "probe_rooms": plan.probe_rooms}
    # The rooms and their weights are too long for a command line (5,000 booths and more).
    rooms_file = workdir / "visit_rooms.json"
    rooms_file.write_text(json.dumps({"rooms": plan.rooms, "weights": plan.weights}))
    config["visit_file"] = str(rooms_file)
    n = args.procs
    workers = await start_workers(
        [(f"expo{i}", dict(config, seed=1000 + i)) for i in range(n)], workdir,
        module="bench.expoload")
    try:
        await day(args, plan, servers, redis, workers, result)
    finally:
        await stop_workers(workers)


async def call_all(workers, cmd: str, rpc_timeout: float = 120, **kw) -> list[Any]:
    return await asyncio.gather(*(w.call(cmd, rpc_timeout=rpc_timeout, **kw) for w in workers))


async def day(args, plan: Plan, servers, redis: Redis, workers, result: dict[str, Any]) -> None:
    n = len(workers)
    server_pids = servers.pids
    loadgen_pids = [w.pid for w in workers]
    rss_before = [rss_bytes(p) for p in server_pids]
    redis_rss_before = rss_bytes(redis.pid) if redis.pid else 0
    # The measuring clients first (worker k gets entries k, k+n, ...), then everyone.
    total = len(plan.entries)
    log(f"connecting {total:,} clients at {args.ramp:g}/s over {n} load generators "
        f"({plan.movers:,} moving visitors, {plan.chatters} chatting, "
        f"{len(plan.roadshow_rooms)} roadshows)")
    ramp = Phase("ramp", server_pids, redis.pid, loadgen_pids, redis.url)
    ramp.start()
    start_at = time.time() + 0.5
    connecting = asyncio.gather(*(
        w.call("connect", rpc_timeout=total / args.ramp + 300, plan=plan.entries[i::n],
               rate=args.ramp / n, start_at=start_at) for i, w in enumerate(workers)))
    while not connecting.done():
        await asyncio.wait([connecting], timeout=10)
        if not connecting.done():
            counters = await call_all(workers, "counters", 30)
            log(f"  {sum(c['connected'] for c in counters):,} connected, "
                f"{sum(c['errors'] for c in counters)} errors")
    connected = await connecting
    ramp.stop()
    result["connected"] = sum(c["connected"] for c in connected)
    result["connect_failed"] = sum(c["failed"] for c in connected)
    rss_after = [rss_bytes(p) for p in server_pids]
    result["ramp"] = ramp.result
    result["rss_before_mib_each"] = [r / 2**20 for r in rss_before]
    result["rss_after_mib_each"] = [r / 2**20 for r in rss_after]
    result["kib_per_connection"] = ((sum(rss_after) - sum(rss_before)) / 1024
                                    / max(1, result["connected"]))
    result["redis_kib_per_connection"] = (((rss_bytes(redis.pid) if redis.pid else 0)
                                           - redis_rss_before) / 1024
                                          / max(1, result["connected"]))
    log(f"{result['connected']:,} connected ({result['connect_failed']} failed) in "
        f"{ramp.result['seconds']:.0f} s")
    await call_all(workers, "activity", move_mean=args.move_every, chat_mean=args.chat_every,
                   ask_mean=args.ask_every, probe_every=args.probe_every, probes=True)
    await call_all(workers, "run")
    await asyncio.sleep(min(5.0, args.idle))
    phases = [("idle", args.idle, {}), ("moves", args.phase, {"moves": True}),
              ("chat", args.phase, {"chat": True}),
              ("day", args.day, {"moves": True, "chat": True, "qa": True})]
    for name, seconds, flags in phases:
        if seconds <= 0:
            continue
        before = await call_all(workers, "counters")
        await call_all(workers, "reset")
        phase = Phase(name, server_pids, redis.pid, loadgen_pids, redis.url)
        phase.start()
        await call_all(workers, "activity", **flags)
        log(f"phase {name}: {seconds:g} s")
        searching = workers[0].call("search", rpc_timeout=seconds + 120, rate=args.search_rate,
                                    duration=seconds, queries=QUERIES)
        await asyncio.sleep(seconds)
        await call_all(workers, "activity", moves=False, chat=False, qa=False)
        phase.stop()  # CPU and Redis over the active window (the last replies come after)
        # Let what was started finish (replies of the last moves and messages).
        for _ in range(int(args.timeout * 2)):
            counters = await call_all(workers, "counters")
            if sum(c["in_flight"] for c in counters) <= len(plan.probe_rooms):
                break  # (a probe may be mid-step: probes run on)
            await asyncio.sleep(0.5)
        await searching
        after = await call_all(workers, "counters")
        reports = await call_all(workers, "report")
        r = phase.result
        r["moves"] = sum(a["moves"] - b["moves"] for a, b in zip(after, before, strict=True))
        r["chats"] = sum(a["chats"] - b["chats"] for a, b in zip(after, before, strict=True))
        r["questions"] = sum(a["questions"] - b["questions"]
                             for a, b in zip(after, before, strict=True))
        r["errors_total"] = sum(a["errors"] for a in after)
        r["errors"] = sum(a["errors"] - b["errors"] for a, b in zip(after, before, strict=True))
        chat = merged(reports, "chat")
        search = merged(reports, "search")
        qa = merged(reports, "qa")
        moves = merged(reports, "move_ms")
        watch: dict[str, list] = {}
        probe_moves: list[list] = []
        for rep in reports:
            probe_moves += rep["probe_moves"]
            for room, seen in rep["watch"].items():
                watch.setdefault(room, []).extend(seen)
        lags = count_lags(probe_moves, watch, len(servers.ports), plan.hall_of_room, r["t0"],
                          r["t1"] - 2.0)
        statuses: dict[str, int] = {}
        for rep in reports:
            for k, v in rep["search_status"].items():
                statuses[k] = statuses.get(k, 0) + v
        r.update(
            chat_deliveries=chat.count, chat_p50_ms=chat.percentile(50),
            chat_p99_ms=chat.percentile(99), chat_max_ms=chat.max or None,
            qa_p50_ms=qa.percentile(50), qa_p99_ms=qa.percentile(99), qa_deliveries=qa.count,
            move_p50_ms=moves.percentile(50), move_p99_ms=moves.percentile(99),
            searches=search.count, search_status=statuses, search_p50_ms=search.percentile(50),
            search_p95_ms=search.percentile(95), search_p99_ms=search.percentile(99),
            counts_p50_ms=lags["hist"].percentile(50), counts_p99_ms=lags["hist"].percentile(99),
            counts_max_ms=lags["hist"].max or None, counts_samples=lags["hist"].count,
            counts_unseen=lags["unseen"],
            frames={k: sum(rep["frames"].get(k, 0) for rep in reports)
                    for k in ("presence.update", "hall.counts", "chat.message", "qa.question")},
        )
        result["phases"].append(r)
        log(f"phase {name}: {r['moves']} moves, {r['chats']} chats, {r['errors']} errors, "
            f"server CPU {r['server_cpu_pct']:.0f} %, Redis {r['redis_ops'] / r['seconds']:,.0f}"
            f" ops/s, chat p99 {r['chat_p99_ms'] or 0:.0f} ms, counts p99 "
            f"{r['counts_p99_ms'] or 0:.0f} ms, search p95 {r['search_p95_ms'] or 0:.0f} ms")
    await call_all(workers, "activity", probes=False)
    await settle_and_check(args, plan, servers, workers, result)


async def settle_and_check(args, plan: Plan, servers, workers, result: dict[str, Any]) -> None:
    # Chat: wait until no message arrived for 3 s (at most 30 s).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        counters = await call_all(workers, "counters")
        if (sum(c["in_flight"] for c in counters) == 0
                and time.time() - max(c["last_chat_at"] for c in counters) > 3):
            break
        await asyncio.sleep(0.5)
    # Lobbies: every watcher's last hall.counts must equal the truth (at most 30 s).
    converged_after = None
    started = time.monotonic()
    mismatches: list[str] = []
    while time.monotonic() - started < 30:
        await asyncio.sleep(1.0)
        answers = await call_all(workers, "where")
        where: dict[int, int] = {}
        views = []
        for a in answers:
            for room, k in a["where"].items():
                where[int(room)] = where.get(int(room), 0) + k
            views += a["views"]
        truth_total: dict[int, int] = {}
        for room, k in where.items():
            hall = plan.hall_of_room.get(room)
            if hall is not None:
                truth_total[hall] = truth_total.get(hall, 0) + k
        mismatches = []
        watchers = len(plan.lobbies) * len(servers.ports)
        if len(views) < watchers:
            mismatches.append(f"{watchers - len(views)} watchers got no hall.counts at all")
        for v in views:
            hall = v["hall"]
            if v["total"] != truth_total.get(hall, 0):
                mismatches.append(f"hall {hall}: total {v['total']}, true "
                                  f"{truth_total.get(hall, 0)}")
            for room, k in v["counts"].items():
                if k != where.get(int(room), 0):
                    mismatches.append(f"hall {hall} room {room}: {k}, true "
                                      f"{where.get(int(room), 0)}")
        if not mismatches:
            converged_after = time.monotonic() - started
            break
    result["lobby_mismatches"] = mismatches[:10]
    if mismatches:  # evidence: what the server's store says, and the last frames seen
        wrong: dict[int, list[int]] = {}
        for v in views:
            for room, k in v["counts"].items():
                if k != where.get(int(room), 0):
                    wrong.setdefault(v["hall"], []).append(int(room))
        diagnosis = []
        for hall, rooms in list(wrong.items())[:3]:
            rooms = sorted(set(rooms))[:5]
            asked = await call_all(workers, "ask_counts", 30, hall=hall, rooms=rooms)
            diagnosis.append({"hall": hall, "rooms": rooms,
                              "true": {r: where.get(r, 0) for r in rooms},
                              "store_and_frames": asked})
        result["lobby_diagnosis"] = diagnosis
        log(f"lobby counts did not converge: {json.dumps(diagnosis)[:3000]}")
    result["lobbies_converged_s"] = converged_after
    reports = await call_all(workers, "report", 300)
    messages = [[m[0], m[1], m[2], m[3]] for rep in reports for m in rep["sent"] if m[4]]
    result["chats_sent"] = sum(len(rep["sent"]) for rep in reports)
    result["chats_accepted"] = len(messages)
    checks = await call_all(workers, "check_chat", 300, messages=messages, grace=args.grace)
    result["chat_expected"] = sum(c["expected"] for c in checks)
    result["chat_missing"] = sum(c["missing"] for c in checks)
    result["chat_missing_examples"] = [e for c in checks for e in c["examples"]][:5]
    approved = [[a[0], a[1]] for rep in reports for a in rep["approved"]]
    result["questions"] = sum(len(rep["asked"]) for rep in reports)
    result["questions_approved"] = len(approved)
    qa = await call_all(workers, "check_qa", 300, approved=approved)
    result["qa_expected"] = sum(c["expected"] for c in qa)
    result["qa_missing"] = sum(c["missing"] for c in qa)
    errors: dict[str, int] = {}
    for rep in reports:
        for k, v in rep["errors"].items():
            errors[k] = errors.get(k, 0) + v
    if not servers.alive():
        errors["a server process died"] = 1
    result["errors"] = errors
    result["error_count"] = sum(errors.values())
    result["still_connected"] = sum(rep["connected"] for rep in reports)
    searches = sum(p["searches"] for p in result["phases"])
    non200 = sum(v for p in result["phases"] for k, v in p["search_status"].items() if k != "200")
    result["checks"] = {
        "every visitor connected": result["connect_failed"] == 0
        and result["connected"] == result["clients"],
        "no errors": result["error_count"] == 0,
        "chat sent and accepted": result["chats_accepted"] == result["chats_sent"] > 0,
        "every chat message reached every member": result["chat_expected"] > 0
        and result["chat_missing"] == 0,
        "every approved question reached every viewer": (
            result["qa_expected"] > 0 and result["qa_missing"] == 0) if plan.roadshow_rooms
        else True,
        "every lobby count converged": converged_after is not None,
        "moves made": sum(p["moves"] for p in result["phases"]) > 0,
        "every search answered 200": searches > 0 and non200 == 0,
        "servers alive": servers.alive(),
    }
    result["ok"] = all(result["checks"].values())


# --- report ----------------------------------------------------------------------------------
def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _n(v: float | None, digits: int = 0) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def _non200(p: dict) -> int:
    return sum(v for k, v in p["search_status"].items() if k != "200")


def render(args: argparse.Namespace, r: dict[str, Any], load_before: tuple) -> str:
    phases = {p["phase"]: p for p in r["phases"]}
    idle, dayp = phases.get("idle"), phases.get("day")
    lines = [
        f"## Expo day: {r['connected']:,} clients on {r['server_procs']} server processes "
        f"(`python -m bench expo {' '.join(r.get('argv', []))}`)",
        "",
        f"Seed `--scale {args.scale}`: {r['halls']} halls, {r['booth_rooms']:,} booth rooms "
        f"({r['used_booth_rooms']:,} visited, Zipf s={args.zipf:g}, {args.lobby_share:.0%} in "
        f"the lobbies; one probe room per hall); {r['movers']:,} moving visitors "
        f"({r['chatters']} chatting), {r['roadshows']} roadshows x ({args.viewers} viewers + "
        f"{args.askers} askers), {r['measuring']} measuring clients (lobby watchers, probes, "
        f"moderator); {r['procs']} load generators, {r['sources']} source address(es). "
        f"Load average before: {load_before[0]:.2f}.",
        "",
        "| figure | idle (baseline) | expo day | goal |",
        "|---|---|---|---|",
    ]

    def row(name: str, a: str, b: str, goal: str = "") -> None:
        lines.append(f"| {name} | {a} | {b} | {goal} |")

    def per_s(p, key):
        return f"{p[key]:,} ({p[key] / p['seconds']:,.1f}/s)" if p else "-"

    if idle and dayp:
        row("seconds", _n(idle["seconds"]), _n(dayp["seconds"]))
        row("errors in the phase", _n(idle["errors"]), _n(dayp["errors"]), GOALS["errors"])
        row("moves (leave + join)", per_s(idle, "moves"), per_s(dayp, "moves"))
        row("move: leave + join answered, p50 / p99 ms", "-",
            f"{_ms(dayp['move_p50_ms'])} / {_ms(dayp['move_p99_ms'])}")
        row("chat messages", per_s(idle, "chats"), per_s(dayp, "chats"))
        row("chat delivery p50 / p99 / max ms (sender to each member)", "-",
            f"{_ms(dayp['chat_p50_ms'])} / {_ms(dayp['chat_p99_ms'])} / "
            f"{_ms(dayp['chat_max_ms'])}", GOALS["chat_p99"])
        row("lobby count shows a move, p50 / p99 / max ms",
            f"{_ms(idle['counts_p50_ms'])} / {_ms(idle['counts_p99_ms'])} / "
            f"{_ms(idle['counts_max_ms'])}",
            f"{_ms(dayp['counts_p50_ms'])} / {_ms(dayp['counts_p99_ms'])} / "
            f"{_ms(dayp['counts_max_ms'])}", GOALS["counts"])
        row("… probe moves x watchers timed / never shown",
            f"{idle['counts_samples']} / {idle['counts_unseen']}",
            f"{dayp['counts_samples']} / {dayp['counts_unseen']}")
        row("Q&A questions; ask -> approved at each viewer p50 / p99 ms", "-",
            f"{dayp['questions']}; {_ms(dayp['qa_p50_ms'])} / {_ms(dayp['qa_p99_ms'])}")
        row("searches (non-200)", f"{idle['searches']} ({_non200(idle)})",
            f"{dayp['searches']} ({_non200(dayp)})")
        row("search p50 / p95 / p99 ms",
            f"{_ms(idle['search_p50_ms'])} / {_ms(idle['search_p95_ms'])} / "
            f"{_ms(idle['search_p99_ms'])}",
            f"{_ms(dayp['search_p50_ms'])} / {_ms(dayp['search_p95_ms'])} / "
            f"{_ms(dayp['search_p99_ms'])}", GOALS["search_p95"])
        row("server CPU, % of a core (sum; per process)",
            f"{idle['server_cpu_pct']:.0f} ("
            + " / ".join(f"{c:.0f}" for c in idle["server_cpu_pct_each"]) + ")",
            f"{dayp['server_cpu_pct']:.0f} ("
            + " / ".join(f"{c:.0f}" for c in dayp["server_cpu_pct_each"]) + ")")
        row("server threads waiting for a CPU, %", _n(idle["server_wait_pct"]),
            _n(dayp["server_wait_pct"]))
        row("server RSS MiB (sum; per process)",
            f"{sum(idle['server_rss_mib_each']):,.0f} ("
            + " / ".join(f"{m:.0f}" for m in idle["server_rss_mib_each"]) + ")",
            f"{sum(dayp['server_rss_mib_each']):,.0f} ("
            + " / ".join(f"{m:.0f}" for m in dayp["server_rss_mib_each"]) + ")")
        row("Redis CPU %; ops/s", f"{_n(idle['redis_cpu_pct'])}; "
            f"{idle['redis_ops'] / idle['seconds']:,.0f}",
            f"{_n(dayp['redis_cpu_pct'])}; {dayp['redis_ops'] / dayp['seconds']:,.0f}")
        row("load generators CPU %", _n(idle["loadgen_cpu_pct"]), _n(dayp["loadgen_cpu_pct"]))
        row("frames received: presence.update / hall.counts / chat.message",
            " / ".join(f"{idle['frames'][k]:,}" for k in ("presence.update", "hall.counts",
                                                          "chat.message")),
            " / ".join(f"{dayp['frames'][k]:,}" for k in ("presence.update", "hall.counts",
                                                          "chat.message")))
        row("load average (1 min) at the end", _n(idle["load_avg"], 2), _n(dayp["load_avg"], 2))
    lines += ["", "Redis operations by phase (INFO commandstats deltas). Per move / per chat "
              "message: the moves / chat phase's operations above the idle phase's rate, "
              "divided by its moves / messages; once with every command, once without HLEN "
              "(the hall totals: each hall.counts flush sums HLEN over every booth room of "
              "the hall, a cost per process, hall and second, not per move):", "",
              "| phase | seconds | moves | chat msgs | Redis ops/s | of which HLEN/s "
              "| per move (without HLEN) | per chat msg (without HLEN) | Redis CPU % "
              "| busiest commands |",
              "|---|---|---|---|---|---|---|---|---|---|"]

    def rates(p: dict) -> tuple[float, float]:
        hlen = p["redis_commands"].get("hlen", 0)
        return p["redis_ops"] / p["seconds"], hlen / p["seconds"]

    idle_all, idle_hlen = rates(idle) if idle else (0.0, 0.0)
    attribution: dict[str, float] = {}
    for p in [r.get("ramp", {}) | {"phase": "ramp"}] + r["phases"]:
        if "seconds" not in p:
            continue
        all_s, hlen_s = rates(p)
        above = (all_s - idle_all) * p["seconds"]
        above_other = ((all_s - hlen_s) - (idle_all - idle_hlen)) * p["seconds"]
        per_move = per_chat = "-"
        if p["phase"] == "moves" and p.get("moves"):
            attribution["per_move"] = above / p["moves"]
            attribution["per_move_without_hlen"] = above_other / p["moves"]
            per_move = f"{above / p['moves']:,.1f} ({above_other / p['moves']:,.1f})"
        if p["phase"] == "chat" and p.get("chats"):
            attribution["per_chat"] = above / p["chats"]
            attribution["per_chat_without_hlen"] = above_other / p["chats"]
            per_chat = f"{above / p['chats']:,.1f} ({above_other / p['chats']:,.1f})"
        attribution[f"{p['phase']}_ops_per_s"] = all_s
        attribution[f"{p['phase']}_hlen_per_s"] = hlen_s
        top = sorted(p["redis_commands"].items(), key=lambda kv: -kv[1])[:5]
        lines.append(
            f"| {p['phase']} | {p['seconds']:.0f} | {p.get('moves', '-')} | "
            f"{p.get('chats', '-')} | {all_s:,.0f} | {hlen_s:,.0f} | {per_move} | {per_chat} | "
            f"{_n(p['redis_cpu_pct'])} | " + ", ".join(f"{k} {v:,}" for k, v in top) + " |")
    r["attribution"] = attribution
    ramp = r.get("ramp", {})
    lines += [
        "",
        f"- Ramp: {r['connected']:,} connected, {r['connect_failed']} failed, in "
        f"{ramp.get('seconds', 0):.0f} s at {args.ramp:g}/s; server CPU "
        f"{ramp.get('server_cpu_pct', 0):.0f} % meanwhile. Server RSS before → after: "
        + " / ".join(f"{a:.0f} → {b:.0f}" for a, b in zip(r["rss_before_mib_each"],
                                                          r["rss_after_mib_each"], strict=True))
        + f" MiB, {r['kib_per_connection']:.1f} KiB per connection (Redis "
        f"{r['redis_kib_per_connection']:.2f} KiB).",
        f"- Delivery: {r['chats_accepted']:,} of {r['chats_sent']:,} chat messages accepted; "
        f"{r['chat_expected']:,} (message, member) pairs expected, {r['chat_missing']} missing; "
        f"{r['questions_approved']} of {r['questions']} questions approved, "
        f"{r['qa_expected']:,} (question, viewer) pairs expected, {r['qa_missing']} missing. "
        f"Lobby counts converged after the moves stopped: "
        + (f"yes, within {r['lobbies_converged_s']:.0f} s" if r["lobbies_converged_s"] is not None
           else "NO: " + "; ".join(r["lobby_mismatches"])) + ".",
        f"- Errors over the whole run: {r['error_count']}"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items())) + ")"
           if r["errors"] else "") + ".",
        f"- Limits lifted for the benchmark's servers only: {', '.join(r['limits_lifted'])} "
        "(all load comes from a few loopback addresses).",
        "- Checks: " + ", ".join(f"{k}: {'ok' if v else 'FAILED'}"
                                 for k, v in r["checks"].items()) + ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = parse(argv)
    load_before = os.getloadavg()
    try:
        result = asyncio.run(run(args))
        result["argv"] = argv
    except KeyboardInterrupt:
        return 130
    text = render(args, result, load_before)
    print(text, flush=True)
    if args.out:
        args.out.write_text(text)
    if args.json_out:
        args.json_out.write_text(json.dumps({"options": {k: str(v) for k, v in
                                                         vars(args).items()},
                                             "result": result}, indent=1, default=str))
    if not result.get("ok"):
        raise SystemExit(1)
    return 0

