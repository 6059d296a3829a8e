"""Schemas, error codes and SDP checks of the live-video actions.

See docs/protocol.md, section "Live video".
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, model_validator

from booths.protocol import ProtocolError, register_error_codes

from .errors import LiveError  # the codes live with the domain errors; re-exported here

BoothId = Annotated[int, Field(ge=1, le=2**53)]
RoadshowId = Annotated[int, Field(ge=1, le=2**53)]
UserId = Annotated[int, Field(ge=1, le=2**53)]
Token = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


register_error_codes(*(v for k, v in vars(LiveError).items() if k.isupper()))


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Empty(_Data):
    pass


class ListenData(_Data):
    booths: Annotated[list[BoothId], Field(min_length=1, max_length=20)]


class BoothRef(_Data):
    booth: BoothId


class KnockRef(_Data):
    knock: Token


class AcceptData(KnockRef):
    # The caller's call to take the knock into (a group call); none: a new call of two.
    call: Token | None = None


class CallRef(_Data):
    call: Token


class IceCandidate(_Data):
    candidate: Annotated[str, Field(max_length=1024)]
    sdpMid: Annotated[str, Field(max_length=64)] | None = None  # WebRTC's names
    sdpMLineIndex: Annotated[int, Field(ge=0, le=64)] | None = None
    usernameFragment: Annotated[str, Field(max_length=256)] | None = None


Sdp = Annotated[str, Field(max_length=64 * 1024)]


class _Signal(_Data):
    type: Literal["offer", "answer", "candidate"]
    sdp: Sdp | None = None
    # null: the end of the candidates
    candidate: IceCandidate | None = None

    @model_validator(mode="after")
    def _fields_of_type(self):
        if self.type == "candidate" and self.sdp is not None:
            raise ValueError("a candidate carries no sdp")
        if self.type != "candidate" and self.sdp is None:
            raise ValueError(f"an {self.type} needs sdp")
        return self

    def payload(self) -> dict:
        if self.type == "candidate":
            return {"type": "candidate",
                    "candidate": self.candidate.model_dump() if self.candidate else None}
        check_sdp(self.sdp or "")
        return {"type": self.type, "sdp": self.sdp}


class SignalData(_Signal):
    call: Token
    # The participant (user id) the signal is for; optional in a call of two.
    to: UserId | None = None


class LeadData(BoothRef):
    contact: Annotated[str, Field(max_length=1000)]
    message: Annotated[str, Field(max_length=10_000)] = ""
    name: Annotated[str, Field(max_length=1000)] | None = None


class RoadshowRef(_Data):
    roadshow: RoadshowId


class RoadshowOffer(RoadshowRef):
    """A complete offer (ICE gathering finished): the worker does not trickle."""

    sdp: Sdp


class ReactionData(RoadshowRef):
    emoji: Literal["👏", "❤️", "👍", "😂", "🎉", "❓"]


_SDP_LINE = re.compile(r"^[a-z]=.*$")


def check_sdp(sdp: str) -> None:
    """Reject what is not a plausible WebRTC session description, with a clear message."""
    limit = settings.LIVE_VIDEO["MAX_SDP_BYTES"]
    if len(sdp.encode()) > limit:
        raise ProtocolError(LiveError.SDP_INVALID, f"The SDP is longer than {limit} bytes.")
    lines = [line for line in sdp.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0] != "v=0":
        raise ProtocolError(LiveError.SDP_INVALID, "The SDP must start with v=0.")
    bad = next((line for line in lines if not _SDP_LINE.match(line)), None)
    if bad is not None:
        raise ProtocolError(LiveError.SDP_INVALID, f"Not an SDP line: {bad[:40]!r}.")
    if not any(line.startswith("m=") for line in lines):
        raise ProtocolError(LiveError.SDP_INVALID, "The SDP has no media section.")
    if not any(line.startswith("a=fingerprint:") for line in lines):
        raise ProtocolError(LiveError.SDP_INVALID, "The SDP has no DTLS fingerprint.")
    if not any(line.startswith("a=ice-ufrag:") for line in lines):
        raise ProtocolError(LiveError.SDP_INVALID, "The SDP has no ICE credentials.")
