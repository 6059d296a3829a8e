"""What happened at the booths: one row per event, written in batches (docs/console.md)."""

from __future__ import annotations

from django.db import models


class Kind(models.TextChoices):
    ENTER = "enter", "Entered a booth or roadshow room"
    LEAVE = "leave", "Left it (seconds: the visit's length)"
    CHAT = "chat", "Chat message"
    KNOCK = "knock", "Knock"
    CALL = "call", "Booth call (seconds: its length)"


class Event(models.Model):
    """One thing that happened. Plain integers rather than foreign keys: a batch insert never
    waits on, or fails for, another table's rows."""

    kind = models.CharField(max_length=8, choices=Kind.choices)
    booth_id = models.IntegerField(null=True)
    hall_id = models.IntegerField(null=True)
    # Set for roadshow viewers' enter/leave.
    roadshow_id = models.IntegerField(null=True)
    user_id = models.IntegerField(null=True)
    at = models.DateTimeField()
    seconds = models.FloatField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["booth_id", "kind", "at"], name="event_by_booth"),
            models.Index(fields=["kind", "at"], name="event_by_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} booth {self.booth_id} user {self.user_id} at {self.at:%H:%M:%S}"
