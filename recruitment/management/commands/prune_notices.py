"""``manage.py prune_notices``: delete old read notices (run it daily, e.g. from cron)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from recruitment.services.notices import prune


class Command(BaseCommand):
    help = ("Delete notices (the bell and recruit.sync) that were read more than --days ago; "
            "unread notices are kept however old.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=float, default=30.0,
                            help="keep read notices younger than this many days (default 30)")

    def handle(self, *args, days: float, **options) -> None:
        if days < 0:
            raise CommandError("--days must be 0 or more")
        gone = prune(timedelta(days=days))
        self.stdout.write(f"deleted {gone:,} read notices older than {days:g} days")
