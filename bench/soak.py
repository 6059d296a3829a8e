"""``hallserver bench soak``: the flood's load held for a long time, watching the servers'
memory and open files.

Clients arrive at the flood's ``--ramp`` towards ``--clients`` and stay; a share of them chat
at the flood's rate, everyone pings. One more load generator opens and closes ``--churn``
connections every sample period, so connection set-up and tear-down are in the soak too.
Every ``--sample-every`` seconds (60) the resident memory (``VmRSS``) and the number of open
file descriptors of each server process are read from ``/proc``. The growth is measured from
the first sample after the warm-up (the ramp plus ``--warmup`` seconds) to the last one.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from typing import Any

from .procstat import CpuMeter, rss_bytes
from .scenarios import Run, guests, log, merge_counters
from .stats import Histogram


def open_files(pid: int) -> int:
    """Open file descriptors of ``pid`` (sockets included); 0 if the process is gone."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def growth(samples: list[dict[str, Any]], warm_at: float, key: str) -> dict[str, Any]:
    """Growth of ``key`` per process from the first sample at or after ``warm_at`` seconds to
    the last sample: ``{"base": [...], "last": [...], "pct": [...]}`` (pct None when there is
    no sample after the warm-up)."""
    after = [s for s in samples if s["t"] >= warm_at]
    if len(after) < 2:
        return {"base": None, "last": None, "pct": None}
    base, last = after[0][key], after[-1][key]
    pct = [(b2 - b1) / b1 * 100 if b1 else None for b1, b2 in zip(base, last, strict=True)]
    return {"base": base, "last": last, "pct": pct}


async def soak_target(run: Run, target: str) -> dict[str, Any]:
    o = run.opts
    nsrv = o.server_procs or 2
    total = o.clients
    chat_every = max(1, round(1 / o.chat_fraction)) if o.chat_fraction > 0 else 0
    chatters = len(range(0, total, chat_every)) if chat_every else 0
    ramp_s = total / o.ramp
    warm_at = min(ramp_s + o.warmup, o.duration)
    assert run.redis is not None
    redis_pids = [run.redis.pid] if run.redis.pid else []
    async with run.servers(target, nsrv) as servers:
        cookies = await guests(servers, chatters)
        async with run.workers(servers, o.procs, "soak") as workers, \
                run.workers(servers, 1, "churn") as churners:
            worker_pids = [w.pid for w in workers]
            meter = CpuMeter(servers.pids + redis_pids + worker_pids)
            meter.start()
            log(f"{target}: soak of {o.duration:g} s, ramping to {total} clients at "
                f"{o.ramp:g}/s ({chatters} chatting), {o.churn} connections churned per "
                f"{o.sample_every:g} s")
            t0 = time.monotonic()
            start_at = time.time() + 1.0
            n = len(workers)
            await asyncio.gather(*(w.call(
                "flood", start_at=start_at, total=total, rate=o.ramp, worker=i, workers=n,
                chat_every=chat_every, chat_mean=o.chat_mean, ping_interval=o.ping_interval,
                ping_timeout=o.ping_timeout, cookies=cookies, handshake_timeout=o.timeout)
                for i, w in enumerate(workers)))
            samples: list[dict[str, Any]] = []
            chat = Histogram()
            churn_errors: Counter[str] = Counter()
            churned = 0
            failed = closed = reached = connected = 0
            next_sample = 0.0
            stop_reason = "completed"
            while True:
                await asyncio.sleep(1.0)
                elapsed = time.monotonic() - t0
                ticks = await asyncio.gather(*(w.call("window", rpc_timeout=60)
                                               for w in workers))
                for t in ticks:
                    chat.merge(Histogram.from_json(t["chat"]))
                connected = sum(t["connected"] for t in ticks)
                reached = max(reached, connected)
                failed += sum(t["failed"] for t in ticks)
                closed += sum(t["closed"] for t in ticks)
                if not servers.alive():
                    stop_reason = "a server process died"
                    break
                if elapsed >= next_sample or elapsed >= o.duration:
                    next_sample += o.sample_every
                    if o.churn:
                        result = await churners[0].call(
                            "connect", count=o.churn, concurrency=min(25, o.churn),
                            handshake_timeout=o.timeout)
                        churned += result["connected"]
                        churn_errors.update(result["errors"])
                        await churners[0].call("close_all")
                    sample = {"t": round(elapsed, 1), "connected": connected,
                              "rss": [rss_bytes(p) for p in servers.pids],
                              "fds": [open_files(p) for p in servers.pids]}
                    samples.append(sample)
                    log(f"{target}: {elapsed:6.0f} s, {connected:,} connected, RSS "
                        + " / ".join(f"{r / 2**20:.1f}" for r in sample["rss"])
                        + " MiB, open files " + " / ".join(map(str, sample["fds"]))
                        + f", chat p99 {(chat.percentile(99) or 0):.0f} ms, failed "
                        f"{failed}, closed {closed}")
                if elapsed >= o.duration:
                    break
            await asyncio.gather(*(w.call("stop_ramp") for w in workers))
            meter.stop()
            seconds = time.monotonic() - t0
            reports = await asyncio.gather(*(w.call("report", rpc_timeout=60)
                                             for w in workers))
    chat = Histogram.merged(r["chat"] for r in reports)
    errors = merge_counters([r["errors"] for r in reports])
    for key, value in churn_errors.items():
        errors["churn " + key] = errors.get("churn " + key, 0) + value
    rss = growth(samples, warm_at, "rss")
    fds = growth(samples, warm_at, "fds")
    row = {
        "target": target, "note": servers.note, "server_procs": nsrv, "clients": total,
        "reached": reached, "seconds": seconds, "stop_reason": stop_reason,
        "warm_at": warm_at, "samples": samples, "churned": churned,
        "rss_growth": rss, "fds_growth": fds,
        "chat_p50_ms": chat.percentile(50), "chat_p99_ms": chat.percentile(99),
        "chat_deliveries": chat.count, "chats_sent": sum(r["chats_sent"] for r in reports),
        "errors": errors, "error_count": sum(errors.values()),
        "server_cpu_pct": sum(meter.used(p) for p in servers.pids) / seconds * 100,
        "redis_cpu_pct": sum(meter.used(p) for p in redis_pids) / seconds * 100,
        "loadgen_cpu_pct": sum(meter.used(p) for p in worker_pids) / seconds * 100,
    }
    pct = [p for p in rss["pct"] or [] if p is not None]
    log(f"{target}: soak done after {seconds:.0f} s ({stop_reason}); RSS growth after warm-up "
        + (", ".join(f"{p:+.1f}%" for p in pct) if pct else "not measured (too short)"))
    return row
