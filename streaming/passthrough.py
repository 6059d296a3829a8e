"""Forwarding encoded media through aiortc without decoding or re-encoding it.

aiortc has no public API for encoded frames: an ``RTCRtpReceiver`` reassembles each frame in
its jitter buffer and puts ``(codec, JitterFrame)`` on a queue read by a decoder thread. We swap
that queue for :class:`EncodedTap`, which hands the complete compressed frame to a
:class:`Forwarder` instead (the decoder thread then only waits for the stop signal).

On the sending side, a :class:`PacketTrack` yields ``av.Packet`` objects; ``RTCRtpSender``
then only packetises them (``Encoder.pack``), so a viewer costs packetising, SRTP and the
socket, not an encoder. Each viewer has a bounded queue: one that falls behind drops what is
queued and waits for the next keyframe, and a keyframe is asked for upstream.

This relies on aiortc internals (``RTCRtpReceiver._RTCRtpReceiver__decoder_queue``,
``RTCRtpReceiver._send_rtcp_pli``, ``RTCRtpSender._send_keyframe``, ``RTCRtpTransceiver._codecs``);
aiortc is pinned in pyproject.toml and tests/test_media_passthrough.py checks them.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
from collections import deque
from collections.abc import Callable
from fractions import Fraction

import av
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger(__name__)

_pending: set[asyncio.Future] = set()

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000


def is_vp8_keyframe(data: bytes) -> bool:
    """RFC 6386 9.1: bit 0 of the frame tag is 0 for key frames."""
    return bool(data) and not data[0] & 0x01


def h264_nal_types(data: bytes):
    """The NAL unit types of an H.264 Annex-B frame (ITU-T H.264 7.3.1), in order."""
    start = data.find(b"\x00\x00\x01")
    while start != -1 and start + 3 < len(data):
        yield data[start + 3] & 0x1F
        start = data.find(b"\x00\x00\x01", start + 3)


def is_h264_keyframe(data: bytes) -> bool:
    """True if the frame's first picture slice is an IDR slice (type 5; type 1 is not)."""
    for nal_type in h264_nal_types(data):
        if nal_type == 5:
            return True
        if nal_type == 1:
            return False
    return False


def is_keyframe(mime_type: str, data: bytes) -> bool:
    """Whether an encoded video frame of ``mime_type`` can be decoded on its own."""
    if mime_type.lower() == "video/h264":
        return is_h264_keyframe(data)
    return is_vp8_keyframe(data)


class EncodedTap(queue.Queue):
    """Stands in for a receiver's decoder queue: complete encoded frames go to ``sink``."""

    def __init__(self, sink: Callable[[object, object], None]) -> None:
        super().__init__()
        self.sink = sink

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # the receiver stops: let its (idle) decoder thread end
            super().put(None, block, timeout)
            return
        codec, frame = item
        try:
            self.sink(codec, frame)
        except Exception:
            log.exception("forwarding an encoded frame failed")


def tap_receiver(receiver: RTCRtpReceiver, sink: Callable[[object, object], None]) -> None:
    """Make ``receiver`` hand its encoded frames to ``sink`` (call before it starts)."""
    receiver._RTCRtpReceiver__decoder_queue = EncodedTap(sink)


def request_keyframe(receiver: RTCRtpReceiver) -> bool:
    """Send a PLI to the sender of ``receiver``'s stream; False if no stream is known yet."""
    sources = receiver.getSynchronizationSources()
    if not sources:
        return False
    task = asyncio.ensure_future(receiver._send_rtcp_pli(sources[-1].source))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
    return True


def negotiable(pc: RTCPeerConnection, kind: str) -> list[str]:
    """After setRemoteDescription: the media codecs (not RTX) both sides can use for ``kind``."""
    found: list[str] = []
    for transceiver in pc.getTransceivers():
        if transceiver.kind == kind:
            for codec in transceiver._codecs:
                if not codec.mimeType.lower().endswith("/rtx") and codec.mimeType not in found:
                    found.append(codec.mimeType)
    return found


def keep_codecs(pc: RTCPeerConnection, kind: str, mime_type: str) -> None:
    """After setRemoteDescription: negotiate only ``mime_type`` (and its RTX) for ``kind``.

    Forwarding needs the publisher and every viewer on the same codec."""
    for transceiver in pc.getTransceivers():
        if transceiver.kind != kind:
            continue
        chosen = [c for c in transceiver._codecs if c.mimeType.lower() == mime_type.lower()]
        if not chosen:
            continue
        pts = {c.payloadType for c in chosen[:1]}
        rtx = [c for c in transceiver._codecs
               if c.mimeType.lower().endswith("/rtx") and c.parameters.get("apt") in pts]
        transceiver._codecs = chosen[:1] + rtx


class PacketTrack(MediaStreamTrack):
    """One viewer's track: encoded frames from a :class:`Forwarder`, as ``av.Packet``."""

    def __init__(self, forwarder: Forwarder, max_frames: int) -> None:
        super().__init__()
        self.kind = forwarder.kind
        self.forwarder = forwarder
        self.max_frames = max_frames
        self.queue: deque[tuple[bytes, int]] = deque()
        self.waiting_keyframe = forwarder.kind == "video"
        self.wakeup = asyncio.Event()
        self.sent = 0
        self.dropped = 0

    def offer(self, data: bytes, timestamp: int, keyframe: bool) -> None:
        if self.readyState != "live":
            return
        if self.waiting_keyframe and not keyframe:
            self.dropped += 1
            return
        if len(self.queue) >= self.max_frames:
            # Too slow: drop what waits and start again at a keyframe (audio: just drop).
            self.dropped += len(self.queue)
            self.queue.clear()
            if self.kind == "video":
                self.forwarder.request_keyframe()
                if not keyframe:
                    self.waiting_keyframe = True
                    self.dropped += 1
                    return
        self.waiting_keyframe = False
        self.queue.append((data, timestamp))
        self.wakeup.set()

    async def recv(self) -> av.Packet:
        while not self.queue:
            if self.readyState != "live":
                raise MediaStreamError
            self.wakeup.clear()
            await self.wakeup.wait()
        if self.readyState != "live":
            raise MediaStreamError
        data, timestamp = self.queue.popleft()
        packet = av.Packet(data)
        packet.pts = timestamp
        packet.time_base = self.forwarder.time_base
        self.sent += 1
        return packet

    def stop(self) -> None:
        super().stop()
        self.queue.clear()
        self.forwarder.tracks.discard(self)
        self.wakeup.set()


class Forwarder:
    """Fans one publisher's encoded frames of one kind out to every viewer's track.

    A new publisher source (e.g. the presenter reconnected) continues the timestamps where the
    last one stopped, so viewers see one continuous stream.
    """

    def __init__(self, kind: str, keyframe_interval: float = 1.0) -> None:
        self.kind = kind
        self.clock = VIDEO_CLOCK if kind == "video" else AUDIO_CLOCK
        self.time_base = Fraction(1, self.clock)
        self.tracks: set[PacketTrack] = set()
        self.keyframe_interval = keyframe_interval
        self.receiver: RTCRtpReceiver | None = None
        self.frames = 0
        self.keyframes = 0
        self.keyframe_requests = 0
        self._last_request = float("-inf")
        self._pending_request: asyncio.TimerHandle | None = None
        self._source: object = None
        self._offset = 0
        self._last_out = 0
        # The publisher's codec ("video/H264", "video/VP8", "audio/opus"), from its first frame.
        self.mime_type: str | None = None
        self.listeners: list[Callable[[bytes, int, bool], None]] = []

    def attach(self, receiver: RTCRtpReceiver) -> None:
        """Take frames from ``receiver`` from now on (the publisher's track of our kind)."""
        self.receiver = receiver
        source = object()
        tap_receiver(receiver, lambda codec, frame: self.push(source, frame.data,
                                                               frame.timestamp, codec.mimeType))

    def push(self, source: object, data: bytes, timestamp: int,
             mime_type: str | None = None) -> None:
        if source is not self._source:
            if self._source is not None:
                self._offset = self._last_out + self.clock // 30 - timestamp
            else:
                self._offset = -timestamp
            self._source = source
        out = (timestamp + self._offset) % (1 << 32)
        self._last_out = out
        if mime_type is not None:
            self.mime_type = mime_type
        keyframe = (is_keyframe(self.mime_type or "video/VP8", data) if self.kind == "video"
                    else True)
        self.frames += 1
        if keyframe and self.kind == "video":
            self.keyframes += 1
        for track in list(self.tracks):
            track.offer(data, out, keyframe)
        for listener in self.listeners:
            listener(data, out, keyframe)

    def subscribe(self, max_frames: int) -> PacketTrack:
        track = PacketTrack(self, max_frames)
        self.tracks.add(track)
        if self.kind == "video":
            self.request_keyframe()
        return track

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe, at most once per ``keyframe_interval``; a request
        inside the interval is sent when it is over."""
        if self.kind != "video" or self._pending_request is not None:
            return
        wait = self._last_request + self.keyframe_interval - time.monotonic()
        if wait > 0:
            loop = asyncio.get_running_loop()
            self._pending_request = loop.call_later(wait, self._send_request)
            return
        self._send_request()

    def _send_request(self) -> None:
        self._pending_request = None
        self._last_request = time.monotonic()
        if self.receiver is not None and request_keyframe(self.receiver):
            self.keyframe_requests += 1

    def forward_viewer_requests(self, sender: RTCRtpSender) -> None:
        """A viewer's PLI/FIR reaches ``sender._send_keyframe``: pass it upstream instead."""
        sender._send_keyframe = self.request_keyframe

    def close(self) -> None:
        if self._pending_request is not None:
            self._pending_request.cancel()
            self._pending_request = None
        for track in list(self.tracks):
            track.stop()
