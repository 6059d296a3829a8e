"""Move the recruitment clock (tests only: honoured with HALLSERVER_RECRUIT_TEST_CLOCK)."""

from django.core.management.base import BaseCommand

from recruitment.models import ClockOffset


class Command(BaseCommand):
    help = "Set the seconds added to the recruitment clock (needs HALLSERVER_RECRUIT_TEST_CLOCK)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--offset", type=float, required=True)

    def handle(self, *args, offset: float, **options) -> None:
        ClockOffset.objects.all().delete()
        ClockOffset.objects.create(seconds=offset)
        self.stdout.write(f"recruitment clock offset: {offset:g} s")
