"""Domain errors: how services say no, without knowing who asked or over what.

A service (``<app>/services/``, ``streaming/calls.py`` ...) raises a :class:`DomainError`, or a
subclass of its domain, with the error ``code`` the client will see and a ``message`` for
people. It never imports the protocol or frames modules. The action layer turns it into the
reply in one place (:meth:`booths.actions.Session.handle` for WebSocket actions); over HTTP
the API's one handler in ``hallserver/api.py`` answers it (endpoints let it through; a
subclass may carry the HTTP ``status`` its code alone does not say).

Codes are declared by each app beside its subclasses (``booths/errors.py``,
``streaming/errors.py``, ``recruitment/errors.py``) and documented in docs/protocol.md (the
HTTP-only ones in docs/api.md).
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses; the caller carries on.

    ``extra`` holds more fields for the client, e.g. ``{"retry_after": 3}``.
    """

    def __init__(self, code: str, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"
