"""New inbox items reach the booth's staff at once: a bell notice for a new lead, and the
inbox's unread counts (``console.inbox``) for every new lead, application, meeting request and
answer to one."""

from __future__ import annotations

from django.db import transaction

from recruitment.services.notices import booth_staff, notify

from .services import inbox


def lead_saved(sender, instance, created: bool, **kwargs) -> None:
    if not created:
        return
    notify(booth_staff(instance.booth_id), "lead.new", {
        "lead": instance.pk, "booth": instance.booth_id, "name": instance.name})
    booth = instance.booth_id
    transaction.on_commit(lambda: inbox.changed(booth))


def application_saved(sender, instance, created: bool, **kwargs) -> None:
    if created:
        booth = instance.booth_id
        transaction.on_commit(lambda: inbox.changed(booth))


def meeting_changed(sender, meeting, kind: str, **kwargs) -> None:
    """A meeting request asked of the booth, or an answer to it: new counts after commit."""
    for booth in inbox.meeting_booths(meeting):
        transaction.on_commit(lambda booth=booth: inbox.changed(booth))
