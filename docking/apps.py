from django.apps import AppConfig


class DockingConfig(AppConfig):
    name = "docking"
    verbose_name = "Project docking"

    def ready(self) -> None:
        from hallserver.realtime import jobs

        # Registers the meeting actions, their schemas and error codes.
        from . import (
            actions,  # noqa: F401
            sweeper,
        )

        # Each server process sweeps for meeting reminders and missed meetings itself.
        jobs.register("docking.sweep", sweeper.ensure_started)
