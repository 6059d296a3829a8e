"""Synthetic roadshow participants on aiortc, for the media tests and the media benchmark.

:class:`PatternTrack` is a moving test picture; :class:`FrameCounter` consumes a received track
and counts decoded frames (with the time of the first one). The signalling helpers take a
``call(action, data)`` coroutine and a ``wait_answer()`` coroutine, so they work over any
protocol client (the consumer test client, a real WebSocket: :class:`WsSession`).

``python -m streaming.synthetic`` is the demo's synthetic presenter (:func:`present_forever`),
which ``hallserver demo`` starts on the demo's live roadshow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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

log = logging.getLogger(__name__)


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


# --- the demo's presenter ------------------------------------------------------------------------

class WsSession:
    """A logged-in protocol client over a real WebSocket (the ``websockets`` library): what a
    browser does, for the demo's synthetic presenter and for system tests."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.cookies = ""
        self.ws = None
        self._next = 0
        self._replies: dict[int, asyncio.Future] = {}
        self._events: asyncio.Queue = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    async def login(self, username: str, password: str) -> None:
        """Log in through the HTTP API (``/api/session`` for the CSRF cookie, ``/api/login``)."""
        import http.cookiejar
        import json
        import urllib.request

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def run() -> None:
            opener.open(f"{self.base_url}/api/session", timeout=10).read()
            csrf = next(c.value for c in jar if c.name == "csrftoken")
            body = json.dumps({"username": username, "password": password}).encode()
            request = urllib.request.Request(
                f"{self.base_url}/api/login", data=body, method="POST",
                headers={"Content-Type": "application/json", "X-CSRFToken": csrf})
            opener.open(request, timeout=10).read()

        await asyncio.to_thread(run)
        self.cookies = "; ".join(f"{c.name}={c.value}" for c in jar)

    async def connect(self) -> dict:
        """Open the WebSocket; the ``session.ready`` data."""
        import json

        from websockets.asyncio.client import connect

        ws_url = "ws" + self.base_url[len("http"):] + "/ws/"
        headers = {"Origin": self.base_url}
        if self.cookies:
            headers["Cookie"] = self.cookies
        self.ws = await connect(ws_url, additional_headers=headers, max_size=2**22)
        ready = json.loads(await self.ws.recv())
        self._reader = asyncio.ensure_future(self._read())
        return ready["data"]

    async def _read(self) -> None:
        import json

        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for text in self.ws:
                frame = json.loads(text)
                if "reply" in frame and frame["reply"] in self._replies:
                    self._replies.pop(frame["reply"]).set_result(frame)
                elif "event" in frame:
                    self._events.put_nowait(frame)
        for future in self._replies.values():
            future.set_exception(ConnectionError("the connection closed"))
        self._events.put_nowait(None)

    async def call(self, action: str, data: dict) -> dict:
        """Send an action; its reply's data (RuntimeError for an error reply)."""
        import json

        self._next += 1
        future = asyncio.get_running_loop().create_future()
        self._replies[self._next] = future
        await self.ws.send(json.dumps({"action": action, "id": self._next, "data": data}))
        frame = await asyncio.wait_for(future, 30)
        if not frame.get("ok"):
            raise RuntimeError(f"{action}: {frame.get('error')}")
        return frame.get("data") or {}

    async def event(self, name: str, within: float = 30) -> dict:
        """The next event called ``name`` (others are dropped)."""
        async with asyncio.timeout(within):
            while True:
                frame = await self._events.get()
                if frame is None:
                    raise ConnectionError("the connection closed")
                if frame["event"] == name:
                    return frame["data"]

    async def wait_answer(self) -> dict:
        return await self.event("roadshow.answer")

    async def closed(self) -> None:
        if self._reader is not None:
            await asyncio.shield(self._reader)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


async def present_forever(base_url: str, username: str, password: str, roadshow: int,
                          retry: float = 3.0, ping: float = 20.0) -> None:
    """Present the moving test picture on ``roadshow`` as ``username`` until cancelled,
    connecting again whenever the connection or the media drops."""
    presented = False
    while True:
        session = WsSession(base_url)
        pc = None
        try:
            await session.login(username, password)
            await session.connect()
            pc, _ = await present(session.call, session.wait_answer, roadshow)
            log.info("demo presenter: presenting roadshow %s as %s", roadshow, username)
            presented = True
            while True:
                try:
                    await asyncio.wait_for(session.closed(), ping)
                    break  # the connection closed
                except TimeoutError:
                    await session.call("ping", {})
        except (OSError, RuntimeError, TimeoutError, ConnectionError) as exc:
            if presented:
                log.warning("demo presenter: %s; trying again in %s s", exc, retry)
            else:  # the demo server is still starting
                log.debug("demo presenter: %s; trying again in %s s", exc, retry)
        finally:
            if pc is not None:
                await pc.close()
            await session.close()
        await asyncio.sleep(retry)


def main(argv: list[str] | None = None) -> None:
    """``python -m streaming.synthetic --url ... --user ... --password ... --roadshow N``: the
    demo's synthetic presenter (started by ``hallserver demo``). It waits for the server to
    listen and stops when the process that started it is gone."""
    import argparse
    import os
    import sys

    parser = argparse.ArgumentParser(prog="python -m streaming.synthetic")
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--roadshow", type=int, required=True)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # aiortc's ICE library reports every candidate pair's state at INFO: noise for the demo.
    logging.getLogger("aioice").setLevel(logging.WARNING)
    parent = os.getppid()

    async def run() -> None:
        task = asyncio.ensure_future(present_forever(args.url, args.user, args.password,
                                                     args.roadshow))
        while not task.done() and os.getppid() == parent:  # noqa: ASYNC110 (no event for that)
            await asyncio.sleep(1)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
