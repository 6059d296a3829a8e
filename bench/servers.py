"""Starting and stopping what the benchmark measures: Redis, Hallserver, the baselines.

Every process is a child of the benchmark, listens on a free port on 127.0.0.1, writes its
output to a log file in the run's work directory, and is asked to die with its parent
(``PR_SET_PDEATHSIG``), so an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TARGETS = ("hallserver", "uvicorn", "channels", "websockets")
#: Targets that run Hallserver itself: on daphne (the default) and on uvicorn (optional).
HALL_TARGETS = ("hallserver", "uvicorn")
BASELINE_ROOM = "bench"

_PR_SET_PDEATHSIG = 1

# All load comes from one address and a handful of accounts, faster than any person types:
# lift Hallserver's chat rate limits, the guest-entry throttle and the cap on anonymous
# connections per address (the listeners are anonymous) so that they do not refuse the
# benchmark's clients. (Everything else runs with Hallserver's defaults.)
HALLSERVER_LIMITS_FOR_LOAD_TESTS = {
    "HALLSERVER_RATE_CHAT_USER": "1000/second",
    "HALLSERVER_RATE_CHAT_ADDRESS": "1000/second",
    "HALLSERVER_RATE_GUEST_ADDRESS": "1000/second",
    "HALLSERVER_MAX_ANON_CONNECTIONS_PER_ADDRESS": "1000000",
}


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    """The environment of a server: ours, minus anything that could point elsewhere."""
    drop = {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items()
           if k not in drop and not k.lower().endswith("_proxy")}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH")
                                     else "")
    env.update(extra)
    return env


class Proc:
    """A server subprocess with its log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path,
                 port: int | None = None) -> None:
        self.name = name
        self.port = port
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    async def wait_listening(self, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n"
                                   f"{self.output()}")
            try:
                _, writer = await asyncio.open_connection(HOST, self.port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        raise RuntimeError(f"{self.name} did not listen on {self.port} within {within}s:\n"
                           f"{self.output()}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()


def _is_local_process(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


# --- Redis ---------------------------------------------------------------------------------
class Redis:
    """A private ``redis-server`` (no persistence) or an existing one given by URL."""

    def __init__(self, log_dir: Path, url: str | None = None) -> None:
        self.external = url is not None
        self.proc: Proc | None = None
        if url is None:
            binary = (os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
                      or "/usr/bin/redis-server")
            port = free_port()
            data = log_dir / "redis"
            data.mkdir(exist_ok=True)
            self.proc = Proc("redis", [binary, "--port", str(port), "--bind", HOST,
                                       "--save", "", "--appendonly", "no", "--dir", str(data),
                                       "--daemonize", "no"], base_env(), log_dir, port)
            url = f"redis://{HOST}:{port}/0"
        self.url = url
        self.pid: int | None = self.proc.pid if self.proc else None

    async def start(self) -> None:
        import redis

        if self.proc is not None:
            await self.proc.wait_listening(15)
        client = redis.Redis.from_url(self.url, socket_timeout=5)
        deadline = time.monotonic() + 15
        while True:
            try:
                info = client.info("server")
                break
            except redis.exceptions.BusyLoadingError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        client.close()
        if self.pid is None and _is_local_process(int(info["process_id"])):
            self.pid = int(info["process_id"])  # an external Redis on this machine

    def flush(self, prefix: str | None = None) -> None:
        """Forget everything the previous target left (only our keys on a shared Redis)."""
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=10)
        try:
            if not self.external:
                client.flushall()
            elif prefix:
                for key in client.scan_iter(match=f"{prefix}*", count=1000):
                    client.delete(key)
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


# --- targets ---------------------------------------------------------------------------------
@dataclass
class TargetServers:
    """The server processes of one target and how clients reach them."""

    target: str
    procs: list[Proc]
    urls: list[str]
    origins: list[str]
    rooms: list[int | str]  # rooms clients may join; chat goes to the first
    ports: list[int] = field(default_factory=list)
    note: str = ""

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def loadgen_config(self, rooms: int = 1) -> dict:
        return {"target": self.target, "urls": self.urls, "origins": self.origins,
                "rooms": self.rooms[:max(1, rooms)]}

    def alive(self) -> bool:
        return all(p.popen.poll() is None for p in self.procs)

    def stop(self) -> None:
        for p in self.procs:  # all at once: each may take a while to close its sockets
            if p.popen.poll() is None:
                p.popen.terminate()
        for p in self.procs:
            p.stop()

    def make_guests(self, count: int) -> list[str]:
        """Session cookies of ``count`` fresh guest accounts (Hallserver only)."""
        return [guest_cookie(self.ports[i % len(self.ports)], f"bench-{i}") for i in
                range(count)]


def prepare_hallserver_db(data_dir: Path) -> dict[str, str]:
    """A fresh SQLite database with the demo expo; returns the env that points at it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(
        HALLSERVER_DATA_DIR=str(data_dir),
        HALLSERVER_SQLITE_PATH=str(data_dir / "bench.sqlite3"),
        HALLSERVER_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="hallserver.settings",
    )
    for args in (["migrate", "--noinput", "-v0"], ["seed_demo"]):
        subprocess.run([sys.executable, "-m", "hallserver", "manage", *args], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    return env


def _http(port: int, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict, list[str]]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        cookies = resp.headers.get_all("Set-Cookie") or []
        try:
            body = json.loads(data) if data else {}
        except ValueError:
            raise RuntimeError(f"{method} {path} answered {resp.status} with non-JSON: "
                               f"{data[:300]!r}") from None
        return resp.status, body, cookies
    finally:
        conn.close()


def _cookie_value(set_cookies: list[str], name: str) -> str | None:
    for header in set_cookies:
        jar = SimpleCookie()
        jar.load(header)
        if name in jar:
            return jar[name].value
    return None


def guest_cookie(port: int, name: str) -> str:
    """Enter Hallserver as a guest over the HTTP API; return the ``Cookie`` header value."""
    _, _, set_cookies = _http(port, "GET", "/api/session")
    csrf = _cookie_value(set_cookies, "csrftoken")
    if csrf is None:
        raise RuntimeError("GET /api/session set no csrftoken cookie")
    status, data, set_cookies = _http(
        port, "POST", "/api/guest", json.dumps({"name": name}).encode(),
        {"Content-Type": "application/json", "X-CSRFToken": csrf, "Cookie": f"csrftoken={csrf}"},
    )
    session = _cookie_value(set_cookies, "sessionid")
    if status != 200 or session is None:
        raise RuntimeError(f"POST /api/guest answered {status}: {data}")
    return f"sessionid={session}"


def hallserver_rooms(port: int) -> list[int]:
    """Public rooms of the demo expo: the first roadshow's room (where chat goes; else the
    first hall lobby), then booth rooms, then the other lobbies and roadshows."""
    status, expo, _ = _http(port, "GET", "/api/expo")
    if status != 200:
        raise RuntimeError(f"GET /api/expo answered {status}: {expo}")
    rooms = [int(s["room"]) for s in expo.get("roadshows", []) if s.get("room")]
    lobbies = [int(h["lobby_room"]) for h in expo.get("halls", []) if h.get("lobby_room")]
    status, booths, _ = _http(port, "GET", "/api/booths?limit=100")
    booth_rooms = [int(b["room"]) for b in booths.get("results", []) if b.get("room")]
    ordered = [*rooms[:1], *booth_rooms, *lobbies, *rooms[1:]] if rooms else [
        *lobbies[:1], *booth_rooms, *lobbies[1:]]
    if not ordered:
        raise RuntimeError("the demo expo has no public room")
    return list(dict.fromkeys(ordered))


async def start_target(target: str, count: int, redis: Redis, log_dir: Path, prefix: str,
                       hall_env: dict[str, str] | None = None,
                       isolate: bool = False) -> TargetServers:
    """Start ``count`` server processes of ``target`` and wait until they all listen.

    ``isolate``: other targets use the same Redis at the same time, so even the stock Channels
    relay gets its own key prefix."""
    ports = [free_port() for _ in range(count)]
    procs: list[Proc] = []
    note = ""
    if target in HALL_TARGETS:
        assert hall_env is not None
        env = dict(hall_env, REDIS_URL=redis.url, HALLSERVER_REDIS_PREFIX=prefix)
        env.update(HALLSERVER_LIMITS_FOR_LOAD_TESTS)
        server = "daphne" if target == "hallserver" else target
        for i, port in enumerate(ports):
            procs.append(Proc(f"{target}-{i}", [sys.executable, "-m", "hallserver", "serve",
                                                "--server", server, "--port", str(port)],
                              env, log_dir, port))
        note = ("daphne + Hallserver hub, RedisPubSubChannelLayer" if server == "daphne" else
                "uvicorn (httptools, websockets-sansio, uvloop) + Hallserver hub, "
                "RedisPubSubChannelLayer; queued sends (no direct path)")
    elif target == "channels":
        extra = {"DJANGO_SETTINGS_MODULE": "bench.baselines.channels_relay.settings",
                 "REDIS_URL": redis.url}
        if redis.external or isolate:
            extra["BENCH_CHANNELS_PREFIX"] = prefix
        env = base_env(**extra)
        for i, port in enumerate(ports):
            procs.append(Proc(f"channels-{i}", [
                # -v 0: no access log line per connection, like `hallserver serve`.
                sys.executable, "-m", "daphne", "-b", HOST, "-p", str(port), "-v", "0",
                "bench.baselines.channels_relay.asgi:application"], env, log_dir, port))
        note = "daphne + AsyncWebsocketConsumer, RedisChannelLayer (stock)"
    elif target == "websockets":
        env = base_env()
        for i, port in enumerate(ports):
            argv = [sys.executable, "-m", "bench.baselines.ws_broadcast", "--port", str(port)]
            if count > 1:
                argv += ["--redis", redis.url, "--prefix", prefix]
            procs.append(Proc(f"websockets-{i}", argv, env, log_dir, port))
        note = ("websockets.broadcast" if count == 1
                else "websockets.broadcast, Redis pub/sub between processes")
    else:
        raise ValueError(f"unknown target {target!r}")
    servers = TargetServers(target, procs, [f"ws://{HOST}:{p}/ws/" for p in ports],
                            [f"http://{HOST}:{p}" for p in ports],
                            [BASELINE_ROOM] + [f"{BASELINE_ROOM}{i}" for i in range(2, 501)],
                            ports, note)
    try:
        await asyncio.gather(*(p.wait_listening() for p in procs))
        if target in HALL_TARGETS:
            servers.rooms = await asyncio.to_thread(hallserver_rooms, ports[0])
    except BaseException:
        servers.stop()
        raise
    return servers
