from django.core.management.base import BaseCommand

from console.services.reminders import remind_due


class Command(BaseCommand):
    help = ("Remind (the bell) those whose bookmarked roadshows start within 10 minutes; "
            "run it every minute.")

    def handle(self, *args, **options):
        self.stdout.write(f"{remind_due()} reminders sent")
