from django.apps import AppConfig


class DockingConfig(AppConfig):
    name = "docking"
    verbose_name = "Project docking"

    def ready(self) -> None:
        # Registers the meeting actions, their schemas and error codes.
        from . import actions  # noqa: F401
