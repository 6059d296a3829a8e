from django.core.management.base import BaseCommand

from console.services.reminders import remind_due


class Command(BaseCommand):
    help = ("Remind (the bell) those whose bookmarked roadshows start within 10 minutes, now. "
            "Every server process also does it by itself every HALLSERVER_REMINDER_INTERVAL "
            "seconds; each reminder is sent once either way.")

    def handle(self, *args, **options):
        self.stdout.write(f"{remind_due()} reminders sent")
