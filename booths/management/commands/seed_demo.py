"""``manage.py seed_demo``: fill an empty database with the demo expo and demo accounts."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from booths.seed import SCALES, seed_demo


class Command(BaseCommand):
    help = "Create the demo expo (halls, booths, today's roadshows) and the demo accounts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", choices=list(SCALES), default="demo",
            help="how big: demo (72 booths, the default) or large (5,000 booths)",
        )
        parser.add_argument(
            "--booths-per-hall", type=int, default=None,
            help="booths in each hall (overrides the scale's)",
        )

    def handle(self, *args, scale: str, booths_per_hall: int | None, **options):
        last = [-1]

        def progress(step: str, done: int, total: int) -> None:
            # One line per tenth (and the last), so a log stays short.
            tenth = done * 10 // max(1, total)
            if tenth != last[0] or done == total:
                last[0] = tenth
                self.stdout.write(f"  {step}: {done:,}/{total:,} ({done * 100 // max(1, total)} %)")

        try:
            report = seed_demo(booths_per_hall=booths_per_hall, scale=scale, progress=progress)
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
