"""Media benchmark: one presenter → N aiortc viewers through a roadshow media worker.

    python -m bench.media [--viewers 50] [--procs 3] [--duration 20] [--warmup 5]
                          [--width 640] [--height 480] [--codec H264|VP8]
                          [--modes passthrough,passthrough+hls,relay]
                          [--signals 500] [--signal-rate 50] [--redis-url URL] [--json FILE]

Two modes, measured in the same run against freshly started worker processes:

- ``passthrough``: Hallserver's media worker (``streaming.worker.MediaWorker``, the same code
  that serves roadshows) forwarding the presenter's encoded frames to every viewer;
- ``passthrough+hls``: the same, also cutting the live HLS stream (as it does in production for
  H.264 roadshows; with ``--codec VP8`` there is no HLS and this equals ``passthrough``);
- ``relay``: stock aiortc, the presenter's track behind ``MediaRelay`` and one
  ``RTCRtpSender`` per viewer, which decodes once and re-encodes for every viewer.

The presenter (an aiortc encoder of ``--codec``, H.264 by default, on a moving test picture,
30 fps) runs in its own process,
the viewers are split over ``--procs`` load-generator processes. Viewers count frames as they
leave the jitter buffer, without decoding them (so the load generators stay light), and RTP
loss from their receivers' statistics. Signalling is a line of JSON over a local TCP socket.

Reported per mode: viewers connected, per-viewer fps (mean, min, 5th percentile), RTP packet
loss, and the worker process's CPU (cores: CPU seconds / wall seconds) and memory.

Then the signalling relay: a booth call between a staff member on one ``hallserver serve``
process and a guest on another (a private redis-server between them, or ``--redis-url``);
``--signals`` ICE candidates are sent one at a time and timed from send to arrival (p50, p90,
p99, max). Alternating with them, the same hop through a floor: two bare ``websockets`` relays
on the same Redis (``bench.baselines.ws_broadcast --redis``), client → process → Redis →
process → client, so a slow tail that the floor shares is the machine's. The share of the
window the web processes waited for a CPU is reported too.

``--viewers 0`` skips the media part (``python -m bench.media --viewers 0 --signals 500`` times
the signalling only); ``--signals 0`` skips the signalling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import statistics
import sys
import time
from typing import Any

from .procstat import cpu_seconds, rss_bytes

ROADSHOW = 1


# --- the worker process ------------------------------------------------------------------------

def _django(mode: str = "passthrough") -> None:
    import tempfile

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hallserver.settings")
    os.environ.pop("REDIS_URL", None)  # the worker's store stays in memory here
    os.environ["HALLSERVER_LOG_LEVEL"] = "WARNING"
    os.environ["HALLSERVER_RECORD_ROADSHOWS"] = "false"  # forwarding (and HLS) only
    os.environ["HALLSERVER_HLS"] = "true" if mode == "passthrough+hls" else "false"
    os.environ["HALLSERVER_MEDIA_DIR"] = tempfile.mkdtemp(prefix="bench-media-")
    import django

    django.setup()


async def _serve_lines(handler, ready: Any) -> None:
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                answer = await handler(json.loads(line))
                writer.write(json.dumps(answer).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", 0, limit=1 << 20)
    ready.put(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def worker_main(mode: str, ready: Any) -> None:
    _django(mode)
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.contrib.media import MediaRelay

    from streaming.passthrough import keep_codecs
    from streaming.synthetic import peer
    from streaming.worker import MediaWorker

    async def run() -> None:
        if mode.startswith("passthrough"):
            answers: dict[str, asyncio.Future] = {}

            class BenchWorker(MediaWorker):
                async def deliver(self, addr: str, text: str) -> None:
                    future = answers.pop(addr, None)
                    if future is not None and not future.done():
                        future.set_result(json.loads(text))

                async def _announce(self) -> None:
                    pass

            worker = BenchWorker("bench")
            counter = iter(range(1, 1 << 30))

            async def handle(request: dict) -> dict:
                addr = f"bench|{next(counter)}"
                future = answers[addr] = asyncio.get_running_loop().create_future()
                if request["role"] == "presenter":
                    await worker.publish(ROADSHOW, addr, request["sdp"])
                else:
                    await worker.view(ROADSHOW, addr, request["sdp"])
                frame = await future
                if frame["event"] != "roadshow.answer":
                    return {"error": frame["data"]}
                return {"sdp": frame["data"]["sdp"]}
        else:
            relay = MediaRelay()
            source: asyncio.Future = asyncio.get_running_loop().create_future()
            pcs: list[RTCPeerConnection] = []

            async def handle(request: dict) -> dict:
                pc = peer()
                pcs.append(pc)
                if request["role"] == "presenter":
                    @pc.on("track")
                    def on_track(track) -> None:
                        if track.kind == "video" and not source.done():
                            source.set_result(track)
                await pc.setRemoteDescription(RTCSessionDescription(request["sdp"], "offer"))
                keep_codecs(pc, "video", os.environ["HALLSERVER_VIDEO_CODECS"].join(
                    ("video/", "")))
                if request["role"] == "viewer":
                    pc.addTrack(relay.subscribe(await source))
                await pc.setLocalDescription(await pc.createAnswer())
                return {"sdp": pc.localDescription.sdp}

        await _serve_lines(handle, ready)

    asyncio.run(run())


# --- presenter and viewers -------------------------------------------------------------------

async def _signal(port: int, role: str, sdp: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(json.dumps({"role": role, "sdp": sdp}).encode() + b"\n")
    await writer.drain()
    answer = json.loads(await reader.readline())
    writer.close()
    if "sdp" not in answer:
        raise RuntimeError(answer)
    return answer["sdp"]


def presenter_main(port: int, width: int, height: int, done: Any) -> None:
    from aiortc import RTCSessionDescription

    from streaming.synthetic import PatternTrack, peer

    async def run() -> None:
        pc = peer()
        pc.addTransceiver(PatternTrack(width, height), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = await _signal(port, "presenter", pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        await asyncio.to_thread(done.wait)
        await pc.close()

    asyncio.run(run())


def viewers_main(port: int, count: int, connected: Any, measure: Any, stop: Any,
                 results: Any) -> None:
    from aiortc import RTCSessionDescription

    from streaming.passthrough import tap_receiver
    from streaming.synthetic import peer

    async def one(sem: asyncio.Semaphore) -> dict:
        state = {"frames": 0, "receiver": None, "pc": None}
        async with sem:
            pc = peer()
            state["pc"] = pc
            transceiver = pc.addTransceiver("video", direction="recvonly")
            state["receiver"] = transceiver.receiver

            def count_frame(codec, frame) -> None:
                state["frames"] += 1

            tap_receiver(transceiver.receiver, count_frame)
            await pc.setLocalDescription(await pc.createOffer())
            try:
                sdp = await _signal(port, "viewer", pc.localDescription.sdp)
                await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
            except Exception as exc:  # counted as not connected
                state["error"] = repr(exc)
        return state

    async def rtp(state: dict) -> tuple[int, int]:
        received = lost = 0
        with contextlib.suppress(Exception):
            for stat in (await state["receiver"].getStats()).values():
                if getattr(stat, "type", "") == "inbound-rtp":
                    received += stat.packetsReceived
                    lost += max(0, stat.packetsLost)
        return received, lost

    async def run() -> None:
        sem = asyncio.Semaphore(8)
        states = await asyncio.gather(*(one(sem) for _ in range(count)))
        connected.put(sum(1 for s in states if "error" not in s))
        await asyncio.to_thread(measure.wait)
        t0 = time.monotonic()
        before = [(s["frames"], *(await rtp(s))) for s in states]
        await asyncio.to_thread(stop.wait)
        elapsed = time.monotonic() - t0
        after = [(s["frames"], *(await rtp(s))) for s in states]
        out = []
        for (f0, r0, l0), (f1, r1, l1), s in zip(before, after, states, strict=True):
            if "error" in s:
                continue
            received, lost = r1 - r0, l1 - l0
            out.append({"fps": (f1 - f0) / elapsed, "received": received, "lost": lost})
        results.put(out)
        await asyncio.gather(*(s["pc"].close() for s in states), return_exceptions=True)

    asyncio.run(run())


# --- one run ---------------------------------------------------------------------------------

def run_mode(mode: str, args: argparse.Namespace) -> dict:
    ctx = mp.get_context("spawn")
    ready, connected, results = ctx.Queue(), ctx.Queue(), ctx.Queue()
    done, measure, stop = ctx.Event(), ctx.Event(), ctx.Event()
    worker = ctx.Process(target=worker_main, args=(mode, ready), daemon=True)
    worker.start()
    port = ready.get(timeout=60)
    presenter = ctx.Process(target=presenter_main,
                            args=(port, args.width, args.height, done), daemon=True)
    presenter.start()
    time.sleep(2)  # the presenter is connected before the viewers come
    split = [args.viewers // args.procs + (1 if i < args.viewers % args.procs else 0)
             for i in range(args.procs)]
    loadgens = [ctx.Process(target=viewers_main,
                            args=(port, n, connected, measure, stop, results), daemon=True)
                for n in split if n]
    for p in loadgens:
        p.start()
    ok = sum(connected.get(timeout=300) for _ in loadgens)
    time.sleep(args.warmup)
    cpu0, t0 = cpu_seconds(worker.pid), time.monotonic()
    measure.set()
    time.sleep(args.duration)
    stop.set()
    cpu1, t1 = cpu_seconds(worker.pid), time.monotonic()
    rss = rss_bytes(worker.pid)
    viewers = [v for _ in loadgens for v in results.get(timeout=120)]
    done.set()
    for p in [*loadgens, presenter]:
        p.join(10)
    worker.terminate()
    worker.join(10)
    fps = sorted(v["fps"] for v in viewers) or [0.0]
    received = sum(v["received"] for v in viewers)
    lost = sum(v["lost"] for v in viewers)
    return {
        "mode": mode, "viewers": args.viewers, "connected": ok,
        "fps_mean": statistics.fmean(fps), "fps_min": fps[0],
        "fps_p5": fps[max(0, int(len(fps) * 0.05) - 1)] if len(fps) > 1 else fps[0],
        "loss_pct": 100.0 * lost / (received + lost) if received + lost else 0.0,
        "worker_cores": (cpu1 - cpu0) / (t1 - t0), "worker_rss_mb": rss / 2**20,
        "resolution": f"{args.width}x{args.height}", "duration": args.duration,
        "codec": args.codec,
    }


# --- signalling relay between two web processes ---------------------------------------------

def _login_cookie(port: int, username: str, password: str) -> str:
    from .servers import _cookie_value, _http

    _, _, set_cookies = _http(port, "GET", "/api/session")
    csrf = _cookie_value(set_cookies, "csrftoken")
    status, data, set_cookies = _http(
        port, "POST", "/api/login", json.dumps({"username": username, "password": password})
        .encode(), {"Content-Type": "application/json", "X-CSRFToken": csrf,
                    "Cookie": f"csrftoken={csrf}"})
    session = _cookie_value(set_cookies, "sessionid")
    if status != 200 or session is None:
        raise RuntimeError(f"POST /api/login answered {status}: {data}")
    return f"sessionid={session}"


class _Peer:
    """A protocol client on a real WebSocket that stamps when signals arrive."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port, self.cookie = port, cookie
        self.ids = iter(range(1, 1 << 30))
        self.replies: dict[int, asyncio.Future] = {}
        self.events: asyncio.Queue = asyncio.Queue()

    async def open(self) -> dict:
        import websockets

        self.ws = await websockets.connect(
            f"ws://127.0.0.1:{self.port}/ws/", origin=f"http://127.0.0.1:{self.port}",
            additional_headers={"Cookie": self.cookie}, max_size=None)
        ready = json.loads(await self.ws.recv())
        self.reader = asyncio.ensure_future(self._read())
        return ready["data"]["user"]

    async def _read(self) -> None:
        async for text in self.ws:
            at = time.perf_counter()
            frame = json.loads(text)
            if "reply" in frame and frame["reply"] in self.replies:
                self.replies.pop(frame["reply"]).set_result(frame)
            elif "event" in frame:
                await self.events.put((at, frame))

    async def call(self, action: str, data: dict) -> dict:
        rid = next(self.ids)
        future = self.replies[rid] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"action": action, "id": rid, "data": data}))
        frame = await asyncio.wait_for(future, 10)
        if not frame["ok"]:
            raise RuntimeError(frame["error"])
        return frame["data"]

    async def event(self, name: str) -> tuple[float, dict]:
        while True:
            at, frame = await asyncio.wait_for(self.events.get(), 10)
            if frame["event"] == name:
                return at, frame["data"]


class _FloorPeers:
    """The floor for the signalling hop: two bare ``websockets`` relays (``bench.baselines.
    ws_broadcast --redis``) on the same Redis, a sender on one and a receiver on the other, so
    a frame takes the same hops as a signal (client → process → Redis → process → client)
    with nothing of Hallserver in between."""

    def __init__(self, sender_port: int, receiver_port: int) -> None:
        self.ports = (sender_port, receiver_port)
        self.arrivals: asyncio.Queue = asyncio.Queue()

    async def open(self) -> None:
        import websockets

        self.sender, self.receiver = [
            await websockets.connect(f"ws://127.0.0.1:{port}/ws/signal/", compression=None,
                                     max_size=None)
            for port in self.ports]
        self.readers = [asyncio.ensure_future(self._read(self.receiver, self.arrivals)),
                        asyncio.ensure_future(self._read(self.sender, None))]  # its own echo
        # The receiver's relay subscribes when it sees its first member: probe until a frame
        # gets through.
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(TimeoutError):
                await self.hop(-1, within=0.2)
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the floor relays did not pass a frame within 10 s")

    @staticmethod
    async def _read(ws: Any, arrivals: asyncio.Queue | None) -> None:
        with contextlib.suppress(Exception):
            async for text in ws:
                if arrivals is not None:
                    arrivals.put_nowait((time.perf_counter(), text))

    async def hop(self, n: int, within: float = 10.0) -> float:
        """Seconds from sending frame ``n`` to its arrival at the receiver."""
        text = json.dumps({"event": "call.signal", "data": {
            "candidate": f"candidate:{n} 1 udp 1 127.0.0.1 {n} typ host"}, "n": n})
        sent = time.perf_counter()
        await self.sender.send(text)
        while True:
            at, got = await asyncio.wait_for(self.arrivals.get(), within)
            if got == text:
                return at - sent

    async def close(self) -> None:
        for ws in (self.sender, self.receiver):
            await ws.close()
        for reader in self.readers:
            reader.cancel()


def _percentiles(samples: list[float]) -> dict:
    """p50/p90/p99/max in milliseconds (nearest rank) and the samples in order."""
    ranked = sorted(samples)

    def at(p: float) -> float:
        return 1000 * ranked[max(0, math.ceil(len(ranked) * p / 100) - 1)]

    return {"count": len(samples), "p50_ms": at(50), "p90_ms": at(90), "p99_ms": at(99),
            "max_ms": 1000 * ranked[-1], "samples_ms": [round(1000 * x, 3) for x in samples]}


def signalling_latency(args: argparse.Namespace) -> dict:
    """``call.signal`` from one web process to the peer on the other (via Redis), and the floor.

    Each signal is followed, half a period later, by a frame through the floor
    (:class:`_FloorPeers`), so both see the same machine; the share of the window the server
    processes (and Redis) spent waiting for a CPU says how busy that machine was.
    """
    import tempfile
    from pathlib import Path

    from .procstat import CpuMeter
    from .servers import HOST, Proc, Redis, base_env, free_port, prepare_hallserver_db

    async def run(log_dir: Path) -> dict:
        redis = Redis(log_dir, args.redis_url)
        await redis.start()
        env = prepare_hallserver_db(log_dir / "data")
        prefix = f"bm{os.getpid()}:"
        env.update(REDIS_URL=redis.url, HALLSERVER_REDIS_PREFIX=prefix,
                   HALLSERVER_RATE_ACTIONS_CONNECTION="100000/second")
        procs = []
        try:
            for name in ("web1", "web2"):
                port = free_port()
                proc = Proc(name, [sys.executable, "-m", "hallserver", "serve", "--host", HOST,
                                   "--port", str(port)], env, log_dir, port)
                procs.append(proc)
                await proc.wait_listening()
            floor_procs = []
            for name in ("floor1", "floor2"):
                port = free_port()
                proc = Proc(name, [sys.executable, "-m", "bench.baselines.ws_broadcast",
                                   "--port", str(port), "--redis", redis.url,
                                   "--prefix", prefix + "floor:"], base_env(), log_dir, port)
                procs.append(proc)
                floor_procs.append(proc)
                await proc.wait_listening()
            from .servers import guest_cookie

            staff = _Peer(procs[0].port, _login_cookie(procs[0].port, "exhibitor",
                                                       "exhibitor-demo"))
            guest = _Peer(procs[1].port, guest_cookie(procs[1].port, "bench-caller"))
            floor = _FloorPeers(floor_procs[0].port, floor_procs[1].port)
            booth = (await staff.open())["staff_of"][0]
            await guest.open()
            await floor.open()
            await staff.call("call.listen", {"booths": [booth]})
            knock = await guest.call("call.knock", {"booth": booth})
            call = (await staff.call("call.accept", {"knock": knock["knock"]}))["call"]
            await guest.event("call.accepted")

            async def signal(n: int) -> float:
                candidate = {"candidate": f"candidate:{n} 1 udp 1 127.0.0.1 {n} typ host",
                             "sdpMid": "0", "sdpMLineIndex": 0}
                sent = time.perf_counter()
                await staff.call("call.signal", {"call": call, "type": "candidate",
                                                 "candidate": candidate})
                at, _ = await guest.event("call.signal")
                return at - sent

            # One unmeasured round first: first-use set-up is not a signalling cost.
            await signal(-1)
            await floor.hop(-2)
            half = 0.5 / args.signal_rate
            samples, floor_samples = [], []
            servers = [procs[0].pid, procs[1].pid]
            meter = CpuMeter(servers + ([redis.pid] if redis.pid else []))
            meter.start()
            started = time.monotonic()
            for n in range(args.signals):
                samples.append(await signal(n))
                await asyncio.sleep(half)
                floor_samples.append(await floor.hop(n))
                await asyncio.sleep(half)
            meter.stop()
            elapsed = time.monotonic() - started
            await guest.call("call.hangup", {"call": call})
            await floor.close()
        finally:
            for proc in procs:
                proc.stop()
            redis.stop()
        result = _percentiles(samples)
        result.update(signals=len(samples), floor=_percentiles(floor_samples),
                      server_wait_pct=100 * meter.waited(servers) / elapsed,
                      redis_wait_pct=(100 * meter.waited([redis.pid]) / elapsed
                                      if redis.pid else None))
        return result

    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
        return asyncio.run(run(Path(tmp)))


def signalling_report(latency: dict) -> str:
    floor = latency["floor"]
    redis_wait = latency["redis_wait_pct"]
    return "\n".join([
        f"call.signal relay between two processes (Redis), {latency['signals']} signals: "
        f"p50 {latency['p50_ms']:.1f} ms, p90 {latency['p90_ms']:.1f} ms, "
        f"p99 {latency['p99_ms']:.1f} ms, max {latency['max_ms']:.1f} ms",
        f"floor (bare websockets relays on the same Redis, alternating with the signals): "
        f"p50 {floor['p50_ms']:.1f} ms, p90 {floor['p90_ms']:.1f} ms, "
        f"p99 {floor['p99_ms']:.1f} ms, max {floor['max_ms']:.1f} ms",
        f"the two web processes waited for a CPU {latency['server_wait_pct']:.1f}% of the "
        f"window (summed)" + (f", Redis {redis_wait:.1f}%" if redis_wait is not None else "")
        + ("; the machine was oversubscribed: the tail says more about it than about the "
           "relay (compare the floor's)" if latency["server_wait_pct"] >= 10 else ""),
    ])


def table(rows: list[dict]) -> str:
    lines = ["| mode | viewers (connected) | fps mean | fps min | fps p5 | RTP loss | "
             "worker CPU (cores) | worker RSS |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['mode']}, {r.get('codec', 'VP8')} | {r['viewers']} ({r['connected']}) | "
            f"{r['fps_mean']:.1f} | "
            f"{r['fps_min']:.1f} | {r['fps_p5']:.1f} | {r['loss_pct']:.2f}% | "
            f"{r['worker_cores']:.2f} | {r['worker_rss_mb']:.0f} MiB |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.media", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=50,
                        help="viewers per media mode (0: skip the media part)")
    parser.add_argument("--procs", type=int, default=3, help="load-generator processes")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--codec", choices=("H264", "VP8"), default="H264",
                        help="the presenter's video codec (the worker forwards it as it is)")
    parser.add_argument("--modes", default="passthrough,passthrough+hls,relay")
    parser.add_argument("--signals", type=int, default=500,
                        help="call.signal messages timed between two web processes (0: skip)")
    parser.add_argument("--signal-rate", type=float, default=50.0, help="signals per second")
    parser.add_argument("--redis-url", help="an existing Redis (default: a private one)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    os.environ["HALLSERVER_VIDEO_CODECS"] = args.codec  # read by the worker processes
    rows = []
    modes = [m.strip() for m in args.modes.split(",") if m.strip()] if args.viewers > 0 else []
    for mode in modes:
        if mode not in ("passthrough", "passthrough+hls", "relay"):
            parser.error(f"unknown mode {mode!r}")
        print(f"running {mode}: 1 presenter → {args.viewers} viewers in {args.procs} "
              f"processes, {args.codec} {args.width}x{args.height}, {args.duration:g} s ...",
              file=sys.stderr, flush=True)
        rows.append(run_mode(mode, args))
    if rows:
        print(table(rows) + "\n")
    result: dict[str, Any] = {"media": rows}
    if args.signals > 0:
        print("timing call.signal between two web processes ...", file=sys.stderr, flush=True)
        latency = result["signalling"] = signalling_latency(args)
        print(signalling_report(latency))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
