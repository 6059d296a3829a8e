"""Serving roadshow recordings (WebM files under LIVE_VIDEO['MEDIA_DIR']), with byte ranges
so that browsers can seek."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from .models import Recording

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def recording_file(request: HttpRequest, recording_id: int) -> HttpResponse:
    recording = Recording.objects.filter(pk=recording_id).first()
    if recording is None:
        raise Http404("No such recording.")
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
        response = HttpResponse(body, status=206, content_type="video/webm")
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(path.open("rb"), content_type="video/webm")
    response["Accept-Ranges"] = "bytes"
    return response
