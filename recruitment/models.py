"""Recruitment: résumés, jobs at booths, applications with their audit trail, interview
slots, and the per-user notice feed that carries live events across reconnects
(docs/recruitment.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class JobType(models.TextChoices):
    FULL_TIME = "full_time", "Full-time"
    PART_TIME = "part_time", "Part-time"
    INTERNSHIP = "internship", "Internship"
    POSTDOC = "postdoc", "Postdoc"
    VISITING = "visiting_scholar", "Visiting scholar"
    CONTRACT = "contract", "Contract"
    OTHER = "other", "Other"


class Resume(models.Model):
    """A person's résumé: the structured part (``data``, see ``services.resumes.ResumeData``)
    and an optional PDF stored under the media directory with a random name."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="resume")
    data = models.JSONField(default=dict, blank=True)
    pdf_file = models.CharField(max_length=64, blank=True, help_text="random stored name")
    pdf_name = models.CharField(max_length=120, blank=True, help_text="cleaned original name")
    pdf_size = models.PositiveIntegerField(default=0)
    pdf_text = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"résumé of {self.user}"


class Job(models.Model):
    booth = models.ForeignKey("booths.Booth", on_delete=models.CASCADE, related_name="jobs")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    job_type = models.CharField(max_length=20, choices=JobType.choices)
    fields = models.JSONField(default=list, blank=True, help_text="field tags")
    place = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=2, blank=True)
    remote = models.BooleanField(default=False)
    salary_min = models.PositiveIntegerField(null=True, blank=True)
    salary_max = models.PositiveIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    languages = models.JSONField(default=list, blank=True)
    deadline = models.DateField(null=True, blank=True)
    is_open = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["is_open", "job_type"]),
                   models.Index(fields=["booth", "is_open"]),
                   # The directory's order: newest open jobs first, without sorting them all.
                   models.Index(fields=["-created_at", "-id"], condition=Q(is_open=True),
                                name="job_open_newest")]

    def __str__(self) -> str:
        return self.title


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    VIEWED = "viewed", "Viewed"
    SHORTLISTED = "shortlisted", "Shortlisted"
    INTERVIEW = "interview", "Interview"
    OFFER = "offer", "Offer"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Application(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="applications")
    # The booth of the job, repeated: staff lists and unread counts filter on it.
    booth = models.ForeignKey("booths.Booth", on_delete=models.CASCADE,
                              related_name="applications")
    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="applications")
    cover_note = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(
            fields=["job", "candidate"], condition=~Q(status="withdrawn"),
            name="one_live_application_per_job")]
        indexes = [models.Index(fields=["booth", "status"])]

    def __str__(self) -> str:
        return f"{self.candidate} → {self.job}"


class ApplicationEvent(models.Model):
    """The audit trail: every change of an application's status, who made it and when."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} → {self.to_status}"


class Slot(models.Model):
    """An interview slot of a booth, hosted by one staff member. ``open`` → ``offered`` (to
    one application) → ``booked`` (the candidate took it); changed by conditional UPDATEs."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        OFFERED = "offered", "Offered"
        BOOKED = "booked", "Booked"

    booth = models.ForeignKey("booths.Booth", on_delete=models.CASCADE, related_name="slots")
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="hosted_slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    application = models.ForeignKey(Application, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="slots")

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["host", "starts_at"], name="host_slot_start_once"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="slot_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} ({self.state})"


class Notice(models.Model):
    """One live event for one user, kept so a reconnecting client can catch up: the client
    asks for every notice after the last id it saw (``recruit.sync``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notices")
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    read = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["user", "id"]),
                   models.Index(fields=["user", "read"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class ClockOffset(models.Model):
    """Seconds added to the recruitment clock, honoured only with HALLSERVER_RECRUIT_TEST_CLOCK
    (browser tests move time to an interview slot without waiting for it)."""

    seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.seconds:+g} s"
