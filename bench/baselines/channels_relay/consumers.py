"""The chat consumer, as the Channels tutorial writes it.

Protocol (what the load generator speaks): every text frame is JSON. ``{"message": ...}`` goes
to everyone in the room (the sender included) as ``{"message": ...}``;
``{"action": "ping", "id": n, "data": {...}}`` is answered to the sender only with
``{"reply": n, "ok": true, "data": {...}}``.
"""

import json

from channels.generic.websocket import AsyncWebsocketConsumer


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"room_{self.room_name}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)
        if data.get("action") == "ping":
            await self.send(text_data=json.dumps(
                {"reply": data.get("id"), "ok": True, "data": data.get("data")}
            ))
            return
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": data["message"]}
        )

    async def chat_message(self, event):
        await self.send(text_data=json.dumps({"message": event["message"]}))
