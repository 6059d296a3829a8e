"""The roadshow media worker: aiortc peer connections for presenters and viewers.

A worker listens on its own channel of the channel layer. Web processes send it signalling
(``media.publish``, ``media.view``, ``media.leave``, ``media.stop``); it answers browsers
directly through the hub (``roadshow.answer`` / ``roadshow.error`` to the connection address).
Workers announce themselves in the store (``workers`` hash, refreshed every few seconds) and
keep the assignment of each roadshow they serve alive (``rsworker:<id>``), so a roadshow whose
worker died is given to another one on the next publish or view.

With ``LIVE_VIDEO['WORKER_MODE'] == "inline"`` (the default without Redis) the web process runs
one worker itself, on its own event loop (:func:`inline_worker`). ``hallserver media-worker``
runs one as a process (:func:`run_worker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from hallserver.realtime.frames import event
from hallserver.realtime.hub import cancel_and_wait, hub, spawn

from .hls import HlsPackager, hls_directory, hls_url
from .models import Recording
from .passthrough import Forwarder, keep_codecs, negotiable
from .recorder import Recorder
from .store import store
from .turn import turn_credentials

log = logging.getLogger(__name__)

HEARTBEAT = 3.0
WORKER_TTL = 10.0  # a worker not seen for this long is considered gone
ASSIGNMENT_TTL = 15.0
#: The frame counters a worker keeps (``Broadcast.counts``), exported as metrics.
COUNTED = ("video_frames", "keyframes", "keyframe_requests", "dropped_frames")


def ice_configuration() -> RTCConfiguration:
    """The worker's ICE servers: WORKER_ICE_SERVERS, plus fresh TURN credentials when TURN is
    configured (aiortc uses the first STUN and the first TURN URL only)."""
    conf = settings.LIVE_VIDEO
    servers = []
    for entry in conf["WORKER_ICE_SERVERS"]:
        servers.append(RTCIceServer(urls=entry["urls"], username=entry.get("username"),
                                    credential=entry.get("credential")))
    if conf["TURN_URLS"] and conf["TURN_SECRET"]:
        username, password = turn_credentials(conf["TURN_SECRET"], "media-worker",
                                              conf["TURN_TTL"])
        servers.append(RTCIceServer(urls=list(conf["TURN_URLS"]), username=username,
                                    credential=password))
    return RTCConfiguration(iceServers=servers)


class Broadcast:
    """One roadshow on this worker: the presenter's connection and every viewer's."""

    def __init__(self, roadshow: int) -> None:
        conf = settings.LIVE_VIDEO
        self.roadshow = roadshow
        self.video = Forwarder("video", conf["KEYFRAME_INTERVAL"])
        self.audio = Forwarder("audio", conf["KEYFRAME_INTERVAL"])
        self.presenter: tuple[str, RTCPeerConnection] | None = None
        self.viewers: dict[str, RTCPeerConnection] = {}
        self.queue_frames = conf["VIEWER_QUEUE_FRAMES"]
        self.recorder: Recorder | None = None
        self.hls: HlsPackager | None = None
        # The video codec every peer of this broadcast uses (chosen by the first one).
        self.video_mime: str | None = None

    def counts(self) -> dict[str, int]:
        return {"video_frames": self.video.frames, "keyframes": self.video.keyframes,
                "keyframe_requests": self.video.keyframe_requests,
                "dropped_frames": sum(t.dropped for t in list(self.video.tracks))}

    def choose_video_codec(self, pc: RTCPeerConnection, presenter: bool) -> str:
        """The video codec for ``pc`` (after its offer is set); ValueError if none fits."""
        available = {mime.lower(): mime for mime in negotiable(pc, "video")}
        if not available:
            raise ValueError("The offer has no video.")
        if self.video_mime is not None and self.video_mime.lower() in available:
            return available[self.video_mime.lower()]
        # Nothing flows yet (or only a presenter, who is being replaced): choose again.
        if self.video_mime is None or (presenter and not self.viewers and not self.video.frames):
            for wanted in settings.LIVE_VIDEO["VIDEO_CODECS"]:
                if wanted.lower() in available:
                    self.video_mime = available[wanted.lower()]
                    return self.video_mime
            names = ", ".join(m.split("/")[-1] for m in settings.LIVE_VIDEO["VIDEO_CODECS"])
            raise ValueError(f"The offer has none of the video codecs this server uses ({names}).")
        verb = "send" if presenter else "receive"
        raise ValueError(f"This roadshow's video is {self.video_mime.split('/')[-1]}, which "
                         f"this browser does not {verb}.")

    def package(self) -> None:
        """Start the HLS stream (once per broadcast), if HLS is on."""
        conf = settings.LIVE_VIDEO
        if self.hls is not None or not conf["HLS"]:
            return
        self.hls = HlsPackager(hls_directory(conf["MEDIA_DIR"], self.roadshow), self.video,
                               self.audio, conf["HLS_SEGMENT_SECONDS"], conf["HLS_LIST_SIZE"])

    def record(self) -> None:
        """Start recording (once per broadcast), if recordings are on."""
        conf = settings.LIVE_VIDEO
        if self.recorder is not None or not conf["RECORD"]:
            return
        name = f"roadshow-{self.roadshow}-{time.strftime('%Y%m%d-%H%M%S')}"
        self.recorder = Recorder(Path(conf["MEDIA_DIR"]) / "recordings" / name,
                                 self.video, self.audio)

    async def finish_recording(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        size = recorder.close()
        if size:
            rel = recorder.path.relative_to(Path(settings.LIVE_VIDEO["MEDIA_DIR"]))
            await database_sync_to_async(Recording.objects.create)(
                roadshow_id=self.roadshow, path=str(rel), size=size,
                started_at=datetime.fromtimestamp(recorder.started_at, UTC),
                ended_at=datetime.now(UTC))

    async def close(self) -> None:
        await self.finish_recording()
        if self.hls is not None:
            self.hls.close()  # the playlist gets its end mark: players stop
            self.hls = None
        self.video.close()
        self.audio.close()
        pcs = list(self.viewers.values())
        if self.presenter is not None:
            pcs.append(self.presenter[1])
        self.presenter = None
        self.viewers.clear()
        await asyncio.gather(*(pc.close() for pc in pcs), return_exceptions=True)


class MediaWorker:
    def __init__(self, name: str | None = None) -> None:
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.broadcasts: dict[int, Broadcast] = {}
        self.channel: str | None = None
        self.layer = None
        self._tasks: list[asyncio.Task] = []
        self.handled = 0
        #: Frame counts of the roadshows this worker has closed (metrics only grow).
        self.retired = dict.fromkeys(COUNTED, 0)

    def counted(self, broadcasts: list[Broadcast] | None = None) -> dict[str, int]:
        """Frame counts over the worker's life: closed roadshows and the current ones."""
        totals = dict(self.retired)
        for b in self.broadcasts.values() if broadcasts is None else broadcasts:
            for name, value in b.counts().items():
                totals[name] += value
        return totals

    @property
    def load(self) -> int:
        return sum(len(b.viewers) + (1 if b.presenter else 0) for b in self.broadcasts.values())

    async def start(self) -> None:
        await hub.start()  # to answer browsers by connection address
        self.layer = get_channel_layer()
        self.channel = await self.layer.new_channel("media.")
        await self._announce()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._receive_loop(), name="media-receive"),
                       loop.create_task(self._heartbeat_loop(), name="media-heartbeat")]
        log.info("media worker %s listening on %s", self.name, self.channel)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        await cancel_and_wait(tasks)
        for roadshow in list(self.broadcasts):
            await self.stop_roadshow(roadshow)
        if self.channel:
            with contextlib.suppress(Exception):
                await store().hdel("workers", self.channel)

    async def _announce(self) -> None:
        kv = store()
        await kv.hset("workers", self.channel, {"name": self.name, "seen": time.time(),
                                                "load": self.load})
        for roadshow in self.broadcasts:
            await kv.set(f"rsworker:{roadshow}", self.channel, ttl=ASSIGNMENT_TTL)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self._announce()
            except Exception:
                log.warning("media worker heartbeat failed", exc_info=True)

    async def _receive_loop(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("media worker receive failed; retrying")
                await asyncio.sleep(0.5)
                continue
            spawn(self.handle(message))

    async def handle(self, message: dict) -> None:
        kind = message.get("type")
        self.handled += 1
        try:
            if kind == "media.publish":
                await self.publish(message["roadshow"], message["addr"], message["sdp"])
            elif kind == "media.view":
                await self.view(message["roadshow"], message["addr"], message["sdp"])
            elif kind == "media.leave":
                await self.leave(message["roadshow"], message["addr"])
            elif kind == "media.stop":
                await self.stop_roadshow(message["roadshow"])
            elif kind == "media.stats":
                await self.layer.send(message["reply_to"], {"type": "media.stats.reply",
                                                            "stats": self.stats()})
        except Exception:
            log.exception("media worker could not handle %s", kind)
            addr = message.get("addr")
            if addr:
                await self.error(addr, message.get("roadshow"), "server.error",
                                 "The media worker failed; try again.")

    def stats(self) -> dict:
        return {"name": self.name, "broadcasts": {
            str(r): {"viewers": len(b.viewers), "presenter": b.presenter is not None,
                     "codec": b.video_mime, "hls": bool(b.hls and b.hls.ready),
                     "frames": b.video.frames, "keyframes": b.video.keyframes,
                     "keyframe_requests": b.video.keyframe_requests,
                     "dropped": sum(t.dropped for t in b.video.tracks)}
            for r, b in self.broadcasts.items()}}

    def broadcast(self, roadshow: int) -> Broadcast:
        b = self.broadcasts.get(roadshow)
        if b is None:
            b = self.broadcasts[roadshow] = Broadcast(roadshow)
        return b

    async def deliver(self, addr: str, text: str) -> None:
        """Send a frame to a browser's connection (through the hub, on whatever process)."""
        await hub.to_connection(addr, text)

    async def error(self, addr: str, roadshow: int | None, code: str, message: str) -> None:
        await self.deliver(addr, event("roadshow.error", {"roadshow": roadshow,
                                                                "code": code,
                                                                "message": message}))

    async def _answer(self, pc: RTCPeerConnection, addr: str, b: Broadcast, sdp: str,
                      prepare, presenter: bool) -> bool:
        roadshow = b.roadshow
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            video_mime = b.choose_video_codec(pc, presenter)
        except Exception as exc:
            await pc.close()
            await self.error(addr, roadshow, "sdp.invalid", f"The offer was refused: {exc}"[:300])
            return False
        keep_codecs(pc, "video", video_mime)
        keep_codecs(pc, "audio", "audio/opus")
        prepare(pc)
        await pc.setLocalDescription(await pc.createAnswer())
        await self.deliver(addr, event("roadshow.answer", {
            "roadshow": roadshow, "sdp": pc.localDescription.sdp}))
        return True

    async def publish(self, roadshow: int, addr: str, sdp: str) -> None:
        b = self.broadcast(roadshow)
        if b.presenter is not None:
            old_pc = b.presenter[1]
            b.presenter = None
            await old_pc.close()
        pc = RTCPeerConnection(ice_configuration())

        def prepare(pc: RTCPeerConnection) -> None:
            for transceiver in pc.getTransceivers():
                forwarder = b.video if transceiver.kind == "video" else b.audio
                forwarder.attach(transceiver.receiver)

        b.presenter = (addr, pc)
        self._watch(pc, roadshow, addr)
        if not await self._answer(pc, addr, b, sdp, prepare, presenter=True):
            if b.presenter and b.presenter[1] is pc:
                b.presenter = None
            return
        b.record()
        b.package()
        await self._announce()

    async def view(self, roadshow: int, addr: str, sdp: str) -> None:
        b = self.broadcast(roadshow)
        if len(b.viewers) >= settings.LIVE_VIDEO["MAX_WEBRTC_VIEWERS"] and addr not in b.viewers:
            if b.hls is not None and b.hls.ready:
                await self.deliver(addr, event("roadshow.hls", {"roadshow": roadshow,
                                                                "url": hls_url(roadshow)}))
                return
            await self.error(addr, roadshow, "media.unavailable",
                             "This roadshow has as many viewers as it can serve.")
            return
        old = b.viewers.pop(addr, None)
        if old is not None:
            await old.close()
        pc = RTCPeerConnection(ice_configuration())

        def prepare(pc: RTCPeerConnection) -> None:
            for transceiver in pc.getTransceivers():
                forwarder = b.video if transceiver.kind == "video" else b.audio
                sender = pc.addTrack(forwarder.subscribe(b.queue_frames))
                if transceiver.kind == "video":
                    forwarder.forward_viewer_requests(sender)

        b.viewers[addr] = pc
        self._watch(pc, roadshow, addr)
        answered = await self._answer(pc, addr, b, sdp, prepare, presenter=False)
        if not answered and b.viewers.get(addr) is pc:
            del b.viewers[addr]

    def _watch(self, pc: RTCPeerConnection, roadshow: int, addr: str) -> None:
        @pc.on("connectionstatechange")
        async def changed() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._forget(roadshow, addr, pc)

    async def _forget(self, roadshow: int, addr: str, pc: RTCPeerConnection) -> None:
        b = self.broadcasts.get(roadshow)
        if b is None:
            return
        if b.presenter and b.presenter[1] is pc:
            b.presenter = None
        if b.viewers.get(addr) is pc:
            del b.viewers[addr]
        for sender in pc.getSenders():
            if sender.track is not None:
                sender.track.stop()
        await pc.close()

    async def leave(self, roadshow: int, addr: str) -> None:
        b = self.broadcasts.get(roadshow)
        if b is None:
            return
        pc = b.viewers.get(addr)
        if pc is None and b.presenter and b.presenter[0] == addr:
            pc = b.presenter[1]
        if pc is not None:
            await self._forget(roadshow, addr, pc)

    async def stop_roadshow(self, roadshow: int) -> None:
        b = self.broadcasts.pop(roadshow, None)
        if b is not None:
            for name, value in b.counts().items():
                self.retired[name] += value
            await b.close()
        await store().delete_if(f"rsworker:{roadshow}", self.channel)


# --- running a worker ---------------------------------------------------------------------------

_inline: dict[asyncio.AbstractEventLoop, MediaWorker] = {}


async def inline_worker() -> MediaWorker:
    """The worker of this process and event loop (inline mode), started on first use."""
    loop = asyncio.get_running_loop()
    worker = _inline.get(loop)
    if worker is None:
        worker = _inline[loop] = MediaWorker(f"inline-{os.getpid()}")
        await worker.start()
    return worker


async def run_worker(name: str | None = None, metrics_port: int | None = None,
                     metrics_host: str = "127.0.0.1") -> None:
    """``hallserver media-worker``: serve roadshow media until SIGTERM or SIGINT (and its
    metrics on ``metrics_port``, when given)."""
    worker = MediaWorker(name)
    await worker.start()
    if metrics_port is not None:
        from .worker_metrics import serve

        server = serve(worker, metrics_port, metrics_host)
        print(f"media worker metrics on http://{metrics_host}:{server.server_address[1]}"
              "/metrics", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    print(f"Hallserver media worker {worker.name} ready on {worker.channel}", flush=True)
    await stopping.wait()
    await worker.stop()
    await hub.stop()
