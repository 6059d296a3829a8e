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

from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol

DIRECT_EXTENSION = "hallserver.direct"


class HallServer(Server):
    def create_application(self, protocol, scope):
        if isinstance(protocol, WebSocketProtocol):
            scope.setdefault("extensions", {})[DIRECT_EXTENSION] = {"protocol": protocol}
        return super().create_application(protocol, scope)
