"""The floor: a bare ``websockets`` server relaying every text frame to its room.

    python -m bench.baselines.ws_broadcast --port 8002 [--redis redis://127.0.0.1:6379/0]

The room is the request path (``/ws/bench/``). A text frame is sent verbatim to every
connection in the room with ``websockets.broadcast`` (the sender included), except pings
(frames starting with ``{"action":"ping"``), which are answered to the sender only with
``{"reply": n, "ok": true, "data": ...}``.

With ``--redis`` (several processes), a frame is published to a Redis channel per room and every
process broadcasts what its single subscription receives to its local members: one Redis
subscription per room per process, the text relayed as is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

PING_PREFIX = '{"action":"ping"'


class Relay:
    def __init__(self, redis_url: str | None, prefix: str) -> None:
        self.rooms: dict[str, set[ServerConnection]] = {}
        self.redis_url = redis_url
        self.prefix = prefix
        self._redis = None
        self._pubsub = None
        self._reader: asyncio.Task | None = None

    async def handler(self, ws: ServerConnection) -> None:
        room = ws.request.path
        members = self.rooms.get(room)
        if members is None:
            members = self.rooms[room] = set()
            if self.redis_url:
                await self._subscribe(room)
        members.add(ws)
        try:
            async for text in ws:
                if not isinstance(text, str):
                    continue
                if text.startswith(PING_PREFIX):
                    frame = json.loads(text)
                    await ws.send(json.dumps({"reply": frame.get("id"), "ok": True,
                                              "data": frame.get("data")}))
                elif self._redis is not None:
                    await self._redis.publish(self.prefix + room, text)
                else:
                    broadcast(members, text)
        except ConnectionClosed:  # the load generators abort their sockets at the end
            pass
        finally:
            members.discard(ws)

    async def _subscribe(self, room: str) -> None:
        import redis.asyncio as aioredis

        if self._redis is None:
            self._redis = aioredis.Redis.from_url(self.redis_url)
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self.prefix + room)
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        cut = len(self.prefix)
        async for message in self._pubsub.listen():
            if message["type"] != "message":
                continue
            members = self.rooms.get(message["channel"].decode()[cut:])
            if members:
                broadcast(members, message["data"].decode())


async def main(port: int, redis_url: str | None, prefix: str) -> None:
    relay = Relay(redis_url, prefix)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    # Library defaults except compression, which no target of the benchmark negotiates.
    async with serve(relay.handler, "127.0.0.1", port, compression=None):
        print(f"ws_broadcast listening on 127.0.0.1:{port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis", default=None, help="relay through Redis pub/sub")
    parser.add_argument("--prefix", default="wsb:")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.redis, args.prefix))
