"""URLs of live video, to include under ``recordings/`` in the root URLconf:
``path("recordings/", include("streaming.urls"))``."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:recording_id>.webm", views.recording_file, name="recording-file"),
]
