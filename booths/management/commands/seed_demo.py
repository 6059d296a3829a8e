"""``manage.py seed_demo``: fill an empty database with the demo expo and demo accounts."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from booths.seed import seed_demo


class Command(BaseCommand):
    help = "Create the demo expo (halls, booths, today's roadshows) and the demo accounts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--booths-per-hall", type=int, default=12, help="booths in each hall (default 12)"
        )

    def handle(self, *args, booths_per_hall: int, **options):
        try:
            report = seed_demo(booths_per_hall=booths_per_hall)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        summary = (
            f"{report.halls} halls, {report.booths} booths from {report.countries} countries, "
            f"{report.roadshows} roadshows, {report.rooms} rooms"
        )
        if report.created:
            self.stdout.write(self.style.SUCCESS(f"Seeded expo '{report.expo_slug}': {summary}."))
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Expo '{report.expo_slug}' already exists ({summary}); nothing was changed."
                )
            )

        rows = [("username", "password", "role")]
        rows += [(a.username, a.password, a.role) for a in report.accounts]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        self.stdout.write("")
        for n, (username, password, role) in enumerate(rows):
            line = f"  {username:<{widths[0]}}  {password:<{widths[1]}}  {role}"
            self.stdout.write(self.style.MIGRATE_HEADING(line) if n == 0 else line)
