"""The exhibitor console's domain logic. Services raise :class:`ConsoleError` and know nothing
of HTTP or frames; ``api.py`` and ``actions.py`` map the codes to their interfaces."""

from __future__ import annotations

from hallserver.errors import DomainError


class ConsoleError(DomainError):
    """A refused request: ``code`` (docs/api.md, docs/protocol.md), HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int = 400, **extra) -> None:
        super().__init__(code, message, extra)
        self.status = status
