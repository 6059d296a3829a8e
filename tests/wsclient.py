"""A protocol-speaking test client over Channels' ``WebsocketCommunicator``."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

ORIGIN = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
#: Seconds a wait for a frame or an event may take before the test fails: only a safety net
#: (waits end as soon as the frame arrives), generous for a loaded machine.
SAFETY_NET = 15.0


@database_sync_to_async
def session_cookie_for(user) -> bytes:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


class WsClient:
    """Sends actions, matches replies by id, and keeps events for later assertions."""

    def __init__(self, user=None) -> None:
        self.user = user
        self.events: list[dict] = []
        self.ready: dict | None = None
        self._ids = itertools.count(1)
        self.comm: WebsocketCommunicator | None = None

    async def connect(self) -> WsClient:
        return await self.connect_from(None)

    async def connect_from(self, client: tuple[str, int] | None) -> WsClient:
        """Connect, as if from the address ``client`` (host, port) when given."""
        from hallserver.asgi import application

        headers = list(ORIGIN)
        if self.user is not None:
            headers.append((b"cookie", await session_cookie_for(self.user)))
        self.comm = WebsocketCommunicator(application, "/ws/", headers=headers)
        if client is not None:
            # The application reads the scope when the socket connects, i.e. after this.
            self.comm.scope["client"] = client
        connected, _ = await self.comm.connect()
        assert connected
        self.ready = await self.next_frame()
        assert self.ready["event"] == "session.ready"
        return self

    async def close(self) -> None:
        """Disconnect; returns once the consumer has run its disconnect (within a generous
        safety net: a loaded machine may take seconds, Channels' default is 1 s)."""
        if self.comm is not None:
            await self.comm.disconnect(timeout=SAFETY_NET)

    async def next_frame(self, within: float = SAFETY_NET) -> dict:
        """The next frame. Waits without ``receive_from``'s timeout, which would cancel the
        application under test."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while await self.comm.receive_nothing(timeout=0.01, interval=0.005):
            if loop.time() > deadline:
                raise TimeoutError(f"no frame within {within}s")
        return json.loads(await self.comm.receive_from())

    async def send_raw(self, text: str | None = None, data: bytes | None = None) -> None:
        # send_input rather than send_to, which refuses an empty text frame.
        message = {"type": "websocket.receive"}
        message.update({"text": text} if text is not None else {"bytes": data})
        await self.comm.send_input(message)

    async def reply(self, request_id: Any, within: float = SAFETY_NET) -> dict:
        while True:
            frame = await self.next_frame(within)
            if "reply" in frame and frame["reply"] == request_id:
                return frame
            self.events.append(frame)

    async def call(self, action: str, data: dict | None = None, **extra) -> dict:
        """Send an action and return the whole reply frame."""
        request_id = next(self._ids)
        frame = {"action": action, "id": request_id, **extra}
        if data is not None:
            frame["data"] = data
        await self.send_raw(json.dumps(frame))
        return await self.reply(request_id)

    async def ok(self, action: str, data: dict | None = None) -> dict:
        frame = await self.call(action, data)
        assert frame["ok"], frame
        return frame["data"]

    async def error(self, action: str, data: dict | None = None, **extra) -> str:
        frame = await self.call(action, data, **extra)
        assert frame["ok"] is False, frame
        assert frame["error"]["message"]
        return frame["error"]["code"]

    async def event(self, name: str, within: float = SAFETY_NET, match=lambda d: True) -> dict:
        """The next event called ``name`` whose data satisfies ``match``."""
        for i, frame in enumerate(self.events):
            if frame.get("event") == name and match(frame["data"]):
                del self.events[i]
                return frame["data"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {name} event within {within}s; got {self.events}")
            frame = await self.next_frame(remaining)
            if frame.get("event") == name and match(frame["data"]):
                return frame["data"]
            self.events.append(frame)

    async def drain(self, seconds: float = 0.4) -> None:
        """Collect whatever arrives within ``seconds`` into ``events``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            try:
                self.events.append(await self.next_frame(remaining))
            except TimeoutError:
                break

    def chat_seqs(self, room: int) -> list[int]:
        return [f["data"]["seq"] for f in self.events
                if f.get("event") == "chat.message" and f["data"]["room"] == room]
