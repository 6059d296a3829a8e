from django.apps import AppConfig


class BoothsConfig(AppConfig):
    name = "booths"
    verbose_name = "Expo and booths"

    def ready(self) -> None:
        from . import runtime, signals  # noqa: F401  (signals register room creation)

        runtime.install()
