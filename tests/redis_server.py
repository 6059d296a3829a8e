"""A throwaway ``redis-server`` for the test suite.

The system tests need a real Redis (the channel layer is channels-redis' pub/sub layer), but
they must not depend on whatever may or may not listen on 6379 on the machine. So, unless
``REDIS_URL`` is set, the suite starts its own server from the ``redis-server`` binary on a
free loopback port, with no persistence and its working directory in a temporary folder, and
stops it at the end::

    with redis_url_for_tests() as url:      # honours REDIS_URL, else starts a RedisServer
        ...

    with RedisServer() as server:           # always a private server
        server.url                          # redis://127.0.0.1:<port>/0
        server.restart()                    # same port: for reconnect tests
        server.down(); ...; server.up()     # the same, with the outage under your control

Set ``REDIS_SERVER`` to the path of another ``redis-server`` binary to use that one.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

__all__ = ["RedisServer", "RedisServerError", "find_redis_server", "redis_url_for_tests"]

_INSTALL_HINT = (
    "install it (Debian/Ubuntu: `apt-get install redis-server`; ./scripts/test does this "
    "when run as root) or point REDIS_URL at a Redis server the tests may use"
)


class RedisServerError(RuntimeError):
    """The test Redis could not be found, started or reached."""


def find_redis_server() -> str:
    """Path of the ``redis-server`` binary: ``$REDIS_SERVER``, then ``$PATH``, then /usr/bin."""
    configured = os.environ.get("REDIS_SERVER")
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise RedisServerError(f"REDIS_SERVER={configured!r} is not an executable file")
        return configured
    # /usr/sbin and /usr/bin are listed too: a non-login root shell may lack them in $PATH.
    for candidate in (
        shutil.which("redis-server"),
        "/usr/bin/redis-server",
        "/usr/sbin/redis-server",
        "/usr/local/bin/redis-server",
    ):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise RedisServerError(f"the tests need redis-server, which was not found: {_INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers_ping(url: str, timeout: float, pid: int | None = None) -> bool:
    """Whether the Redis at ``url`` answers PING (and, given ``pid``, is that process)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        if not client.ping():
            return False
        # Another server may hold the port; only our own process counts as ready.
        return pid is None or int(client.info("server")["process_id"]) == pid
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


class RedisServer:
    """A private ``redis-server`` process on 127.0.0.1, started by :meth:`start`.

    Nothing is written to disk but its log, in a temporary directory that :meth:`stop` removes.
    Use it as a context manager, or call :meth:`start` and :meth:`stop` yourself.
    """

    def __init__(
        self,
        *,
        binary: str | None = None,
        port: int | None = None,
        startup_timeout: float = 15.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.binary = binary
        self.port = port
        self.startup_timeout = startup_timeout
        self.extra_args = tuple(extra_args)
        self.process: subprocess.Popen[bytes] | None = None
        self._tmpdir: Path | None = None
        self._log_file = None

    # --- addresses ------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``; only valid once started."""
        if self.port is None:
            raise RedisServerError("the Redis server has not been started")
        return f"redis://{self.host}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log_path(self) -> Path | None:
        return None if self._tmpdir is None else self._tmpdir / "redis.log"

    def log(self) -> str:
        """What the server has printed so far (for error messages)."""
        path = self.log_path
        if path is None or not path.exists():
            return ""
        return path.read_text(errors="replace")

    # --- life cycle -----------------------------------------------------------------------------
    def start(self) -> RedisServer:
        if self.running:
            return self
        binary = self.binary or find_redis_server()
        if self._tmpdir is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="hallserver-redis-"))
        fixed_port = self.port is not None
        # A free port found by binding port 0 can be taken by someone else before redis-server
        # binds it; try a few fresh ports before giving up (not when the port was asked for).
        attempts = 1 if fixed_port else 5
        error: RedisServerError | None = None
        for _ in range(attempts):
            if not fixed_port:
                self.port = _free_port()
            try:
                self._spawn(binary)
                self._wait_until_ready()
            except RedisServerError as exc:
                error = exc
                self._kill_process()
                continue
            atexit.register(self.stop)
            return self
        self._cleanup_tmpdir()
        assert error is not None
        raise error

    def _spawn(self, binary: str) -> None:
        assert self._tmpdir is not None and self.port is not None
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115  (closed in _kill_process)
        args = [
            binary,
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._tmpdir),
            "--daemonize", "no",
            "--logfile", "",
            *self.extra_args,
        ]  # fmt: skip
        try:
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                cwd=self._tmpdir,
            )
        except OSError as exc:
            raise RedisServerError(f"could not run {binary}: {exc}; {_INSTALL_HINT}") from exc

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisServerError(
                    f"redis-server exited with code {self.process.returncode} on port "
                    f"{self.port}:\n{self.log()}"
                )
            if _answers_ping(self.url, timeout=0.5, pid=self.process.pid):
                return
            time.sleep(0.05)
        raise RedisServerError(
            f"redis-server on port {self.port} did not answer PING within "
            f"{self.startup_timeout:.0f}s:\n{self.log()}"
        )

    def stop(self) -> None:
        """Terminate the server, wait for it, and remove its directory. Safe to call twice."""
        atexit.unregister(self.stop)
        self._kill_process()
        self._cleanup_tmpdir()

    def restart(self, down_for: float = 0.0) -> None:
        """Stop the server, stay down ``down_for`` seconds, and start it on the same port.

        Its data is gone afterwards, as after a real Redis restart without persistence.
        """
        if self.port is None:
            raise RedisServerError("the Redis server has not been started")
        self._kill_process()
        if down_for > 0:
            time.sleep(down_for)
        if self._tmpdir is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="hallserver-redis-"))
        self._spawn(self.binary or find_redis_server())
        try:
            self._wait_until_ready()
        except RedisServerError:
            self._kill_process()
            raise
        atexit.register(self.stop)

    def down(self) -> None:
        """Stop the server process but keep its port and directory, for :meth:`up`."""
        self._kill_process()

    def up(self) -> None:
        """Start the server again on the same port after :meth:`down`, empty."""
        self.restart(0.0)

    def _kill_process(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def _cleanup_tmpdir(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<RedisServer port={self.port} {state}>"


@contextlib.contextmanager
def redis_url_for_tests() -> Iterator[str]:
    """The Redis URL the tests should use, for as long as the ``with`` block lasts.

    ``REDIS_URL`` from the environment when it is set (checked to answer PING), otherwise the
    URL of a private :class:`RedisServer` that is stopped when the block ends.
    """
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        if not _answers_ping(url, timeout=5.0):
            raise RedisServerError(
                "REDIS_URL is set but that Redis does not answer PING; start it, or unset "
                "REDIS_URL so that the tests start their own redis-server"
            )
        yield url
        return
    with RedisServer() as server:
        yield server.url
