"""Error codes of recruitment and the domain error its services raise.

HTTP endpoints answer a :class:`RecruitError` with its ``status`` in the API's error shape
(docs/api.md); WebSocket actions with the same code (docs/protocol.md, "Error codes"), through
:meth:`booths.actions.Session.handle` like every :class:`~hallserver.errors.DomainError`.
"""

from __future__ import annotations

from hallserver.errors import DomainError


class RecruitCode:
    """The codes that also appear on the WebSocket (the HTTP ones are in docs/api.md)."""

    SLOT_NOT_FOUND = "slot.not_found"
    NOT_NOW = "interview.not_now"


class RecruitError(DomainError):
    """A refused recruitment request: ``code``, ``message``, its HTTP ``status`` and more
    fields for the client (``extra``)."""

    def __init__(self, code: str, message: str, status: int = 400, **extra) -> None:
        super().__init__(code, message, extra)
        self.status = status
