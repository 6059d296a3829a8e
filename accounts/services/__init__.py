"""Accounts: sign-up, guest upgrade, profiles.

Services raise :class:`AccountError`, the one account error of the project
(:class:`booths.errors.AccountError`, which guest entry raises too), re-exported here.
"""

from booths.errors import AccountError

__all__ = ["AccountError"]
