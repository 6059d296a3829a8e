"""Save/delete hooks that keep the search entries in step with the records.

Hooks rather than database triggers, because an entry is built from several tables (a job
takes its booth's name and hall, a résumé its owner's opt-in) and from JSON, which one
trigger per vendor would have to repeat in two SQL dialects. ``post_save``/``post_delete``
run on the same connection inside whatever transaction the save runs in, so the entry commits
or rolls back with the record. Bulk writes (``bulk_create``, ``QuerySet.update``) skip them:
run ``python manage.py search_rebuild`` after one.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Account
from booths.models import Booth
from docking.models import Project
from recruitment.models import Job, Resume

from .models import Entry
from .services import index


@receiver(post_save, sender=Booth)
def _booth_saved(sender, instance: Booth, **kwargs) -> None:
    index.put(index.booth_entry(instance))
    for job in Job.objects.filter(booth=instance).select_related("booth"):
        index.put(index.job_entry(job))
    for project in Project.objects.filter(booth=instance).select_related("booth"):
        index.put(index.project_entry(project))


@receiver(post_delete, sender=Booth)
def _booth_deleted(sender, instance: Booth, **kwargs) -> None:
    index.drop(Entry.Kind.BOOTH, instance.pk)


@receiver(post_save, sender=Job)
def _job_saved(sender, instance: Job, **kwargs) -> None:
    index.put(index.job_entry(instance))


@receiver(post_delete, sender=Job)
def _job_deleted(sender, instance: Job, **kwargs) -> None:
    index.drop(Entry.Kind.JOB, instance.pk)


@receiver(post_save, sender=Project)
def _project_saved(sender, instance: Project, **kwargs) -> None:
    index.put(index.project_entry(instance))


@receiver(post_delete, sender=Project)
def _project_deleted(sender, instance: Project, **kwargs) -> None:
    index.drop(Entry.Kind.PROJECT, instance.pk)


@receiver(post_save, sender=Resume)
def _resume_saved(sender, instance: Resume, **kwargs) -> None:
    index.index_resume(instance.user_id)


@receiver(post_delete, sender=Resume)
def _resume_deleted(sender, instance: Resume, **kwargs) -> None:
    index.drop(Entry.Kind.RESUME, instance.user_id)


@receiver(post_save, sender=Account)
def _account_saved(sender, instance: Account, **kwargs) -> None:
    index.index_resume(instance.user_id)
