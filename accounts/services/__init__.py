"""Accounts: sign-up, guest upgrade, profiles. Services raise :class:`AccountError`."""

from hallserver.errors import DomainError


class AccountError(DomainError):
    """A refused request: ``code`` is the API error code, ``status`` its HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400, **extra) -> None:
        super().__init__(code, message, extra)
        self.status = status
