"""URLs of live video, included in the root URLconf: recordings under ``recordings/``
(``urlpatterns``) and live HLS streams under ``hls/`` (``hls_urlpatterns``)."""

from django.urls import path, re_path

from . import views

urlpatterns = [
    path("<int:recording_id>.webm", views.recording_file, {"suffix": ".webm"},
         name="recording-file"),
    path("<int:recording_id>.mp4", views.recording_file, {"suffix": ".mp4"},
         name="recording-file-mp4"),
]

hls_urlpatterns = [
    re_path(r"^(?P<roadshow>[0-9]+)/(?P<name>[A-Za-z0-9_]+\.(?:m3u8|m4s|mp4))$", views.hls_file,
            name="hls-file"),
]
