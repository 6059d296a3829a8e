"""The client's address behind a reverse proxy, believed only when a trusted proxy says it.

With ``HALLSERVER_PROXY_HEADERS`` on, the ASGI scope's ``client`` (which the throttles, the
anonymous-socket cap and the metrics allow-list key on) is taken from ``X-Forwarded-For``,
but only when the TCP peer is inside ``HALLSERVER_TRUSTED_PROXIES``. The address taken is the
rightmost one in the header that is not itself a trusted proxy: a client may put anything at
the front of the header, but each proxy appends (or, like our nginx, sets) the peer it saw.
A request reaching the server port directly from an untrusted address keeps its own peer
address whatever headers it sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(spec: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec
                 if item.strip())


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def forwarded_client(peer: str, header: str, trusted: tuple[Network, ...]) -> str | None:
    """The client address to believe for a request from ``peer`` carrying ``header`` (the
    X-Forwarded-For value), or None to keep the peer."""
    peer_ip = _address(peer)
    if peer_ip is None or not any(peer_ip in net for net in trusted):
        return None
    for item in reversed(header.split(",")):
        ip = _address(item)
        if ip is None:
            return None  # a hop we cannot read: stop believing the header here
        if not any(ip in net for net in trusted):
            return str(ip)
    return None


class ForwardedFor:
    """ASGI middleware rewriting ``scope["client"]`` as :func:`forwarded_client` says."""

    def __init__(self, app, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = networks(trusted)

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            header = b""
            for name, value in scope.get("headers", ()):
                if name == b"x-forwarded-for":
                    header = value if not header else header + b"," + value
            if header:
                peer, port = scope["client"][0], scope["client"][1]
                client = forwarded_client(peer, header.decode("latin-1"), self.trusted)
                if client is not None:
                    scope = dict(scope, client=[client, port])
        return await self.app(scope, receive, send)
