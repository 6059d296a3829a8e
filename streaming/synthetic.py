"""Synthetic roadshow participants on aiortc, for the media tests and the media benchmark.

:class:`PatternTrack` is a moving test picture; :class:`FrameCounter` consumes a received track
and counts decoded frames (with the time of the first one). The signalling helpers take a
``call(action, data)`` coroutine and a ``wait_answer()`` coroutine, so they work over any
protocol client (the consumer test client, a real WebSocket).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import av
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack


class PatternTrack(VideoStreamTrack):
    """A moving grey-ramp picture at 30 frames per second."""

    def __init__(self, width: int = 320, height: int = 240) -> None:
        super().__init__()
        self.width, self.height = width, height
        ramp = bytes(range(256)) * (2 * width // 256 + 2)
        self._rows = ramp
        self._chroma = bytes([128]) * (width // 2 * height // 2)
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        shift = (self.count * 4) % 256
        row = self._rows[shift:shift + self.width]
        frame.planes[0].update(row * self.height)
        frame.planes[1].update(self._chroma)
        frame.planes[2].update(self._chroma)
        frame.pts, frame.time_base = pts, time_base
        self.count += 1
        return frame


class FrameCounter:
    """Reads a remote track until it ends, counting frames."""

    def __init__(self, track: MediaStreamTrack) -> None:
        self.track = track
        self.frames = 0
        self.first_at: float | None = None
        self.width = 0
        self.started = time.monotonic()
        self.changed = asyncio.Event()
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        with contextlib.suppress(MediaStreamError, asyncio.CancelledError):
            while True:
                frame = await self.track.recv()
                if self.first_at is None:
                    self.first_at = time.monotonic()
                self.frames += 1
                self.width = getattr(frame, "width", 0)
                self.changed.set()

    async def wait_frames(self, n: int, within: float) -> bool:
        """Whether ``n`` frames arrived within ``within`` seconds (a deadline, not a speed)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while self.frames < n:
                    self.changed.clear()
                    await self.changed.wait()
        return self.frames >= n

    def stop(self) -> None:
        self.task.cancel()


Call = Callable[[str, dict], Awaitable[dict]]
WaitAnswer = Callable[[], Awaitable[dict]]


def peer() -> RTCPeerConnection:
    """A peer connection with ICE on the local network only."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


async def present(call: Call, wait_answer: WaitAnswer, roadshow: int,
                  track: MediaStreamTrack | None = None) -> tuple[RTCPeerConnection,
                                                                  MediaStreamTrack]:
    pc = peer()
    track = track or PatternTrack()
    pc.addTransceiver(track, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    await call("roadshow.publish", {"roadshow": roadshow, "sdp": pc.localDescription.sdp})
    answer = await wait_answer()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    return pc, track


async def view(call: Call, wait_answer: WaitAnswer, roadshow: int
               ) -> tuple[RTCPeerConnection, asyncio.Future]:
    """Start viewing; the future resolves to a :class:`FrameCounter` when the track arrives."""
    pc = peer()
    loop = asyncio.get_running_loop()
    counter: asyncio.Future = loop.create_future()

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "video" and not counter.done():
            counter.set_result(FrameCounter(track))

    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    await call("roadshow.view", {"roadshow": roadshow, "sdp": pc.localDescription.sdp})
    answer = await wait_answer()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    return pc, counter
