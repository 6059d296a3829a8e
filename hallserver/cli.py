"""The ``hallserver`` command.

    hallserver demo            migrate, seed the demo expo and serve it on 127.0.0.1:8000
    hallserver serve           serve the ASGI app with daphne (settings from the environment;
                               --server uvicorn for uvicorn)
    hallserver manage ARGS...  any Django management command (migrate, createsuperuser, ...)
    hallserver bench ...       the benchmark suite (see bench/README.md)
    hallserver media-worker    an aiortc media worker for live roadshows (needs REDIS_URL)
"""

from __future__ import annotations

import argparse
import os
import sys


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hallserver.settings")
    import django

    django.setup()


def _prepare() -> None:
    """What a web process does before it serves: warm caches, then tune the collector."""
    from django.conf import settings

    from booths import runtime

    runtime.warm()
    _tune_gc(settings.HALLSERVER["GC_GEN0_THRESHOLD"])


def _tune_gc(gen0_threshold: int) -> None:
    """Keep the garbage collector's pauses off the hot paths of a long-running server.

    Everything loaded at startup (Django, the apps, the URLconf: hundreds of thousands of
    objects) lives as long as the process, so ``gc.freeze()`` moves it out of the collector's
    sight. The youngest generation is collected after ``gen0_threshold`` net allocations
    instead of 700: a profile of a handshake storm put about a tenth of the server's CPU in
    collections triggered by ordinary allocations. Reference cycles are still collected.
    """
    import gc

    gc.collect()
    gc.freeze()
    if gen0_threshold > 0:
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(gen0_threshold, gen1, gen2)


SERVERS = ("daphne", "uvicorn")


def serve(host: str, port: int, announce: str | None = None, server: str = "daphne") -> None:
    """Serve the ASGI app until interrupted: with daphne (the default, with Hallserver's direct
    delivery path) or with uvicorn (optional: ``pip install hallserver[uvicorn]``)."""
    # Settings read it: under uvicorn, daphne's Django app (which installs Twisted's reactor)
    # is left out.
    os.environ["HALLSERVER_SERVER"] = server
    if server == "uvicorn":
        _serve_uvicorn(host, port, announce)
    else:
        _serve_daphne(host, port, announce)


def _ready_line(host: str, port: int, server: str) -> str:
    from django.conf import settings

    layer = "Redis" if settings.REDIS_URL else "in-memory (single process)"
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return (f"Hallserver listening on http://{host}:{port}/  (server: {server}, database: {db}, "
            f"channel layer: {layer})")


def _flush_analytics() -> None:
    """Write the analytics events still waiting when the server stops."""
    from analytics.recorder import recorder

    try:
        recorder.flush_sync()
    except Exception:  # shutting down: say so, do not hide the exit
        import logging

        logging.getLogger(__name__).exception("analytics: last flush failed")


def _serve_daphne(host: str, port: int, announce: str | None) -> None:
    # Importing the server installs Twisted's asyncio reactor: it must come first.
    from hallserver.realtime.internals import check_internals
    from hallserver.realtime.server import HallServer

    check_internals()  # the daphne/autobahn/Twisted internals the server uses are all there
    _django()
    from django.conf import settings

    from hallserver.asgi import application

    def ready() -> None:
        print(_ready_line(host, port, "daphne"), flush=True)
        if announce:
            print(announce, flush=True)

    _prepare()
    HallServer(
        application=application,
        # Twisted listens with a backlog of 50: in a handshake storm the kernel then drops
        # SYNs and clients retry a second later. The kernel caps this at net.core.somaxconn.
        endpoints=[f"tcp:port={port}:interface={host.strip('[]')}"
                   f":backlog={settings.HALLSERVER['LISTEN_BACKLOG']}"],
        ready_callable=ready,
        # Inbound messages over HALLSERVER_MAX_FRAME_BYTES are discarded as they arrive and
        # answered frame.too_large by the protocol (HallWebSocketProtocol), so autobahn's
        # limits, which fail the connection, are off.
        inbound_limit=settings.HALLSERVER["MAX_FRAME_BYTES"],
        close_timeout=settings.HALLSERVER["SLOW_CLOSE_GRACE"],
        websocket_max_message_size=0,
        websocket_max_frame_size=0,
        websocket_timeout=-1,
        ping_interval=20,
        ping_timeout=30,
        application_close_timeout=5,
        # X-Forwarded-For is read by hallserver.forwarded (trusted proxies only), not daphne.
        verbosity=0,
    ).run()
    _flush_analytics()


def _serve_uvicorn(host: str, port: int, announce: str | None) -> None:
    """The same application under uvicorn (httptools, websockets' Sans-I/O protocol, uvloop
    when installed). There is no direct delivery path here: each connection writes through
    a bounded queue and ``send`` (``QueuedConnection``)."""
    try:
        import uvicorn
    except ImportError:
        sys.exit("hallserver: --server uvicorn needs uvicorn: pip install 'hallserver[uvicorn]'")
    _django()
    from django.conf import settings

    from hallserver.asgi import application

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:
                print(_ready_line(host, port, "uvicorn"), flush=True)
                if announce:
                    print(announce, flush=True)

    config = uvicorn.Config(
        application, host=host.strip("[]"), port=port,
        http="httptools", ws="websockets-sansio", lifespan="off",
        ws_max_size=1024 * 1024, ws_ping_interval=20, ws_ping_timeout=30,
        ws_per_message_deflate=False, backlog=settings.HALLSERVER["LISTEN_BACKLOG"],
        proxy_headers=False,  # hallserver.forwarded reads X-Forwarded-For (trusted proxies)
        log_level="warning", access_log=False, server_header=False,
    )
    _prepare()
    Server(config).run()
    _flush_analytics()


def demo(host: str, port: int, server: str = "daphne") -> None:
    os.environ["HALLSERVER_SERVER"] = server  # before Django's settings (see serve)
    _django()
    from django.core.management import call_command

    from booths.seed import seed_demo

    os.makedirs(os.environ.get("HALLSERVER_DATA_DIR", "var"), exist_ok=True)
    print("Preparing the database ...", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    report = seed_demo()
    lines = ["", "Demo accounts (user / password):"]
    lines += [f"  {a.username:<10} {a.password:<16} {a.role}" for a in report.accounts]
    lines += ["  ... or enter as a guest with any display name.",
              f"Open http://{host}:{port}/ in a browser. Ctrl+C stops the server.", ""]
    if os.environ.get("HALLSERVER_DEMO_PRESENTER", "true").lower() in ("1", "true", "yes", "on"):
        lines[-1:-1] = _demo_presenter(host, port, report)
    serve(host, port, announce="\n".join(lines), server=server)


def _demo_presenter(host: str, port: int, report) -> list[str]:
    """Start the synthetic presenter (``python -m streaming.synthetic``, the moving test
    picture) on the demo's live roadshow, as its presenter; lines for the start-up notice."""
    import subprocess

    from booths.models import Roadshow

    passwords = {a.username: a.password for a in report.accounts}
    live = (Roadshow.objects.filter(state=Roadshow.State.LIVE, presenter__isnull=False,
                                    booth__hall__expo__slug=report.expo_slug)
            .select_related("presenter").order_by("starts_at"))
    roadshow = next((r for r in live if r.presenter.username in passwords), None)
    if roadshow is None:
        return ["No live roadshow with a demo presenter: nobody presents in the demo."]
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::', '[::]') else host}:{port}"
    subprocess.Popen([sys.executable, "-m", "streaming.synthetic", "--url", url,
                      "--user", roadshow.presenter.username,
                      "--password", passwords[roadshow.presenter.username],
                      "--roadshow", str(roadshow.pk)])
    return [f"A synthetic presenter shows a test picture in the live roadshow "
            f"\"{roadshow.title}\" (HALLSERVER_DEMO_PRESENTER=false: none)."]


def media_worker(name: str | None, metrics_port: int | None, metrics_host: str) -> None:
    """Run a roadshow media worker (streaming/worker.py) until SIGTERM or SIGINT."""
    _django()
    import asyncio

    from streaming.worker import run_worker

    asyncio.run(run_worker(name, metrics_port, metrics_host))


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "manage":
        _django()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["hallserver manage", *argv[1:]])
        return
    if argv and argv[0] == "bench":
        from bench.__main__ import main as bench_main

        bench_main(argv[1:])
        return

    parser = argparse.ArgumentParser(prog="hallserver", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text, default_port in (
        ("demo", "migrate, seed the demo expo and serve it", 8000),
        ("serve", "serve Hallserver with daphne", 8000),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--host", default=os.environ.get("HALLSERVER_HOST", "127.0.0.1"))
        p.add_argument("--port", type=int,
                       default=int(os.environ.get("HALLSERVER_PORT", default_port)))
        p.add_argument("--server", choices=SERVERS,
                       default=os.environ.get("HALLSERVER_SERVER", "daphne"),
                       help="the ASGI server (default daphne; uvicorn is optional)")
    worker = sub.add_parser("media-worker", help="serve roadshow media (aiortc)")
    worker.add_argument("--name", default=os.environ.get("HALLSERVER_MEDIA_WORKER_NAME"))
    metrics_port = os.environ.get("HALLSERVER_MEDIA_WORKER_METRICS_PORT")
    worker.add_argument("--metrics-port", type=int,
                        default=int(metrics_port) if metrics_port else None,
                        help="serve Prometheus metrics at http://HOST:PORT/metrics")
    worker.add_argument("--metrics-host",
                        default=os.environ.get("HALLSERVER_MEDIA_WORKER_METRICS_HOST",
                                               "127.0.0.1"),
                        help="address of the metrics server (default 127.0.0.1)")
    sub.add_parser("manage", help="run a Django management command")
    sub.add_parser("bench", help="run the benchmark suite")
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.host, args.port, args.server)
    elif args.command == "media-worker":
        media_worker(args.name, args.metrics_port, args.metrics_host)
    else:
        serve(args.host, args.port, server=args.server)


if __name__ == "__main__":
    main()
