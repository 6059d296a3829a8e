"""``manage.py seed_demo``: fill an empty database with the demo expo and demo accounts, or
with the whole conference (``--scale conference``)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from booths.seed import SCALES, seed_demo


class _Progress:
    """A tqdm bar per step on a terminal; elsewhere one short line per tenth of a step."""

    def __init__(self, out, tty: bool) -> None:
        self.out, self.tty = out, tty
        self.bars: dict = {}
        self.last: dict[str, int] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if self.tty:
            from tqdm import tqdm

            bar = self.bars.get(step)
            if bar is None:
                for other in self.bars.values():
                    other.close()
                bar = self.bars[step] = tqdm(total=total, desc=f"{step:>12}", unit=" rows",
                                             file=sys.stderr, leave=True, dynamic_ncols=True)
            bar.total = total
            bar.update(done - bar.n)
            return
        tenth = done * 10 // max(1, total)
        if tenth != self.last.get(step) or done == total:
            self.last[step] = tenth
            self.out.write(f"  {step}: {done:,}/{total:,} ({done * 100 // max(1, total)} %)")

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class Command(BaseCommand):
    help = ("Create the demo expo (halls, booths, today's roadshows) and the demo accounts, "
            "or with --scale conference the whole conference.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", choices=list(SCALES), default="demo",
            help="how big: demo (72 booths, the default), large (5,000 booths) or conference "
                 "(5,000 organisations, 60,000 people, 3,200 projects, 30,000 jobs, 90,000 "
                 "résumés, four days of roadshows and forums)",
        )
        parser.add_argument(
            "--booths-per-hall", type=int, default=None,
            help="booths in each hall (overrides the scale's; not with conference)",
        )
        parser.add_argument(
            "--seed", type=int, default=None,
            help="random seed: the same seed gives the same expo (default 42; conference: 1, "
                 "the matchmaking benchmark's)",
        )
        parser.add_argument(
            "--fraction", type=float, default=1.0,
            help="conference only: every count times this (e.g. 0.01 for a small test expo)",
        )

    def handle(self, *args, scale: str, booths_per_hall: int | None, seed: int | None,
               fraction: float, **options):
        tty = hasattr(self.stdout, "isatty") and self.stdout.isatty()
        progress = _Progress(self.stdout, tty)
        try:
            report = seed_demo(booths_per_hall=booths_per_hall, scale=scale, progress=progress,
                               seed=seed, fraction=fraction)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.close()

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
        if report.counts:
            self.stdout.write("  " + ", ".join(f"{v:,} {k}" for k, v in report.counts.items()))
        if report.timings:
            total = sum(report.timings.values())
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
            self.stdout.write(f"  time: {total:.1f} s ({steps})")

        rows = [("username", "password", "role")]
        rows += [(a.username, a.password, a.role) for a in report.accounts]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        self.stdout.write("")
        for n, (username, password, role) in enumerate(rows):
            line = f"  {username:<{widths[0]}}  {password:<{widths[1]}}  {role}"
            self.stdout.write(self.style.MIGRATE_HEADING(line) if n == 0 else line)
        if report.counts:
            from booths.conference import PERSON_PASSWORD

            self.stdout.write(f"  Every other generated person signs in with the password "
                              f"'{PERSON_PASSWORD}' (usernames: team*, partner*, angel*, "
                              "founder*, cand*).")
