"""Inbound frame schemas (pydantic v2) and error codes: the code side of docs/protocol.md.

A frame is validated in one pass straight from JSON text by a discriminated union on
``action`` over every registered action (:func:`register_frame`); :func:`parse_frame` turns
every way a frame can be wrong into a :class:`ProtocolError` with the right code, keeping the
request id when it can be read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from .errors import ErrorCode  # the codes live with the domain errors; re-exported here

RequestId = Annotated[int, Field(ge=0, le=2**53)] | Annotated[str, Field(max_length=64)]
RoomId = Annotated[int, Field(ge=1, le=2**53)]
Seq = Annotated[int, Field(ge=0, le=2**53)]

ALL_ERROR_CODES: set[str] = {v for k, v in vars(ErrorCode).items() if k.isupper()}


def register_error_codes(*codes: str) -> None:
    """Declare error codes of another app (each must be documented in docs/protocol.md)."""
    ALL_ERROR_CODES.update(codes)


class ProtocolError(Exception):
    """A request that is answered with an error reply; the connection carries on."""

    def __init__(self, code: str, message: str, request_id: Any = None,
                 extra: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id
        # More fields for the error object, e.g. {"retry_after": 3}.
        self.extra = extra or {}


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PingData(_Data):
    t: float | None = None


class RoomRef(_Data):
    room: RoomId


class PresenceCountsData(_Data):
    hall: RoomId
    rooms: Annotated[list[RoomId], Field(max_length=100)]


class RoomJoinData(RoomRef):
    since: Seq | None = None


class ChatSendData(RoomRef):
    # Length limits are checked by the chat service to answer chat.too_long; this bound
    # only keeps absurd input out of the validator.
    body: Annotated[str, Field(max_length=100_000)]
    # The sender's id for this message, unique per sender and room: a send retried with the
    # same id is stored once and answered with the original's seq (docs/protocol.md).
    client_id: Annotated[str, Field(min_length=1, max_length=64,
                                    pattern=r"^[A-Za-z0-9._:-]+$")] | None = None


class ChatHistoryData(RoomRef):
    before: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# Frame models by action name. Apps add their actions with register_frame() (through
# booths.actions.action), so the union below is rebuilt when the set changes.
FRAMES: dict[str, type[_Frame]] = {}
ACTIONS: set[str] = set()
_adapter: TypeAdapter | None = None


def register_frame(name: str, data_model: type[BaseModel], *, id_optional: bool = False) -> None:
    """Declare the frame of action ``name``: ``{"action": name, "id": ..., "data": ...}``."""
    global _adapter
    try:
        default_data = data_model()
    except ValidationError:
        default_data = ...  # data is required
    model = create_model(
        f"{name}.frame",
        __base__=_Frame,
        action=(Literal[name], ...),
        id=(RequestId | None, None) if id_optional else (RequestId, ...),
        data=(data_model, default_data),
    )
    FRAMES[name] = model
    ACTIONS.add(name)
    _adapter = None


def _frame_adapter() -> TypeAdapter:
    global _adapter
    if _adapter is None:
        union = Union[tuple(FRAMES.values())]  # noqa: UP007 - built at run time
        _adapter = TypeAdapter(Annotated[union, Field(discriminator="action")])
    return _adapter


def parse_frame(text: str | bytes) -> Any:
    """Validate one inbound frame, or raise :class:`ProtocolError`."""
    try:
        return _frame_adapter().validate_json(text)
    except ValidationError as exc:
        raise _explain(text, exc) from None


def _explain(text: str | bytes, exc: ValidationError) -> ProtocolError:
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError:
        return ProtocolError(ErrorCode.FRAME_MALFORMED, "The frame is not valid JSON.")
    if not isinstance(raw, dict):
        return ProtocolError(ErrorCode.FRAME_MALFORMED, "The frame must be a JSON object.")
    request_id = raw.get("id")
    if not isinstance(request_id, int | str) or isinstance(request_id, bool):
        request_id = None
    action = raw.get("action")
    if isinstance(action, str) and action not in ACTIONS:
        return ProtocolError(ErrorCode.ACTION_UNKNOWN, f"Unknown action {action[:64]!r}.",
                             request_id)
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"][1:]) or "frame"
    return ProtocolError(ErrorCode.FRAME_INVALID, f"{where}: {first['msg']}", request_id)
