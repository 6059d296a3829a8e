"""Moderation across two real daphne processes sharing Redis: a ban issued on one process
disconnects the user on the other and refuses reconnects; a deletion disappears everywhere."""

from __future__ import annotations

import asyncio
import json
from urllib.request import Request, urlopen

import pytest
import websockets

from tests.test_system import Client, guest_cookie, http_json, rooms_of

pytestmark = pytest.mark.system


def login_cookie(base: str, username: str, password: str) -> str:
    _, cookie = http_json(f"{base}/api/session")
    token = dict(c.split("=", 1) for c in cookie.split("; "))["csrftoken"]
    req = Request(f"{base}/api/login",
                  data=json.dumps({"username": username, "password": password}).encode(),
                  headers={"Cookie": cookie, "Content-Type": "application/json",
                           "X-CSRFToken": token, "Referer": base + "/"})
    with urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["user"]["kind"] == "moderator"
        for c in resp.headers.get_all("Set-Cookie"):
            k, v = c.split(";", 1)[0].split("=", 1)
            if k == "sessionid":
                return f"sessionid={v}"
    raise AssertionError("no session cookie")


async def test_a_ban_on_one_process_closes_the_user_on_the_other(two_servers):
    web1, web2 = two_servers
    room = rooms_of(web1)["lobby"]
    victim_cookie = guest_cookie(web2.url, "Troublemaker")
    async with Client(web1, login_cookie(web1.url, "moderator", "moderator-demo")) as mod, \
            Client(web2, victim_cookie) as victim:
        await victim.call("room.join", {"room": room})
        await mod.call("mod.ban", {"user": victim.user["id"], "reason": "spam", "minutes": 60})
        closing = await victim.wait_event("session.closing")
        assert closing["code"] == "banned" and closing["reason"] == "spam"
        assert closing["until"] > 0  # a 60-minute ban
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                while True:
                    await victim.ws.recv()
        assert closed.value.rcvd.code == 4003
        # Coming back through either process is refused the same way.
        for server in (web1, web2):
            ws = await websockets.connect(server.ws_url, origin=server.url,
                                          additional_headers={"Cookie": victim_cookie})
            first = json.loads(await ws.recv())
            assert first["event"] == "session.closing" and first["data"]["code"] == "banned"
            with pytest.raises(websockets.ConnectionClosed):
                async with asyncio.timeout(10):
                    await ws.recv()
            assert ws.close_code == 4003
        await mod.call("mod.unban", {"user": victim.user["id"]})
    async with Client(web2, victim_cookie) as back:
        assert back.user["name"] == "Troublemaker"


async def test_a_deleted_message_disappears_on_both_processes(two_servers):
    web1, web2 = two_servers
    room = rooms_of(web1)["booth2"]
    async with Client(web1, guest_cookie(web1.url, "Writer")) as writer, \
            Client(web2, guest_cookie(web2.url, "Reader")) as reader, \
            Client(web2, login_cookie(web2.url, "moderator", "moderator-demo")) as mod:
        for c in (writer, reader):
            await c.call("room.join", {"room": room})
        seq = (await writer.call("chat.send", {"room": room, "body": "delete me"}))["seq"]
        await reader.wait_event("chat.message", match=lambda d: d["seq"] == seq)
        await mod.call("chat.delete", {"room": room, "seq": seq, "reason": "test"})
        for c in (writer, reader):
            assert await c.wait_event("chat.deleted") == {"room": room, "seq": seq}
        for c in (writer, reader):
            history = await c.call("chat.history", {"room": room})
            gone = next(m for m in history["messages"] if m["seq"] == seq)
            assert gone["deleted"] is True and gone["body"] == ""


async def test_a_lock_on_one_process_holds_on_the_other(two_servers):
    web1, web2 = two_servers
    room = rooms_of(web1)["booth3"]
    async with Client(web1, login_cookie(web1.url, "moderator", "moderator-demo")) as mod, \
            Client(web2, guest_cookie(web2.url, "Visitor")) as visitor:
        await visitor.call("room.join", {"room": room})
        await mod.call("mod.lock", {"room": room, "read_only": True})
        assert (await visitor.wait_event("room.updated"))["read_only"] is True
        rid = 999
        await visitor.ws.send(json.dumps({"action": "chat.send", "id": rid,
                                          "data": {"room": room, "body": "hello?"}}))
        async with asyncio.timeout(10):
            while True:
                frame = json.loads(await visitor.ws.recv())
                if frame.get("reply") == rid:
                    break
        assert frame["error"]["code"] == "room.read_only"
        await mod.call("mod.lock", {"room": room, "read_only": False})
        await visitor.call("chat.send", {"room": room, "body": "open again"})
