from django.apps import AppConfig


class BoothsConfig(AppConfig):
    name = "booths"
    verbose_name = "Expo and booths"

    def ready(self) -> None:
        # signals: room creation; actions: the protocol's actions and their schemas.
        from . import actions, moderation, runtime, signals  # noqa: F401

        runtime.install()
