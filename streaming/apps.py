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

        # Read when /metrics is scraped: what this process holds anyway.
        from hallserver import metrics

        from .calls import calls_here
        from .roadshows import connections_in_role

        metrics.register_callback(
            "hallserver_calls", "Open booth calls with a participant connected to this "
            "process.", calls_here)
        metrics.register_callback(
            "hallserver_roadshow_viewers", "Connections of this process viewing a roadshow "
            "over WebRTC (through a media worker; HLS viewers are not counted).",
            lambda: connections_in_role("viewer"))
        metrics.register_callback(
            "hallserver_roadshow_presenters", "Connections of this process presenting a "
            "roadshow.", lambda: connections_in_role("presenter"))
