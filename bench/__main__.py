"""``hallserver bench`` / ``python -m bench``: run a benchmark and print a markdown table.

    python -m bench fanout [--clients 1000] [--rate 5] [--duration 20]
    python -m bench flood  [--clients 10000] [--ramp 33.3] [--hold 30]
    python -m bench idle   [--clients 5000]
    python -m bench storm  [--clients 2000] [--inflight 200] [--rounds 3]
    python -m bench smoke  (a short correctness check, as run by tests/test_bench_smoke.py)
    python -m bench match  [--size small|conference] (matchmaking quality; bench/match.py)
    python -m bench search [--scale 1.0] [--repeat 5]  (catalogue search: bench/search.py)
    python -m bench pages  [--runs 5] [--scales demo,large]  (first paint: bench/pages.py)
    python -m bench expo   [--visitors 20000] [--scale large] [--smoke]  (bench/expo.py)
    python -m bench soak   [--clients 2000] [--duration 1800] [--sample-every 60]

Every run measures Hallserver, a tutorial-style Channels relay and a bare websockets broadcast
server (``--targets`` picks some), each against freshly started servers. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from .scenarios import Options, run_benchmark
from .servers import TARGETS

DEFAULTS = {
    "fanout": {"clients": 1000, "rate": 5.0, "duration": 20.0},
    "flood": {"clients": 10000},
    "idle": {"clients": 5000, "rooms": 50},
    "storm": {"clients": 2000, "rooms": 50, "rounds": 3, "targets": list(TARGETS)},
    "smoke": {"clients": 200, "rate": 10.0, "duration": 2.0, "settle": 1.0, "drain": 20.0},
    "soak": {"clients": 2000, "duration": 1800.0, "targets": ["hallserver"]},
}

HELP = {
    "fanout": "one room, one sender at a fixed rate: CPU per delivery, latency, loss",
    "flood": "venueless' flood pattern with its stop rules: clients reached",
    "idle": "server memory per idle connection",
    "storm": "many handshakes at once: failures, handshakes per second",
    "smoke": "short correctness check (everything delivered); exit code 1 on failure",
    "soak": "the flood's load held for --duration: memory and open files per minute",
}


def _targets(value: str) -> list[str]:
    names = [t.strip() for t in value.split(",") if t.strip()]
    unknown = [t for t in names if t not in TARGETS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"targets are {', '.join(TARGETS)}; got {value!r}")
    return names


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("common options")
    g.add_argument("--clients", type=int, help="members / connections / flood target")
    g.add_argument("--rate", type=float, help="fanout: messages per second (default 5)")
    g.add_argument("--duration", type=float,
                   help="fanout: seconds of sending (default 20); soak: seconds (1800)")
    g.add_argument("--targets", type=_targets, default=None,
                   help=f"comma-separated subset of {','.join(TARGETS)} (default: "
                        "hallserver,channels,websockets; storm adds uvicorn, Hallserver on "
                        "the optional uvicorn server)")
    g.add_argument("--procs", type=int, default=2,
                   help="load-generator processes (default 2; the fanout sender is one more)")
    g.add_argument("--server-procs", type=int, default=None,
                   help="server processes per target (default: fanout 1 up to 1,000 members "
                        "else 2; flood 2; idle 1; storm 1; smoke 2)")
    g.add_argument("--concurrency", type=int, default=25,
                   help="handshakes in flight per load generator while connecting (default 25)")
    g.add_argument("--settle", type=float, help="seconds to wait after joining (default 2)")
    g.add_argument("--drain", type=float,
                   help="fanout: seconds to wait for deliveries after sending (default 30)")
    g.add_argument("--timeout", type=float, default=30.0,
                   help="seconds a handshake + join may take before it counts as failed")
    g.add_argument("--redis-url", default=None,
                   help="use this Redis (on loopback) instead of starting a private one")
    g.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    g.add_argument("--json", dest="json_out", type=Path, default=None,
                   help="also write the raw result rows as JSON")
    g.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    g.add_argument("--rooms", type=int, default=None,
                   help="idle, storm: spread the clients over this many rooms (default 50; "
                        "fanout and flood always use one room)")
    g.add_argument("--inflight", type=int, default=200,
                   help="storm: handshakes in flight at once (default 200)")
    g.add_argument("--rounds", type=int, default=None,
                   help="storm: rounds against fresh servers per target; the table shows the "
                        "median round, the notes every round (default 3)")
    g.add_argument("--ramp", type=float, default=33.3,
                   help="flood: new clients per second (default 33.3)")
    g.add_argument("--hold", type=float, default=30.0,
                   help="flood: seconds to hold at full size before stopping (default 30)")
    g.add_argument("--ping-interval", type=float, default=10.0,
                   help="flood: seconds between a client's pings (default 10)")
    g.add_argument("--ping-timeout", type=float, default=10.0,
                   help="flood: a ping not answered within this many seconds is late (10)")
    g.add_argument("--chat-mean", type=float, default=15.0,
                   help="flood: mean seconds between a chatter's messages (default 15)")
    g.add_argument("--chat-fraction", type=float, default=0.001,
                   help="flood: fraction of clients that chat (default 0.001)")

    g.add_argument("--warmup", type=float, default=120.0,
                   help="soak: seconds after the ramp before growth is measured (default 120)")
    g.add_argument("--sample-every", type=float, default=60.0,
                   help="soak: seconds between memory and open-file samples (default 60)")
    g.add_argument("--churn", type=int, default=100,
                   help="soak: connections opened and closed every sample (default 100)")

    parser = argparse.ArgumentParser(
        prog="hallserver bench", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in HELP.items():
        sub.add_parser(name, parents=[common], help=text, description=text)
    return parser


def options_from(args: argparse.Namespace) -> Options:
    values = {k: v for k, v in vars(args).items() if v is not None}
    for key, value in DEFAULTS[args.command].items():
        if getattr(args, key, None) is None:
            values[key] = value
    return Options(**values)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["match"]:  # matchmaking quality: its own options (bench/match.py)
        from . import match

        return match.main(argv[1:])
    if argv[:1] == ["search"]:  # catalogue search latency per database (bench/search.py)
        from .search import main as search

        return search(argv[1:])
    if argv[:1] == ["expo"]:  # an expo day: its own options (bench/expo.py)
        from .expo import main as expo

        return expo(argv[1:])
    if argv[:1] == ["pages"]:  # a browser benchmark with options of its own
        from .pages import main as pages

        return pages(argv[1:])
    args = build_parser().parse_args(argv)
    opts = options_from(args)
    if opts.redis_url and not any(h in opts.redis_url for h in ("127.0.0.1", "localhost",
                                                                  "[::1]")):
        raise SystemExit("--redis-url must point at a loopback address")
    from . import report

    load_before = os.getloadavg()
    rows = asyncio.run(run_benchmark(opts))
    text = report.render(opts, rows, load_before)
    print(text, flush=True)
    if opts.out:
        report.write(text, opts.out)
    if opts.json_out:
        opts.json_out.write_text(json.dumps({"options": {k: str(v) for k, v in
                                                         vars(opts).items()}, "rows": rows},
                                            indent=2, default=str))
    failed = any("failure" in r for r in rows)
    if opts.command == "smoke":
        failed = failed or not all(r["ok"] for r in rows if r.get("enforced", True))
    if failed:  # also through `hallserver bench`, whose caller ignores our return value
        raise SystemExit(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
