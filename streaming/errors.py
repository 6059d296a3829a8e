"""Error codes of live video and the domain errors its services raise.

The codes are the ones on the wire (docs/protocol.md, "Error codes"); :mod:`streaming.protocol`
re-exports :class:`LiveError` and declares the codes. Services import from here.
"""

from __future__ import annotations

from hallserver.errors import DomainError


class LiveError:
    BOOTH_NOT_FOUND = "call.booth_not_found"
    CALL_NOT_FOUND = "call.not_found"
    CALL_BUSY = "call.busy"
    CALL_NO_STAFF = "call.no_staff"
    CALL_FORBIDDEN = "call.forbidden"
    CALL_FULL = "call.full"
    CALL_WRONG_BOOTH = "call.wrong_booth"
    CALL_ALREADY_JOINED = "call.already_joined"
    CALL_PARTICIPANT_NOT_FOUND = "call.participant_not_found"
    SDP_INVALID = "sdp.invalid"
    LEAD_INVALID = "lead.invalid"
    ROADSHOW_NOT_FOUND = "roadshow.not_found"
    ROADSHOW_NOT_LIVE = "roadshow.not_live"
    ROADSHOW_ENDED = "roadshow.ended"
    ROADSHOW_FORBIDDEN = "roadshow.forbidden"
    ROADSHOW_PRESENTER_BUSY = "roadshow.presenter_busy"
    MEDIA_UNAVAILABLE = "media.unavailable"


class CallError(DomainError):
    """A booth call, knock or lead cannot be had (busy, full, gone, not yours...)."""


class RoadshowError(DomainError):
    """A roadshow is missing, in the wrong state, or has no media worker."""
