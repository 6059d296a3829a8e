"""daphne, with a direct path from the hub to the socket.

daphne hands an ASGI application a ``send`` coroutine that ends in autobahn's
``sendMessage``, which frames the payload anew for every socket and buffers without limit in
the Twisted transport. For fan-out we want the opposite: frame once, write the same bytes to
every socket, and see how much each socket still has unsent. This subclass puts the
WebSocket protocol object into the scope under the ``hallserver.direct`` extension;
:class:`hallserver.realtime.connection.DirectConnection` uses it. Under any other ASGI server
the extension is absent and connections fall back to a bounded queue in front of ``send``.

It relies on daphne 4.2 / autobahn / Twisted internals (pinned in pyproject.toml and covered by
tests/test_system.py).
"""

from __future__ import annotations

import pprint

import autobahn.websocket.protocol as autobahn_protocol
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol

DIRECT_EXTENSION = "hallserver.direct"


class _LazyPformat:
    """A value that is pretty-printed only if a log message really formats it."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        return format(pprint.pformat(self.value), spec)

    def __str__(self) -> str:
        return pprint.pformat(self.value)


def _lazy_autobahn_debug() -> None:
    """autobahn pretty-prints its ~40 protocol options for a debug log line on every new
    connection (``WebSocketProtocol._connectionMade``), whether debug logging is on or not:
    5 % of the server's CPU in a handshake storm. Make that argument lazy. Its one other use
    that must return text (``Timings.__str__``) gets the real pformat back."""
    if autobahn_protocol.pformat is _LazyPformat:
        return
    autobahn_protocol.pformat = _LazyPformat
    autobahn_protocol.Timings.__str__ = lambda self: pprint.pformat(self._timings)


_lazy_autobahn_debug()


class HallServer(Server):
    def create_application(self, protocol, scope):
        if isinstance(protocol, WebSocketProtocol):
            scope.setdefault("extensions", {})[DIRECT_EXTENSION] = {"protocol": protocol}
        return super().create_application(protocol, scope)
