"""Recording a roadshow as the worker receives it: VP8 and Opus frames muxed into WebM.

Nothing is decoded or re-encoded (aiortc's ``MediaRecorder`` would re-encode): the recorder
listens to the broadcast's forwarders and writes each compressed frame as an ``av.Packet``.
The file starts at the first video keyframe (audio before it is dropped) and is finished when
the roadshow ends; a :class:`~streaming.models.Recording` row then points at it.
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


class Recorder:
    def __init__(self, path: Path, video: Forwarder, audio: Forwarder) -> None:
        self.path = path
        self.started_at = time.time()
        self.container: av.container.OutputContainer | None = None
        self.video_stream = None
        self.audio_stream = None
        self.packets = 0
        self.failed = False
        self._video, self._audio = video, audio
        self._on_video = lambda data, ts, key: self._write(True, data, ts, key)
        self._on_audio = lambda data, ts, key: self._write(False, data, ts, key)
        video.listeners.append(self._on_video)
        audio.listeners.append(self._on_audio)

    def _open(self, width: int, height: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        container = av.open(str(self.path), mode="w", format="webm")
        video = container.add_stream("libvpx", rate=30)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.time_base = Fraction(1, VIDEO_CLOCK)
        audio = container.add_stream("libopus", rate=AUDIO_CLOCK)
        audio.time_base = Fraction(1, AUDIO_CLOCK)
        self.container, self.video_stream, self.audio_stream = container, video, audio

    def _write(self, is_video: bool, data: bytes, timestamp: int, keyframe: bool) -> None:
        if self.failed:
            return
        try:
            if self.container is None:
                size = vp8_size(data) if is_video else None
                if size is None:
                    return  # wait for the first video keyframe
                self._open(*size)
                self._base = {True: timestamp, False: None}
            base = self._base
            if base[is_video] is None:
                base[is_video] = timestamp
            packet = av.Packet(data)
            packet.stream = self.video_stream if is_video else self.audio_stream
            packet.time_base = Fraction(1, VIDEO_CLOCK if is_video else AUDIO_CLOCK)
            packet.pts = packet.dts = (timestamp - base[is_video]) % (1 << 32)
            if is_video and keyframe:
                packet.is_keyframe = True
            self.container.mux(packet)
            self.packets += 1
        except Exception:
            log.exception("recording %s failed; it stops here", self.path)
            self.failed = True

    def close(self) -> int:
        """Finish the file; returns its size in bytes (0: nothing was recorded)."""
        for forwarder, listener in ((self._video, self._on_video), (self._audio, self._on_audio)):
            if listener in forwarder.listeners:
                forwarder.listeners.remove(listener)
        if self.container is None:
            return 0
        try:
            self.container.close()
        except Exception:
            log.exception("could not finish recording %s", self.path)
        self.container = None
        return self.path.stat().st_size if self.path.exists() else 0
