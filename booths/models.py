"""Domain model: an expo has halls, halls have booths, booths host roadshows.

Every place where people meet is a :class:`Room` (a hall lobby, a booth, a roadshow, a
booth's staff-only back room). Rooms carry the per-room chat sequence counter.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Profile(models.Model):
    """What the expo knows of a person beyond Django's user."""

    class Kind(models.TextChoices):
        GUEST = "guest", "Guest visitor"
        VISITOR = "visitor", "Registered visitor"
        EXHIBITOR = "exhibitor", "Exhibitor"
        MODERATOR = "moderator", "Moderator"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    display_name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.VISITOR)
    organisation = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return f"{self.display_name} ({self.kind})"


class Expo(models.Model):
    name = models.CharField(max_length=200)
    name_zh = models.CharField("name (Chinese)", max_length=200, blank=True)
    slug = models.SlugField(unique=True)
    tagline = models.CharField(max_length=300, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()

    def __str__(self) -> str:
        return self.name


class Hall(models.Model):
    """A themed zone of the expo (e.g. biomedicine)."""

    expo = models.ForeignKey(Expo, on_delete=models.CASCADE, related_name="halls")
    name = models.CharField(max_length=120)
    name_zh = models.CharField("name (Chinese)", max_length=120, blank=True)
    slug = models.SlugField()
    description = models.TextField(blank=True)
    color = models.CharField(max_length=7, default="#2f6fde", help_text="Accent colour, #rrggbb")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["expo", "slug"], name="hall_slug_per_expo")]

    def __str__(self) -> str:
        return self.name


class Booth(models.Model):
    """An exhibitor organisation's stand in a hall."""

    class Kind(models.TextChoices):
        COMPANY = "company", "Company"
        UNIVERSITY = "university", "University"
        INVESTOR = "investor", "Investor"
        INSTITUTE = "institute", "Research institute"

    hall = models.ForeignKey(Hall, on_delete=models.CASCADE, related_name="booths")
    name = models.CharField(max_length=160)
    name_zh = models.CharField("name (Chinese)", max_length=160, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code")
    industry_tags = models.JSONField(default=list, blank=True)
    description = models.TextField(blank=True)
    logo_url = models.CharField(max_length=300, blank=True)
    links = models.JSONField(default=list, blank=True, help_text='[{"label": ..., "url": ...}]')
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="BoothStaff", related_name="staffed_booths"
    )

    class Meta:
        ordering = ["hall", "name"]

    def __str__(self) -> str:
        return self.name


class BoothStaff(models.Model):
    booth = models.ForeignKey(Booth, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    title = models.CharField(max_length=120, blank=True)

    class Meta:
        verbose_name_plural = "booth staff"
        constraints = [models.UniqueConstraint(fields=["booth", "user"], name="staff_once")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.booth}"


class Roadshow(models.Model):
    """A scheduled live presentation given by a booth."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    booth = models.ForeignKey(Booth, on_delete=models.CASCADE, related_name="roadshows")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    presenter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    presenter_name = models.CharField(max_length=120, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.SCHEDULED)

    class Meta:
        ordering = ["starts_at"]

    def __str__(self) -> str:
        return self.title


class Room(models.Model):
    """A place with chat and presence. Created automatically for halls, booths, roadshows."""

    class Kind(models.TextChoices):
        LOBBY = "lobby", "Hall lobby"
        BOOTH = "booth", "Booth"
        ROADSHOW = "roadshow", "Roadshow"
        STAFF = "staff", "Booth staff room"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    hall = models.ForeignKey(Hall, null=True, blank=True, on_delete=models.CASCADE)
    booth = models.ForeignKey(Booth, null=True, blank=True, on_delete=models.CASCADE)
    roadshow = models.OneToOneField(Roadshow, null=True, blank=True, on_delete=models.CASCADE)
    # Sequence number of the last chat message; incremented under the row lock.
    last_seq = models.BigIntegerField(default=0)
    read_only = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hall"], condition=models.Q(kind="lobby"), name="one_lobby_per_hall"
            ),
            models.UniqueConstraint(
                fields=["booth", "kind"],
                condition=models.Q(kind__in=["booth", "staff"]),
                name="one_room_of_kind_per_booth",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.title}"


class ChatMessage(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    seq = models.BigIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    author_name = models.CharField(max_length=80)
    author_staff = models.BooleanField(default=False)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [models.UniqueConstraint(fields=["room", "seq"], name="seq_per_room")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.author_name}: {self.body[:40]}"
