"""What live video keeps in the database: leads left at booths, and roadshow recordings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Lead(models.Model):
    """A contact request: a visitor who did not get through asks the exhibitor to get back."""

    booth = models.ForeignKey("booths.Booth", on_delete=models.CASCADE, related_name="leads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL)
    name = models.CharField(max_length=120)
    contact = models.CharField(max_length=200, help_text="E-mail, phone or messenger handle")
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    handled = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} → {self.booth_id}"

    def public(self) -> dict:
        return {"id": self.pk, "booth": self.booth_id, "user": self.user_id, "name": self.name,
                "contact": self.contact, "message": self.message,
                "ts": self.created_at.timestamp(), "handled": self.handled}


class Recording(models.Model):
    """A roadshow's media as the worker received it: VP8 and Opus in WebM, or H.264 and Opus in
    (fragmented) MP4."""

    roadshow = models.ForeignKey("booths.Roadshow", on_delete=models.CASCADE,
                                 related_name="recordings")
    path = models.CharField(max_length=300, help_text="Relative to LIVE_VIDEO['MEDIA_DIR']")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    size = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.path

    @property
    def suffix(self) -> str:
        """``.webm`` or ``.mp4``: the file's container."""
        return ".mp4" if self.path.endswith(".mp4") else ".webm"

    @property
    def url(self) -> str:
        return f"/recordings/{self.pk}{self.suffix}"
