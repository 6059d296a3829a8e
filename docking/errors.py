"""Error codes of project docking and the domain error its services raise.

HTTP endpoints answer a :class:`DockError` with its ``status`` in the API's error shape
(docs/api.md); WebSocket actions with the same code (docs/protocol.md, "Error codes"), through
:meth:`booths.actions.Session.handle` like every :class:`~hallserver.errors.DomainError`.
"""

from __future__ import annotations

from hallserver.errors import DomainError


class DockCode:
    """The codes that also appear on the WebSocket (the HTTP ones are in docs/api.md)."""

    NOT_FOUND = "meeting.not_found"
    NOT_NOW = "meeting.not_now"


class DockError(DomainError):
    """A refused docking request: ``code``, ``message``, its HTTP ``status`` and more fields
    for the client (``extra``)."""

    def __init__(self, code: str, message: str, status: int = 400, **extra) -> None:
        super().__init__(code, message, extra)
        self.status = status
