"""The parent's side of the load generators: start ``bench.loadgen`` processes and call them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import sys
from pathlib import Path
from typing import Any

from .servers import ROOT, _die_with_parent, base_env


class WorkerError(RuntimeError):
    pass


class LoadWorker:
    """One load-generator process, driven over JSON lines on its stdin/stdout."""

    def __init__(self, name: str, config: dict[str, Any], log_dir: Path,
                 module: str = "bench.loadgen") -> None:
        self.name = name
        self.module = module
        self.config = dict(config, name=name)
        self.log_path = log_dir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.pid = 0
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._reader: asyncio.Task | None = None
        self._hello: asyncio.Future | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._hello = loop.create_future()
        self._pending[0] = self._hello
        log = self.log_path.open("ab")  # closed below; the child keeps its own copy
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.module, json.dumps(self.config),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=log,
                cwd=ROOT, env=base_env(), limit=64 << 20, preexec_fn=_die_with_parent,
            )
        finally:
            log.close()  # the child has its own copy
        self.pid = self.proc.pid
        self._reader = loop.create_task(self._read())
        await asyncio.wait_for(self._hello, 60)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                break
            message = json.loads(line)
            future = self._pending.pop(message["id"], None)
            if future is None or future.done():
                continue
            if message["ok"]:
                future.set_result(message["result"])
            else:
                future.set_exception(WorkerError(f"{self.name}: {message['error']}"))
        error = WorkerError(f"load generator {self.name} exited:\n{self._log_tail()}")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)
        self._pending.clear()

    async def call(self, cmd: str, rpc_timeout: float | None = 600, **args: Any) -> Any:
        assert self.proc is not None and self.proc.stdin is not None
        request_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self.proc.stdin.write((json.dumps({"id": request_id, "cmd": cmd, "args": args})
                               + "\n").encode())
        await self.proc.stdin.drain()
        return await asyncio.wait_for(future, rpc_timeout)

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                await self.call("stop", rpc_timeout=20)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()


async def start_workers(names_configs: list[tuple[str, dict[str, Any]]],
                        log_dir: Path, module: str = "bench.loadgen") -> list[LoadWorker]:
    workers = [LoadWorker(name, cfg, log_dir, module) for name, cfg in names_configs]
    try:
        await asyncio.gather(*(w.start() for w in workers))
    except BaseException:
        await stop_workers(workers)
        raise
    return workers


async def stop_workers(workers: list[LoadWorker]) -> None:
    await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
