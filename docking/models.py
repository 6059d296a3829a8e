"""Project docking: projects, investor profiles, availability, one-to-one meetings, and the
busy cells that keep anyone from two meetings at once (docs/docking.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Stage(models.TextChoices):
    IDEA = "idea", "Idea"
    PROTOTYPE = "prototype", "Prototype"
    FIRST_REVENUE = "first_revenue", "First revenue"
    GROWTH = "growth", "Growth"


class Seeking(models.TextChoices):
    INVESTMENT = "investment", "Investment"
    PARTNERS = "partners", "Partners"
    LICENSING = "licensing", "Licensing"
    TALENT = "talent", "Talent"


class Project(models.Model):
    """A project of a booth (its staff own it) or of the person who registered it."""

    booth = models.ForeignKey("booths.Booth", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="projects")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="projects")
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    fields = models.JSONField(default=list, blank=True, help_text="field tags")
    stage = models.CharField(max_length=16, choices=Stage.choices)
    seeking = models.JSONField(default=list, blank=True)
    amount_min = models.PositiveBigIntegerField(null=True, blank=True)
    amount_max = models.PositiveBigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    country = models.CharField(max_length=2, blank=True)
    links = models.JSONField(default=list, blank=True, help_text='[{"label", "url"}]')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["stage"]), models.Index(fields=["country"])]
        constraints = [models.CheckConstraint(
            condition=Q(booth__isnull=False) | Q(owner__isnull=False),
            name="project_has_an_owner")]

    def __str__(self) -> str:
        return self.title


class InvestorProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="investor")
    ticket_min = models.PositiveBigIntegerField(null=True, blank=True)
    ticket_max = models.PositiveBigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    stages = models.JSONField(default=list, blank=True)
    fields = models.JSONField(default=list, blank=True)
    countries = models.JSONField(default=list, blank=True)
    thesis = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"investor profile of {self.user}"


class Availability(models.Model):
    """A time range in which a person takes meetings, cut into slots of ``slot_minutes``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="availability")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    slot_minutes = models.PositiveSmallIntegerField(default=30)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name_plural = "availability"
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                              name="availability_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%H:%M}"


class Meeting(models.Model):
    class State(models.TextChoices):
        REQUESTED = "requested", "Requested"
        PROPOSED = "proposed", "Another slot proposed"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Held"
        MISSED = "missed", "Missed"

    requester = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="meetings_requested")
    # Empty while a request to a booth's project waits for one of its staff to answer.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.CASCADE, related_name="meetings_received")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="meetings")
    booth = models.ForeignKey("booths.Booth", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    message = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    requester_joined_at = models.DateTimeField(null=True, blank=True)
    recipient_joined_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "starts_at"])]

    def __str__(self) -> str:
        return f"meeting {self.pk} ({self.state})"


class BusyCell(models.Model):
    """One 5-minute cell of one person's time, taken by an accepted meeting or a booked
    interview (recruitment's slot). The unique constraint is what keeps anyone from two
    commitments at once, across both apps, on any database and process."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    cell = models.BigIntegerField(help_text="minutes since the epoch / 5")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="cells")
    slot = models.ForeignKey("recruitment.Slot", null=True, blank=True,
                             on_delete=models.CASCADE, related_name="cells")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "cell"], name="busy_cell_once"),
            models.CheckConstraint(
                condition=(Q(meeting__isnull=False, slot__isnull=True)
                           | Q(meeting__isnull=True, slot__isnull=False)),
                name="busy_cell_one_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.cell}"
