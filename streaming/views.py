"""Serving roadshow media files from LIVE_VIDEO['MEDIA_DIR']: recordings (WebM or MP4, with
byte ranges so that browsers can seek) and live HLS streams (playlist and segments)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from .hls import PLAYLIST, hls_directory
from .models import Recording

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


CONTENT_TYPES = {".webm": "video/webm", ".mp4": "video/mp4", ".m4s": "video/iso.segment",
                 ".m3u8": "application/vnd.apple.mpegurl"}


def recording_file(request: HttpRequest, recording_id: int, suffix: str) -> HttpResponse:
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None or recording.suffix != suffix:
        raise Http404("No such recording.")
    content_type = CONTENT_TYPES[suffix]
    root = Path(settings.LIVE_VIDEO["MEDIA_DIR"]).resolve()
    path = (root / recording.path).resolve()
    if root not in path.parents or not path.is_file():
        raise Http404("The recording file is missing.")
    size = path.stat().st_size
    match = _RANGE.match(request.headers.get("Range", ""))
    if match and (match[1] or match[2]):
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]) if match[2] else size - 1, size - 1)
        else:  # the last N bytes
            start, end = max(0, size - int(match[2])), size - 1
        if start > end or start >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        with path.open("rb") as f:
            f.seek(start)
            body = f.read(end - start + 1)
        response = HttpResponse(body, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(path.open("rb"), content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    return response


def hls_file(request: HttpRequest, roadshow: int, name: str) -> HttpResponse:
    """A live roadshow's HLS playlist or segment (the URL pattern only lets plain names in)."""
    path = hls_directory(settings.LIVE_VIDEO["MEDIA_DIR"], roadshow) / name
    try:
        handle = path.open("rb")
    except OSError:
        raise Http404("No such stream file (the roadshow is not live, or it moved on).") from None
    response = FileResponse(handle, content_type=CONTENT_TYPES[path.suffix])
    # The playlist changes with every segment; a segment never changes once it is listed.
    response["Cache-Control"] = "no-cache" if name == PLAYLIST else "public, max-age=60"
    return response
