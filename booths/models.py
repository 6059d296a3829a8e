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
    # For moderators: the one hall they moderate; empty means the whole expo.
    moderated_hall = models.ForeignKey(
        "Hall", null=True, blank=True, on_delete=models.SET_NULL, related_name="moderators"
    )

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
        MODERATION = "moderation", "Moderators' room"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200)
    hall = models.ForeignKey(Hall, null=True, blank=True, on_delete=models.CASCADE)
    booth = models.ForeignKey(Booth, null=True, blank=True, on_delete=models.CASCADE)
    roadshow = models.OneToOneField(Roadshow, null=True, blank=True, on_delete=models.CASCADE)
    # Sequence number of the last chat message; incremented under the row lock.
    last_seq = models.BigIntegerField(default=0)
    read_only = models.BooleanField(default=False)
    slow_mode_seconds = models.PositiveIntegerField(default=0)
    pinned_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hall"], condition=models.Q(kind="lobby"), name="one_lobby_per_hall"
            ),
            models.UniqueConstraint(
                fields=["hall"], condition=models.Q(kind="moderation"),
                name="one_moderation_room_per_hall",
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
    # A deleted message stays as a tombstone so that sequence numbers keep no gaps.
    deleted_at = models.DateTimeField(null=True, blank=True)
    # The sender's own id for the message (``chat.send``'s ``client_id``): a retried send
    # with the same id finds this row instead of storing the message twice.
    client_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="seq_per_room"),
            models.UniqueConstraint(fields=["author", "room", "client_id"],
                                    condition=~models.Q(client_id=""),
                                    name="client_id_per_author_room"),
        ]
        indexes = [models.Index(fields=["room", "author", "-seq"], name="chat_by_author")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.author_name}: {self.body[:40]}"


class Sanction(models.Model):
    """A mute (in one room or the whole expo) or a ban, for a time or for good."""

    class Kind(models.TextChoices):
        MUTE = "mute", "Mute"
        BAN = "ban", "Ban"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sanctions"
    )
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.CASCADE)
    until = models.DateTimeField(null=True, blank=True, help_text="Empty: until lifted")
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "kind"], name="sanction_by_user")]

    def __str__(self) -> str:
        return f"{self.kind} {self.user} until {self.until or 'lifted'}"


class AuditEntry(models.Model):
    """Who did what to whom, when and why: every moderation action."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40, db_index=True)
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.SET_NULL)
    hall = models.ForeignKey(Hall, null=True, blank=True, on_delete=models.SET_NULL)
    details = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class Report(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    message = models.ForeignKey(ChatMessage, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"report on {self.message}"


class FilteredWord(models.Model):
    """The word filter: messages containing a word (case-insensitive) are blocked or held."""

    class Action(models.TextChoices):
        BLOCK = "block", "Block the message"
        HOLD = "hold", "Hold it for review"

    word = models.CharField(max_length=80, unique=True)
    action = models.CharField(max_length=5, choices=Action.choices, default=Action.BLOCK)

    def __str__(self) -> str:
        return f"{self.word} ({self.action})"


class HeldMessage(models.Model):
    """A chat message the word filter held for a moderator to release or drop."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    author_name = models.CharField(max_length=80)
    body = models.TextField()
    word = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    #: The sender's ``client_id`` for the send (empty without one): a retried send finds
    #: this row instead of being held a second time.
    client_id = models.CharField(max_length=64, blank=True, default="")
    #: When a moderator released or dropped it (the row stays, so that a retry of a dropped
    #: message is not held again); undecided rows are the queue.
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["room", "author", "client_id"], condition=~models.Q(client_id=""),
            name="held_once_per_client_id")]

    def __str__(self) -> str:
        return f"held: {self.body[:40]}"


class Question(models.Model):
    """A roadshow Q&A question."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        ANSWERED = "answered", "Answered"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="questions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    author_name = models.CharField(max_length=80)
    body = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    votes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.body[:60]


class QuestionVote(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="vote_set")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["question", "user"], name="one_vote")]

    def __str__(self) -> str:
        return f"{self.user} +1 {self.question}"
