"""Markdown tables of benchmark results."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from typing import Any

from .scenarios import Options
from .stats import fmt_int, fmt_ms, fmt_num, markdown_table

NAMES = {"hallserver": "Hallserver", "channels": "Channels relay", "websockets": "websockets",
         "uvicorn": "Hallserver on uvicorn"}


def _name(row: dict[str, Any]) -> str:
    return NAMES.get(row["target"], row["target"])


def _errors(errors: dict[str, int] | None) -> str:
    if not errors:
        return "0"
    return f"{sum(errors.values()):,} (" + ", ".join(
        f"{k}: {v}" for k, v in sorted(errors.items(), key=lambda kv: -kv[1])) + ")"


def _versions() -> str:
    parts = [f"Python {platform.python_version()}"]
    for module in ("django", "channels", "channels_redis", "daphne", "uvicorn", "websockets",
                   "redis"):
        try:
            mod = __import__(module)
            parts.append(f"{module} {getattr(mod, '__version__', '?')}")
        except Exception:
            pass
    return ", ".join(parts)


def _wait(r: dict[str, Any]) -> str:
    pct = r.get("server_wait_pct")
    if pct is None:
        return ""
    text = f"; server threads waited for a CPU for {pct:.0f}% of the window (summed)"
    if pct > 20:
        text += " (machine oversubscribed: latencies unreliable)"
    return text


def header(opts: Options, load_before: tuple[float, ...] | None = None) -> str:
    when = time.strftime("%Y-%m-%d %H:%M")
    what = {
        "fanout": f"one room of {opts.clients:,} members, one sender at {opts.rate:g} msg/s "
                  f"for {opts.duration:g} s",
        "flood": f"ramp at {opts.ramp:g} clients/s towards {opts.clients:,} in one room, "
                 f"{opts.chat_fraction:.1%} chatting every ~{opts.chat_mean:g} s, pings every "
                 f"~{opts.ping_interval:g} s (late after {opts.ping_timeout:g} s); stop when "
                 f"p90 chat delivery > 10 s or > 10% of pings late",
        "idle": f"{opts.clients:,} idle connections, each in one of {opts.rooms} rooms",
        "storm": f"{opts.clients:,} clients, {opts.inflight} handshakes in flight, each "
                 f"joining one of {opts.rooms} rooms",
        "smoke": f"{opts.clients} members, {opts.rate:g} msg/s for {opts.duration:g} s, "
                 f"pings, a small handshake storm",
        "soak": f"{opts.duration:g} s at the flood's rates: ramp at {opts.ramp:g} clients/s "
                f"to {opts.clients:,} in one room, {opts.chat_fraction:.1%} chatting every "
                f"~{opts.chat_mean:g} s, pings every ~{opts.ping_interval:g} s, "
                f"{opts.churn} connections opened and closed every {opts.sample_every:g} s",
    }[opts.command]
    load = ""
    if load_before is not None:
        load = (f" Load average {load_before[0]:.1f} before the run, "
                f"{os.getloadavg()[0]:.1f} after.")
    from .loadgen import event_loop

    loop = "uvloop" if event_loop() is not asyncio.run else "asyncio"
    return (f"### {opts.command}: {what}\n\n"
            f"{when}, {os.cpu_count()} CPUs, {opts.procs} load-generator process(es) on "
            f"{loop}; "
            f"{_versions()}.{load}\n")


def _failures(rows: list[dict[str, Any]]) -> list[str]:
    return [f"- {_name(r)}: run failed: {r['failure']}" for r in rows if "failure" in r]


def fanout_table(rows: list[dict[str, Any]]) -> str:
    headers = ["target", "server procs", "members", "msgs sent", "delivered", "lost",
               "CPU µs/delivery", "Redis µs/delivery", "p50 ms", "p99 ms", "max ms",
               "server CPU %", "load gen CPU %"]
    body = []
    for r in rows:
        if "failure" in r:
            continue
        body.append([_name(r), r["server_procs"], fmt_int(r["members"]), fmt_int(r["msgs_sent"]),
                     fmt_int(r["delivered"]), fmt_int(r["lost"]),
                     fmt_num(r["us_per_delivery"]), fmt_num(r["redis_us_per_delivery"]),
                     fmt_ms(r["p50_ms"]), fmt_ms(r["p99_ms"]), fmt_ms(r["max_ms"]),
                     fmt_num(r["server_cpu_pct"], 0), fmt_num(r["loadgen_cpu_pct"], 0)])
    notes = [f"- {_name(r)}: {r['note']}; window {r['window_s']:.1f} s "
             f"({r['drain_end']}); accepted "
             f"{r['msgs_accepted']:,}/{r['msgs_sent']:,}"
             + (f" (chat.send reply p50 {fmt_ms(r['ack_p50_ms'])} ms, p99 "
                f"{fmt_ms(r['ack_p99_ms'])} ms)" if r["ack_p50_ms"] is not None else "")
             + (f"; {r['unanswered']} chat.send still unanswered at the end"
                if r["unanswered"] else "")
             + (f"; the sender fell {r['sender_late_s']:.1f} s behind its schedule"
                if r["sender_late_s"] > 0.5 else "")
             + (f"; chat.send refused: {_errors(r['send_errors'])}" if r["send_errors"]
                else "")
             + f"; duplicates {r['dups']}{_wait(r)}; "
             f"connect failures {_errors(r['connect_errors'])}; client errors "
             f"{_errors(r['errors'])}" for r in rows if "failure" not in r]
    return "\n".join([markdown_table(headers, body), "", *notes, *_failures(rows)])


def idle_table(rows: list[dict[str, Any]]) -> str:
    headers = ["target", "server procs", "connections", "failed", "RSS before MiB",
               "RSS after MiB", "KiB per connection", "Redis KiB per connection",
               "connect time s"]
    body = [[_name(r), r["server_procs"], fmt_int(r["connections"]),
             fmt_int(r["connect_failed"]), fmt_num(r["rss_before_mib"]),
             fmt_num(r["rss_after_mib"]), fmt_num(r["kib_per_conn"]),
             fmt_num(r["redis_kib_per_conn"]), fmt_num(r["connect_s"])]
            for r in rows if "failure" not in r]
    notes = [f"- {_name(r)}: {r['note']}; client errors {_errors(r['connect_errors'])}"
             for r in rows if "failure" not in r]
    return "\n".join([markdown_table(headers, body), "", *notes, *_failures(rows)])


def storm_table(rows: list[dict[str, Any]]) -> str:
    headers = ["target", "server procs", "clients", "in flight", "ok", "failed",
               "handshakes/s", "per process /s", "p50 ms", "p99 ms", "max ms",
               "server CPU ms/handshake", "Redis CPU ms/handshake", "load gen CPU ms/handshake"]
    body = [[_name(r), r["server_procs"], fmt_int(r["clients"]), r["inflight"],
             fmt_int(r["ok"]), fmt_int(r["failed"]), fmt_num(r["per_s"], 0),
             fmt_num(r["per_s_per_proc"], 0), fmt_ms(r["p50_ms"]), fmt_ms(r["p99_ms"]),
             fmt_ms(r["max_ms"]), fmt_num(r["cpu_ms_per_handshake"], 2),
             fmt_num(r["redis_cpu_ms_per_handshake"], 2),
             fmt_num(r.get("client_cpu_ms_per_handshake"), 2)]
            for r in rows if "failure" not in r]
    notes = [f"- {_name(r)}: {r['note']}; failures {_errors(r['errors'])}{_wait(r)}"
             f"{_rounds(r)}" for r in rows if "failure" not in r]
    return "\n".join([markdown_table(headers, body), "", *notes, *_failures(rows)])


def _rounds(r: dict[str, Any]) -> str:
    rounds = r.get("rounds") or []
    if len(rounds) < 2:
        return ""
    each = ", ".join(f"{fmt_num(x['per_s'], 0)}/s at {fmt_num(x['cpu_ms_per_handshake'], 2)} ms"
                     + (f" ({fmt_int(x['failed'])} failed)" if x["failed"] else "")
                     for x in rounds)
    return f"; {len(rounds)} rounds (median shown): {each}"


def flood_table(rows: list[dict[str, Any]]) -> str:
    headers = ["target", "server procs", "clients reached", "stop reason", "chat p50 ms",
               "chat p90 ms", "chat p99 ms", "ping p99 ms", "pings late %", "errors",
               "server CPU %", "Redis CPU %", "load gen CPU %"]
    body = [[_name(r), r["server_procs"], f"{r['reached']:,} / {r['clients']:,}",
             r["stop_reason"], fmt_ms(r["chat_p50_ms"]), fmt_ms(r["chat_p90_ms"]),
             fmt_ms(r["chat_p99_ms"]), fmt_ms(r["ping_p99_ms"]),
             fmt_num(r["pings_late_pct"], 1), fmt_int(r["error_count"]),
             fmt_num(r["server_cpu_pct"], 0), fmt_num(r["redis_cpu_pct"], 0),
             fmt_num(r["loadgen_cpu_pct"], 0)]
            for r in rows if "failure" not in r]
    notes = [f"- {_name(r)}: {r['note']}; {r['seconds']:.0f} s; {r['chats_sent']:,} chat "
             f"messages sent, {r['chat_deliveries']:,} deliveries, {r['other_frames']:,} other "
             f"frames received (presence, counts); errors {_errors(r['errors'])}"
             f"{_wait(r)}"
             for r in rows if "failure" not in r]
    return "\n".join([markdown_table(headers, body), "", *notes, *_failures(rows)])


def smoke_table(rows: list[dict[str, Any]]) -> str:
    headers = ["target", "server procs", "members", "msgs sent", "delivered", "lost",
               "pings answered", "storm ok", "result"]
    body = [[_name(r), r["server_procs"], fmt_int(r["members"]), fmt_int(r["msgs_sent"]),
             fmt_int(r["delivered"]), fmt_int(r["lost"]),
             f"{r['pings_answered']}/{r['pings_sent']}",
             f"{r['storm_ok']}/{r['storm_clients']}",
             "ok" if r["ok"] else ("FAILED: " if r["enforced"] else "not enforced, failed: ")
             + ", ".join(k for k, v in r["checks"].items() if not v)]
            for r in rows if "failure" not in r]
    return "\n".join([markdown_table(headers, body), "", *_failures(rows)])


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 2**20:.1f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f} %"


def soak_table(rows: list[dict[str, Any]]) -> str:
    parts = []
    for r in rows:
        if "failure" in r:
            continue
        nproc = r["server_procs"]
        headers = ["minute", "clients", *(f"RSS MiB p{i + 1}" for i in range(nproc)),
                   *(f"open files p{i + 1}" for i in range(nproc))]
        body = [[f"{s['t'] / 60:.1f}", fmt_int(s["connected"]), *map(_mib, s["rss"]),
                 *map(str, s["fds"])] for s in r["samples"]]
        rss, fds = r["rss_growth"], r["fds_growth"]
        summary = [["RSS after warm-up MiB", *(map(_mib, rss["base"]) if rss["base"] else
                                               ["n/a"] * nproc)],
                   ["RSS at the end MiB", *(map(_mib, rss["last"]) if rss["last"] else
                                            ["n/a"] * nproc)],
                   ["RSS growth", *(map(_pct, rss["pct"]) if rss["pct"] else ["n/a"] * nproc)],
                   ["open files after warm-up / at the end",
                    *([f"{a} / {b}" for a, b in zip(fds["base"], fds["last"], strict=True)]
                      if fds["base"] else ["n/a"] * nproc)]]
        parts += [markdown_table(headers, body), "",
                  markdown_table(["", *(f"process {i + 1}" for i in range(nproc))], summary),
                  "",
                  f"- {_name(r)}: {r['note']}; {r['seconds']:.0f} s ({r['stop_reason']}); "
                  f"warm-up until {r['warm_at']:.0f} s; {r['reached']:,} clients reached, "
                  f"{r['churned']:,} churned; {r['chats_sent']:,} chat messages, "
                  f"{r['chat_deliveries']:,} deliveries, chat p50 {fmt_ms(r['chat_p50_ms'])} ms,"
                  f" p99 {fmt_ms(r['chat_p99_ms'])} ms; errors {_errors(r['errors'])}; CPU "
                  f"server {fmt_num(r['server_cpu_pct'], 0)} %, Redis "
                  f"{fmt_num(r['redis_cpu_pct'], 0)} %, load generators "
                  f"{fmt_num(r['loadgen_cpu_pct'], 0)} %"]
    return "\n".join([*parts, *_failures(rows)])


TABLES = {"fanout": fanout_table, "idle": idle_table, "storm": storm_table,
          "flood": flood_table, "smoke": smoke_table, "soak": soak_table}


def render(opts: Options, rows: list[dict[str, Any]],
           load_before: tuple[float, ...] | None = None) -> str:
    return header(opts, load_before) + "\n" + TABLES[opts.command](rows) + "\n"


def write(text: str, path: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(f"[bench] written to {path}", file=sys.stderr)
