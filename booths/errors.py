"""Error codes of the booths app and the domain errors its services raise.

The codes are the ones on the wire (docs/protocol.md, "Error codes"); :mod:`booths.protocol`
re-exports :class:`ErrorCode`. Services import from here, never from the protocol module.
"""

from __future__ import annotations

from hallserver.errors import DomainError


class ErrorCode:
    FRAME_MALFORMED = "frame.malformed"
    FRAME_TOO_LARGE = "frame.too_large"
    FRAME_INVALID = "frame.invalid"
    ACTION_UNKNOWN = "action.unknown"
    AUTH_REQUIRED = "auth.required"
    ROOM_NOT_FOUND = "room.not_found"
    ROOM_FORBIDDEN = "room.forbidden"
    ROOM_NOT_JOINED = "room.not_joined"
    ROOM_TOO_MANY = "room.too_many"
    ROOM_READ_ONLY = "room.read_only"
    CHAT_EMPTY = "chat.empty"
    CHAT_TOO_LONG = "chat.too_long"
    CHAT_NOT_STORED = "chat.not_stored"
    SERVER_ERROR = "server.error"
    PERM_DENIED = "perm.denied"
    USER_NOT_FOUND = "user.not_found"
    MESSAGE_NOT_FOUND = "message.not_found"
    CHAT_MUTED = "chat.muted"
    CHAT_SLOW_MODE = "chat.slow_mode"
    CHAT_BLOCKED = "chat.blocked"
    RATE_LIMITED = "rate.limited"
    QUESTION_NOT_FOUND = "question.not_found"
    ROADSHOW_NOT_FOUND = "roadshow.not_found"
    ROADSHOW_NOT_LIVE = "roadshow.not_live"
    REPORT_NOT_FOUND = "report.not_found"
    HELD_NOT_FOUND = "held.not_found"


class ChatError(DomainError):
    """Chat refuses a message or cannot find one (muted, read-only, slow mode, no such seq)."""


class ModerationError(DomainError):
    """Moderation data is missing or in the wrong state (no such user, report, question...)."""


class DirectoryError(DomainError):
    """The expo directory has no such expo, hall or booth (``expo.not_found``,
    ``hall.not_found``, ``booth.not_found``: HTTP API codes, docs/api.md)."""


class AccountError(DomainError):
    """An account refused: guest entry here (``guest.invalid_name``), sign-up, guest upgrade
    and profiles in ``accounts/`` (``account.*``, ``profile.not_found``): HTTP API codes,
    docs/api.md. ``status`` is the HTTP status when the code alone does not say it (409 for
    ``account.taken``); without it :func:`hallserver.api.domain_status` picks one."""

    def __init__(self, code: str, message: str, status: int | None = None, **extra) -> None:
        super().__init__(code, message, extra)
        self.status = status
