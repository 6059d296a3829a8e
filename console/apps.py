from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from docking.signals import meeting_changed
        from hallserver.realtime import jobs
        from recruitment.models import Application
        from streaming.models import Lead

        from . import actions  # noqa: F401  (registers the WebSocket actions)
        from .services import reminders
        from .signals import application_saved, lead_saved
        from .signals import meeting_changed as on_meeting

        post_save.connect(lead_saved, sender=Lead, dispatch_uid="console.lead")
        post_save.connect(application_saved, sender=Application,
                          dispatch_uid="console.application")
        meeting_changed.connect(on_meeting, dispatch_uid="console.meeting")
        # Each server process sweeps for roadshow reminders itself.
        jobs.register("console.reminders", reminders.loop.start)
