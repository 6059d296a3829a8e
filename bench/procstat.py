"""CPU time and memory of processes, read from /proc (psutil is not installed)."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the whole process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return 0.0
    # The command name (field 2) is in parentheses and may contain spaces: split after it.
    fields = raw[raw.rindex(b")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / _TICK


def rss_bytes(pid: int) -> int:
    """Resident set size (VmRSS) in bytes; 0 if the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def runqueue_wait_seconds(pid: int) -> float:
    """Seconds the threads of ``pid`` spent runnable but waiting for a CPU (schedstat).

    High values mean the machine is oversubscribed (by the benchmark itself or by anything
    else running on it): latencies measured meanwhile say more about the machine than about
    the server.
    """
    total = 0
    for path in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            with open(path) as f:
                total += int(f.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


@dataclass
class CpuMeter:
    """CPU seconds (and run-queue waits) of a set of processes between :meth:`start` and
    :meth:`stop`."""

    pids: list[int]

    def __post_init__(self) -> None:
        self._before: dict[int, tuple[float, float]] = {}
        self._after: dict[int, tuple[float, float]] = {}

    @staticmethod
    def _read(pid: int) -> tuple[float, float]:
        return cpu_seconds(pid), runqueue_wait_seconds(pid)

    def start(self) -> None:
        self._before = {pid: self._read(pid) for pid in self.pids}

    def stop(self) -> None:
        self._after = {pid: self._read(pid) for pid in self.pids}

    def _delta(self, pids: list[int], i: int) -> float:
        return sum(self._after.get(p, (0.0, 0.0))[i] - self._before.get(p, (0.0, 0.0))[i]
                   for p in pids)

    def used(self, pid: int | None = None) -> float:
        return self._delta(self.pids if pid is None else [pid], 0)

    def waited(self, pids: list[int] | None = None) -> float:
        return self._delta(self.pids if pids is None else pids, 1)
