"""Run the meeting sweep once: due reminders out, finished meetings marked done or missed."""

from django.core.management.base import BaseCommand

from docking.services import meetings
from recruitment import clock


class Command(BaseCommand):
    help = "Send due meeting reminders and mark finished meetings (done or missed) once."

    def handle(self, *args, **options) -> None:
        self.stdout.write(str(meetings.sweep(clock.now())))
