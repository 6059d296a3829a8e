"""Accounts: sign-up, guest upgrade, profiles. Services raise :class:`AccountError`."""


class AccountError(Exception):
    """A refused request: ``code`` is the API error code, ``status`` its HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400, **extra) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.extra = code, message, status, extra
