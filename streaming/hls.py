"""A live HLS stream of a roadshow, cut from the presenter's encoded media (no video re-encode).

When a roadshow has more viewers than the worker serves over WebRTC, further viewers are sent
to HLS. The packager listens to the broadcast's forwarders like the recorder does and writes
H.264 video and Opus audio, as received, into fragmented-MP4 segments with FFmpeg's HLS muxer
(through PyAV): ``<MEDIA_DIR>/hls/<roadshow>/index.m3u8``, ``init.mp4`` and ``seg<n>.m4s``.
Web processes serve the files from the same directory (``/hls/<roadshow>/<file>``).

Segments can only start at keyframes, and a WebRTC sender sends a keyframe only when asked,
so the packager asks the presenter for one whenever a segment's length has passed (the
forwarder's rate limit applies). HLS needs H.264: a VP8 broadcast gets no HLS stream.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import av

from .passthrough import Forwarder
from .recorder import PacketMuxer

PLAYLIST = "index.m3u8"


def hls_directory(media_dir: str | Path, roadshow: int) -> Path:
    return Path(media_dir) / "hls" / str(int(roadshow))


def hls_url(roadshow: int) -> str:
    return f"/hls/{int(roadshow)}/{PLAYLIST}"


class HlsPackager(PacketMuxer):
    def __init__(self, directory: Path, video: Forwarder, audio: Forwarder,
                 segment_seconds: float = 2.0, list_size: int = 6) -> None:
        super().__init__(video, audio)
        self.directory = directory
        self.segment_seconds = segment_seconds
        self.list_size = list_size
        self._last_keyframe = 0.0

    def __str__(self) -> str:
        return f"HLS stream {self.directory}"

    @property
    def playlist(self) -> Path:
        return self.directory / PLAYLIST

    @property
    def ready(self) -> bool:
        """True once the playlist lists a segment (players can start)."""
        return self.container is not None and self.playlist.is_file()

    def open_container(self, video_mime: str) -> av.container.OutputContainer | None:
        if video_mime.lower() != "video/h264":
            return None
        # A new stream of this roadshow (e.g. the worker restarted): start from nothing.
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True, exist_ok=True)
        return av.open(str(self.playlist), mode="w", format="hls", options={
            "hls_time": f"{self.segment_seconds:g}",
            "hls_list_size": str(self.list_size),
            # Keep a few segments past the list for players still fetching them.
            "hls_delete_threshold": "3",
            "hls_flags": "delete_segments+independent_segments+temp_file",
            "hls_segment_type": "fmp4",
            "hls_fmp4_init_filename": "init.mp4",
            "hls_segment_filename": str(self.directory / "seg%05d.m4s"),
        })

    def video_frame(self, keyframe: bool) -> None:
        now = time.monotonic()
        if keyframe:
            self._last_keyframe = now
        elif now - self._last_keyframe >= self.segment_seconds:
            self._video.request_keyframe()
