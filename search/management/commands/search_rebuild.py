from django.core.management.base import BaseCommand

from search.services.index import rebuild


class Command(BaseCommand):
    help = "Rebuild every search entry from the booths, jobs, projects and résumés."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"search: {rebuild()} entries")
