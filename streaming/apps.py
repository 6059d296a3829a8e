from django.apps import AppConfig


class StreamingConfig(AppConfig):
    name = "streaming"
    verbose_name = "Live media"

    def ready(self) -> None:
        # Registers the live-video actions, their schemas and error codes, and hears about
        # closed sockets (a knock leaves its queue, a call waits for the peer to come back).
        from booths.actions import CLOSE_HOOKS

        from . import actions, roadshows  # noqa: F401

        if actions.on_session_closed not in CLOSE_HOOKS:
            CLOSE_HOOKS.append(actions.on_session_closed)
