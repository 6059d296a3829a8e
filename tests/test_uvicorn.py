"""Hallserver on the optional uvicorn server (``hallserver serve --server uvicorn``).

A uvicorn process and a daphne process share one database and a real Redis: a visitor on
each chats with the other, sees the other arrive, and a bad frame on the uvicorn side is
answered with an error while the connection carries on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from tests.conftest import ServerProcess, server_cluster
from tests.test_system import Client, chat_reaches, guest_cookie, rooms_of

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def mixed_servers(tmp_path_factory, redis_url) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with server_cluster(tmp_path_factory, redis_url, ("daphne", "daphne"),
                        ("uvicorn", "uvicorn")) as (daphne, uvicorn):
        yield daphne, uvicorn


async def test_uvicorn_and_daphne_serve_one_expo_together(mixed_servers):
    daphne, uvicorn = mixed_servers
    room = rooms_of(uvicorn)["booth"]
    async with Client(daphne, guest_cookie(daphne.url, "Ann on daphne")) as a, \
            Client(uvicorn, guest_cookie(uvicorn.url, "Ben on uvicorn")) as b:
        await a.call("room.join", {"room": room})
        joined = await b.call("room.join", {"room": room})
        assert joined["presence"]["count"] == 2
        await a.wait_event("presence.update", match=lambda d: any(
            u["name"] == "Ben on uvicorn" for u in d.get("joined", [])))
        got = await chat_reaches(b, a, room, "from uvicorn")
        assert got["user"]["name"] == "Ben on uvicorn"
        await chat_reaches(a, b, room, "from daphne")

        # Bad input on uvicorn: an error code each time, and the socket carries on.
        await b.ws.send("{not json")
        await b.ws.send(json.dumps({"action": "chat.send", "id": "big",
                                    "data": {"room": room, "body": "x" * 20_000}}))
        await b.ws.send(json.dumps({"action": "no.such.action", "id": "what"}))
        errors = []
        async with asyncio.timeout(10):
            while len(errors) < 3:
                frame = json.loads(await b.ws.recv())
                if "error" in frame:
                    errors.append((frame["reply"], frame["error"]["code"]))
        # (an oversize frame is not parsed, so its request id is unknown)
        assert errors == [(None, "frame.malformed"), (None, "frame.too_large"),
                          ("what", "action.unknown")]
        assert (await b.call("ping", {"t": 7}))["t"] == 7
    assert "server: uvicorn" in uvicorn.output()
    assert "server: daphne" in daphne.output()
