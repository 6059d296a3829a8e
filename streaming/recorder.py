"""Writing a roadshow's media to files as the worker receives it, without re-encoding.

:class:`PacketMuxer` listens to a broadcast's forwarders and muxes every compressed frame into
a container as an ``av.Packet`` (aiortc's ``MediaRecorder`` would decode and re-encode). The
output starts at the first video keyframe (audio before it is dropped). Two kinds of output:

- :class:`Recorder`: the whole roadshow in one file for replay (VP8 in WebM; H.264 in
  fragmented MP4, which stays playable up to the last fragment if the worker dies); a
  :class:`~streaming.models.Recording` row points at it when the roadshow ends.
- :class:`~streaming.hls.HlsPackager`: a live HLS stream for audiences larger than WebRTC
  serves (H.264 only).

Each packet is held until the next one of its stream arrives, so that it is written with its
real duration (segmenters need it to cut precise segments).
"""

from __future__ import annotations

import logging
import time
from fractions import Fraction
from pathlib import Path

import av

from .passthrough import AUDIO_CLOCK, VIDEO_CLOCK, Forwarder, is_vp8_keyframe

log = logging.getLogger(__name__)


def vp8_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 keyframe header (RFC 6386 9.1), or None."""
    if len(data) < 10 or not is_vp8_keyframe(data) or data[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(data[6:8], "little") & 0x3FFF
    height = int.from_bytes(data[8:10], "little") & 0x3FFF
    return width, height


def h264_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of an H.264 keyframe, by decoding it (once per output file)."""
    try:
        decoder = av.CodecContext.create("h264", "r")
        for packet in (av.Packet(data), None):
            for frame in decoder.decode(packet):
                return frame.width, frame.height
    except av.FFmpegError:
        return None
    return None


def frame_size(mime_type: str, data: bytes) -> tuple[int, int] | None:
    if mime_type.lower() == "video/h264":
        return h264_size(data)
    return vp8_size(data)


class PacketMuxer:
    """Muxes the compressed frames of a broadcast's two forwarders into one container."""

    def __init__(self, video: Forwarder, audio: Forwarder) -> None:
        self.container: av.container.OutputContainer | None = None
        self.video_stream = None
        self.audio_stream = None
        self.packets = 0
        self.failed = False
        self._video, self._audio = video, audio
        self._base: dict[bool, int | None] = {True: None, False: None}
        self._held: dict[bool, av.Packet | None] = {True: None, False: None}
        self._on_video = lambda data, ts, key: self._write(True, data, ts, key)
        self._on_audio = lambda data, ts, key: self._write(False, data, ts, key)
        video.listeners.append(self._on_video)
        audio.listeners.append(self._on_audio)

    @property
    def video_mime(self) -> str:
        return self._video.mime_type or "video/VP8"

    def open_container(self, video_mime: str) -> av.container.OutputContainer | None:
        """The container to write (None: this output does not take ``video_mime``)."""
        raise NotImplementedError

    def _open(self, data: bytes) -> bool:
        mime = self.video_mime
        size = frame_size(mime, data)
        if size is None:
            return False
        container = self.open_container(mime)
        if container is None:
            self.failed = True  # e.g. HLS of a VP8 broadcast: stays off
            return False
        width, height = size
        if mime.lower() == "video/h264":
            # Pre-encoded H.264: no encoder; PyAV takes the SPS/PPS from the first keyframe.
            video = container.add_mux_stream("h264", width=width, height=height)
        else:
            video = container.add_stream("libvpx", rate=30)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.time_base = Fraction(1, VIDEO_CLOCK)
        # An opened Opus encoder gives the stream its OpusHead header; nothing is encoded.
        audio = container.add_stream("libopus", rate=AUDIO_CLOCK)
        audio.time_base = Fraction(1, AUDIO_CLOCK)
        self.container, self.video_stream, self.audio_stream = container, video, audio
        return True

    def _write(self, is_video: bool, data: bytes, timestamp: int, keyframe: bool) -> None:
        if self.failed:
            return
        try:
            if self.container is None:
                if not (is_video and keyframe) or not self._open(data):
                    return  # wait for the first video keyframe
                self.started()
            base = self._base
            if base[is_video] is None:
                base[is_video] = timestamp
            packet = av.Packet(data)
            packet.stream = self.video_stream if is_video else self.audio_stream
            packet.time_base = Fraction(1, VIDEO_CLOCK if is_video else AUDIO_CLOCK)
            packet.pts = packet.dts = (timestamp - base[is_video]) % (1 << 32)
            if is_video and keyframe:
                packet.is_keyframe = True
            held = self._held[is_video]
            self._held[is_video] = packet
            if held is not None:
                held.duration = max(1, packet.pts - held.pts)
                self._mux(held)
            if is_video:
                self.video_frame(keyframe)
        except Exception:
            log.exception("writing %s failed; it stops here", self)
            self.failed = True

    def _mux(self, packet: av.Packet) -> None:
        self.container.mux(packet)
        self.packets += 1

    def started(self) -> None:
        """Called once the container is open (subclasses may log or prepare)."""

    def video_frame(self, keyframe: bool) -> None:
        """Called after each video frame is taken (subclasses may ask for keyframes)."""

    def close(self) -> bool:
        """Stop listening and finish the output; False if nothing was written."""
        for forwarder, listener in ((self._video, self._on_video), (self._audio, self._on_audio)):
            if listener in forwarder.listeners:
                forwarder.listeners.remove(listener)
        if self.container is None:
            return False
        try:
            for is_video, held in self._held.items():
                if held is not None and not self.failed:
                    held.duration = VIDEO_CLOCK // 30 if is_video else AUDIO_CLOCK // 50
                    self._mux(held)
            self.container.close()
        except Exception:
            log.exception("could not finish %s", self)
        self.container = None
        self._held = {True: None, False: None}
        return True


class Recorder(PacketMuxer):
    """The whole roadshow in one file: ``stem`` plus ``.webm`` (VP8) or ``.mp4`` (H.264)."""

    def __init__(self, stem: Path, video: Forwarder, audio: Forwarder) -> None:
        super().__init__(video, audio)
        self.stem = stem
        self.path = stem.with_suffix(".webm")
        self.started_at = time.time()

    def __str__(self) -> str:
        return f"recording {self.path}"

    def open_container(self, video_mime: str) -> av.container.OutputContainer:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if video_mime.lower() == "video/h264":
            self.path = self.stem.with_suffix(".mp4")
            return av.open(str(self.path), mode="w", format="mp4", options={
                "movflags": "frag_keyframe+empty_moov+default_base_moof"})
        self.path = self.stem.with_suffix(".webm")
        return av.open(str(self.path), mode="w", format="webm")

    def close(self) -> int:  # type: ignore[override]
        """Finish the file; returns its size in bytes (0: nothing was recorded)."""
        if not super().close():
            return 0
        return self.path.stat().st_size if self.path.exists() else 0
