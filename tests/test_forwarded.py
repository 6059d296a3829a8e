"""Which client address a request gets behind (or pretending to be behind) a proxy."""

from __future__ import annotations

import pytest

from hallserver.forwarded import ForwardedFor, forwarded_client, networks

TRUSTED = networks(["127.0.0.0/8", "10.0.0.0/8", "::1/128"])


@pytest.mark.parametrize(("peer", "header", "expected"), [
    # nginx (trusted) sets the header to the peer it saw.
    ("10.0.0.5", "203.0.113.7", "203.0.113.7"),
    # A client's own header in front of what the proxy appended: the proxy's entry wins.
    ("10.0.0.5", "198.51.100.1, 203.0.113.7", "203.0.113.7"),
    # Two trusted proxies in a row: skip them to the first untrusted hop from the right.
    ("127.0.0.1", "203.0.113.7, 10.0.0.9", "203.0.113.7"),
    # Straight from the internet: whatever the header says, the peer stays.
    ("203.0.113.50", "198.51.100.1", None),
    # Unreadable hops stop the walk; only trusted hops: nothing to believe.
    ("10.0.0.5", "unknown", None),
    ("10.0.0.5", "10.0.0.1", None),
    # Ports and IPv6 forms as proxies write them.
    ("10.0.0.5", "203.0.113.7:5123", "203.0.113.7"),
    ("::1", "[2001:db8::1]:443", "2001:db8::1"),
])
def test_forwarded_client(peer, header, expected):
    assert forwarded_client(peer, header, TRUSTED) == expected


async def _client_seen(app: ForwardedFor, scope: dict):
    seen = {}

    async def inner(scope, receive, send):
        seen["client"] = scope.get("client")

    app.app = inner
    await app(scope, None, None)
    return seen["client"]


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["http", "websocket"])
async def test_middleware_rewrites_the_scope_only_for_trusted_peers(kind):
    app = ForwardedFor(None, ["10.0.0.0/8"])
    headers = [(b"x-forwarded-for", b"203.0.113.7")]
    trusted = {"type": kind, "client": ["10.1.2.3", 5000], "headers": headers}
    assert await _client_seen(app, trusted) == ["203.0.113.7", 5000]
    direct = {"type": kind, "client": ["198.51.100.4", 5000], "headers": headers}
    assert await _client_seen(app, direct) == ["198.51.100.4", 5000]
    # Several header lines are one list, in order.
    split = {"type": kind, "client": ["10.1.2.3", 1],
             "headers": [(b"x-forwarded-for", b"198.51.100.1"),
                         (b"x-forwarded-for", b"203.0.113.8")]}
    assert await _client_seen(app, split) == ["203.0.113.8", 1]
