"""What the exhibitor console keeps: the inbox's shared state, the booth's texts per language,
and roadshow bookmarks (for the bell's reminders). docs/console.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class InboxState(models.Model):
    """The booth team's state of one inbox item (a lead, an application, a report): read or
    not, a status where the source keeps none of its own, and a note. One row per item, made
    when the item is first touched."""

    booth = models.ForeignKey("booths.Booth", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=20)
    ref = models.BigIntegerField()
    read = models.BooleanField(default=False)
    status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["booth", "source", "ref"],
                                               name="inbox_state_once")]

    def __str__(self) -> str:
        return f"{self.source}:{self.ref} @ {self.booth_id}"


class BoothTexts(models.Model):
    """A booth's name, tagline and description in each UI language, and its logo file."""

    booth = models.OneToOneField("booths.Booth", on_delete=models.CASCADE,
                                 related_name="texts")
    # {"en": {"name", "tagline", "description"}, "zh": {...}, ...}
    texts = models.JSONField(default=dict, blank=True)
    logo = models.CharField(max_length=200, blank=True, help_text="file under MEDIA_DIR/logos")

    class Meta:
        verbose_name_plural = "booth texts"

    def __str__(self) -> str:
        return f"texts of {self.booth_id}"


class Bookmark(models.Model):
    """A roadshow someone wants to be reminded of (the bell, shortly before it starts)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    roadshow = models.ForeignKey("booths.Roadshow", on_delete=models.CASCADE, related_name="+")
    reminded = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "roadshow"],
                                               name="bookmark_once")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.roadshow_id}"
