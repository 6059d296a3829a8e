from django.apps import AppConfig


class RecruitmentConfig(AppConfig):
    name = "recruitment"
    verbose_name = "Recruitment"

    def ready(self) -> None:
        # Registers the recruitment actions, their schemas and error codes.
        from . import actions  # noqa: F401
