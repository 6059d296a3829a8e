"""Shared fixtures: a real Redis, clean process-wide state, WebSocket clients, live servers."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from channels.layers import channel_layers

from tests.redis_server import redis_url_for_tests

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis: ``REDIS_URL`` if set, else a private redis-server on a free port."""
    with redis_url_for_tests() as url:
        yield url


# Tests send bursts of messages from one user; the rate limit tests set their own limits.
GENEROUS_LIMITS = {"RATE_CHAT_USER": "1000/second", "RATE_CHAT_ADDRESS": "1000/second",
                   "RATE_ACTIONS_CONNECTION": "1000/second",
                   "RATE_GUEST_ADDRESS": "1000/second", "RATE_LOGIN_ADDRESS": "1000/second",
                   "RATE_LOGIN_ACCOUNT": "1000/second", "RATE_SIGNUP_ADDRESS": "1000/second"}


# Tests open many anonymous connections from one address; the cap's own tests set theirs.
MANY_ANONYMOUS = 100_000


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.HALLSERVER = {**settings.HALLSERVER, **GENEROUS_LIMITS,
                           "MAX_ANON_CONNECTIONS_PER_ADDRESS": MANY_ANONYMOUS}


@pytest.fixture(autouse=True)
def _fresh_realtime_state():
    """Each test gets its own event loop, so process-wide real-time state starts afresh."""
    from analytics.recorder import recorder
    from booths import runtime
    from booths.services import chat
    from booths.services.rooms import directory
    from hallserver.realtime.hub import hub

    channel_layers.backends.clear()
    for cached in (runtime.presence, runtime.limits, runtime.word_filter):
        cached.cache_clear()
    directory.invalidate()
    chat.history_cache._pages.clear()
    hub.channel = None
    hub._loop = None
    recorder.buffer.clear()
    recorder._loop = recorder._task = None
    yield
    channel_layers.backends.clear()
    for cached in (runtime.presence, runtime.limits, runtime.word_filter):
        cached.cache_clear()
    directory.invalidate()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ManagedProcess:
    """A ``hallserver`` subcommand in a subprocess, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], name: str) -> None:
        self.name = name
        self.env = env
        # Kept open for the process's lifetime and removed in stop().
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix=f"hallserver-{name}-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hallserver", *args],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


class ServerProcess(ManagedProcess):
    """``hallserver serve`` in a subprocess, on a free loopback port."""

    def __init__(self, env: dict[str, str], name: str = "web", server: str = "daphne") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws/"
        super().__init__(["serve", "--server", server, "--port", str(self.port)], env, name)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> None:
        # A safety net: it returns as soon as the server listens (slow on a loaded machine).
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.output()}")
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", self.port), timeout=0.5
            ):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen within {timeout}s:\n{self.output()}")


def prepare_database(env: dict[str, str]) -> None:
    """Migrate and seed the demo expo into the database ``env`` points at."""
    subprocess.run(
        [sys.executable, "-m", "hallserver", "manage", "migrate", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True,
    )
    subprocess.run(
        [sys.executable, "-m", "hallserver", "manage", "seed_demo"],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
    )


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        HALLSERVER_DATA_DIR=str(data_dir),
        HALLSERVER_SQLITE_PATH=str(data_dir / "db.sqlite3"),
        HALLSERVER_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="hallserver.settings",
        PYTHONUNBUFFERED="1",
        **{f"HALLSERVER_{k}": v for k, v in GENEROUS_LIMITS.items()},
        HALLSERVER_MAX_ANON_CONNECTIONS_PER_ADDRESS=str(MANY_ANONYMOUS),
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def live_server_url(tmp_path_factory) -> Iterator[str]:
    """One real daphne process (embedded defaults) serving a seeded demo expo.

    Its media worker serves two WebRTC viewers per roadshow and sends further ones to HLS
    (with short segments), so that the browser tests see both."""
    data_dir = tmp_path_factory.mktemp("live")
    env = server_env(data_dir, HALLSERVER_MAX_WEBRTC_VIEWERS="2",
                     HALLSERVER_HLS_SEGMENT_SECONDS="1")
    prepare_database(env)
    server = ServerProcess(env, "live")
    try:
        yield server.url
    finally:
        server.stop()


@contextlib.contextmanager
def server_cluster(tmp_path_factory, redis_url: str, *specs: tuple[str, str],
                   env: dict[str, str] | None = None) -> Iterator[list[ServerProcess]]:
    """Server processes, one per ``(name, server)``, sharing a freshly seeded database and
    talking through a real Redis; ``env``: further environment variables for all."""
    data_dir = tmp_path_factory.mktemp("cluster")
    prefix = f"t{os.getpid()}-{time.monotonic_ns()}:"
    env = server_env(data_dir, REDIS_URL=redis_url, HALLSERVER_REDIS_PREFIX=prefix,
                     **(env or {}))
    prepare_database(env)
    procs: list[ServerProcess] = []
    try:
        for name, server in specs:
            procs.append(ServerProcess(env, name, server=server))
        yield procs
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, redis_url) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two daphne processes sharing one database and talking through a real Redis."""
    with server_cluster(tmp_path_factory, redis_url, ("web1", "daphne"),
                        ("web2", "daphne")) as (first, second):
        yield first, second
