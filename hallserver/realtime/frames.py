"""Outbound frames, serialised once however many sockets they go to."""

from __future__ import annotations

from typing import Any

import orjson
from autobahn.websocket.protocol import PreparedMessage

#: Frames and bytes sent or received are tallied in one integer (one add per frame, or per
#: fan-out): the frame count above this bit, the byte count below it (see :func:`tally`).
TALLY_FRAME = 1 << 48


def utf8_len(text: str) -> int:
    """UTF-8 length of ``text``, without encoding it when it is ASCII (known in O(1))."""
    return len(text) if text.isascii() else len(text.encode())


def tally(packed: int) -> tuple[int, int]:
    """``(frames, bytes)`` of a tally made of ``TALLY_FRAME + nbytes`` additions."""
    return packed // TALLY_FRAME, packed % TALLY_FRAME


def dumps(obj: Any) -> str:
    """Serialise a frame to JSON text (orjson; non-str keys allowed)."""
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def event(name: str, data: Any) -> str:
    return dumps({"event": name, "data": data})


def reply_ok(request_id: Any, data: Any) -> str:
    return dumps({"reply": request_id, "ok": True, "data": data})


def reply_error(request_id: Any, code: str, message: str, extra: dict | None = None) -> str:
    error = {"code": code, "message": message, **(extra or {})}
    return dumps({"reply": request_id, "ok": False, "error": error})


class OutFrame:
    """A frame on its way to one or many sockets.

    ``text`` is the JSON text; the UTF-8 bytes and the ready-to-write WebSocket frame
    (header included) are computed once, on first use, and shared by every recipient.
    """

    __slots__ = ("_prepared", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._prepared: PreparedMessage | None = None

    @property
    def wire(self) -> bytes:
        """The complete server-to-client WebSocket frame (unmasked, uncompressed)."""
        prepared = self._prepared
        if prepared is None:
            prepared = self._prepared = PreparedMessage(
                self.text.encode(), isBinary=False, applyMask=False, doNotCompress=True
            )
        return prepared.payloadHybi

    def __len__(self) -> int:
        return len(self.text)
