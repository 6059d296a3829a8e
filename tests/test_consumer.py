"""Consumer tests: every action, event and error code of docs/protocol.md, in one process
(in-memory channel layer), through Channels' WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from booths import actions
from booths.models import Booth, BoothStaff, ChatMessage, Profile, Room
from booths.seed import seed_demo
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_world():
    """A small expo: the seeded demo, plus handles on a hall, booth rooms and users."""
    seed_demo()
    exhibitor = get_user_model().objects.get(username="exhibitor")
    booth = Booth.objects.get(boothstaff__user=exhibitor)
    rooms = {
        "booth": Room.objects.get(kind="booth", booth=booth),
        "staff": Room.objects.get(kind="staff", booth=booth),
        "lobby": Room.objects.get(kind="lobby", hall=booth.hall),
        "other": Room.objects.filter(kind="booth", hall=booth.hall).exclude(booth=booth).first(),
    }
    return {"booth": booth, "rooms": {k: r.pk for k, r in rooms.items()},
            "exhibitor": exhibitor}


@database_sync_to_async
def make_user(name: str):
    user = get_user_model().objects.create_user(username=name.lower(), password=None)
    Profile.objects.create(user=user, display_name=name, kind=Profile.Kind.VISITOR)
    return user


@pytest.fixture
async def world():
    return await make_world()


async def connected(user=None) -> WsClient:
    return await WsClient(user).connect()


# --- connection and ping -------------------------------------------------------------------------

async def test_session_ready_describes_the_user_and_limits(world):
    anon = await connected()
    assert anon.ready["data"]["user"] is None
    assert anon.ready["data"]["limits"]["max_chat_chars"] == 2000
    staff = await connected(world["exhibitor"])
    me = staff.ready["data"]["user"]
    assert me["name"] and me["kind"] == "exhibitor"
    assert me["staff_of"] == [world["booth"].pk]
    assert me["moderator"] is False and me["admin"] is False
    await anon.close()
    await staff.close()


async def test_ping_echoes_and_works_without_id(world):
    c = await connected()
    data = await c.ok("ping", {"t": 12.5})
    assert data["t"] == 12.5 and data["server_time"] > 0
    await c.send_raw(json.dumps({"action": "ping"}))
    frame = await c.next_frame()
    assert frame["reply"] is None and frame["ok"] is True
    await c.close()


async def test_foreign_origin_is_refused(world):
    from channels.testing import WebsocketCommunicator

    from hallserver.asgi import application

    comm = WebsocketCommunicator(application, "/ws/",
                                 headers=[(b"origin", b"http://evil.example")])
    connected_, _ = await comm.connect()
    assert not connected_


# --- rooms ---------------------------------------------------------------------------------------

async def test_join_returns_room_history_and_presence(world):
    alice = await make_user("Alice")
    c = await connected(alice)
    data = await c.ok("room.join", {"room": world["rooms"]["booth"]})
    assert data["room"]["kind"] == "booth" and data["room"]["booth"] == world["booth"].pk
    assert data["history"] == [] and data["has_more"] is False
    assert data["presence"]["count"] == 1
    assert data["presence"]["users"] == [{"id": alice.pk, "name": "Alice", "staff": False}]
    assert "counts" not in data
    await c.close()


async def test_lobby_join_carries_counts_of_the_halls_booths(world):
    bob = await make_user("Bob")
    visitor = await connected(bob)
    await visitor.ok("room.join", {"room": world["rooms"]["booth"]})
    lobby = await connected()
    data = await lobby.ok("room.join", {"room": world["rooms"]["lobby"]})
    counts = {int(k): v for k, v in data["counts"].items()}
    # Only booths with someone in them are listed; the total covers the whole hall.
    assert counts == {world["rooms"]["booth"]: 1}
    assert data["total"] == 1
    exact = await lobby.ok("presence.counts", {"hall": world["booth"].hall_id,
                                               "rooms": [world["rooms"]["booth"],
                                                         world["rooms"]["other"]]})
    assert exact["counts"] == {str(world["rooms"]["booth"]): 1, str(world["rooms"]["other"]): 0}
    await visitor.close()
    await lobby.close()


async def test_leave_and_leave_twice(world):
    c = await connected()
    room = world["rooms"]["booth"]
    await c.ok("room.join", {"room": room})
    assert await c.ok("room.leave", {"room": room}) == {}
    assert await c.error("room.leave", {"room": room}) == "room.not_joined"
    await c.close()


async def test_staff_room_is_for_staff_only(world):
    visitor = await connected(await make_user("Carol"))
    assert await visitor.error("room.join", {"room": world["rooms"]["staff"]}) == "room.forbidden"
    assert await visitor.error("chat.history", {"room": world["rooms"]["staff"]}) \
        == "room.forbidden"
    staff = await connected(world["exhibitor"])
    data = await staff.ok("room.join", {"room": world["rooms"]["staff"]})
    assert data["room"]["kind"] == "staff"
    await visitor.close()
    await staff.close()


async def test_unknown_room(world):
    c = await connected()
    assert await c.error("room.join", {"room": 999_999}) == "room.not_found"
    assert await c.error("chat.history", {"room": 999_999}) == "room.not_found"
    await c.close()


async def test_too_many_rooms(world, settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "MAX_ROOMS_PER_CONNECTION": 2}
    c = await connected()
    await c.ok("room.join", {"room": world["rooms"]["booth"]})
    await c.ok("room.join", {"room": world["rooms"]["lobby"]})
    assert await c.error("room.join", {"room": world["rooms"]["other"]}) == "room.too_many"
    # Re-joining a room already joined is a resume, not one more room.
    await c.ok("room.join", {"room": world["rooms"]["booth"], "since": 0})
    await c.close()


# --- chat ----------------------------------------------------------------------------------------

async def test_chat_reaches_everyone_in_the_room_with_sequence_numbers(world):
    room = world["rooms"]["booth"]
    dora, staff = await make_user("Dora"), world["exhibitor"]
    a, b = await connected(dora), await connected(staff)
    outsider = await connected(await make_user("Eve"))
    for c in (a, b):
        await c.ok("room.join", {"room": room})
    await outsider.ok("room.join", {"room": world["rooms"]["other"]})
    sent = await a.ok("chat.send", {"room": room, "body": "  Hello booth!  "})
    assert sent["seq"] == 1
    for c in (a, b):
        msg = await c.event("chat.message")
        assert msg["seq"] == 1 and msg["body"] == "Hello booth!" and msg["room"] == room
        assert msg["user"] == {"id": dora.pk, "name": "Dora", "staff": False}
    assert (await b.ok("chat.send", {"room": room, "body": "Welcome"}))["seq"] == 2
    staff_msg = await a.event("chat.message", match=lambda d: d["seq"] == 2)
    assert staff_msg["user"]["staff"] is True
    await outsider.drain(0.3)
    assert outsider.chat_seqs(room) == []
    for c in (a, b, outsider):
        await c.close()


async def test_chat_refusals(world, settings):
    room = world["rooms"]["booth"]
    anon = await connected()
    await anon.ok("room.join", {"room": room})
    assert await anon.error("chat.send", {"room": room, "body": "hi"}) == "auth.required"
    user = await connected(await make_user("Finn"))
    assert await user.error("chat.send", {"room": room, "body": "hi"}) == "room.not_joined"
    await user.ok("room.join", {"room": room})
    assert await user.error("chat.send", {"room": room, "body": " \n\t "}) == "chat.empty"
    assert await user.error("chat.send", {"room": room, "body": "x" * 2001}) == "chat.too_long"
    assert (await user.ok("chat.send", {"room": room, "body": "x" * 2000}))["seq"] == 1
    await anon.close()
    await user.close()


async def test_read_only_room_refuses_chat(world):
    room = world["rooms"]["other"]
    await database_sync_to_async(Room.objects.filter(pk=room).update)(read_only=True)
    c = await connected(await make_user("Gus"))
    data = await c.ok("room.join", {"room": room})
    assert data["room"]["read_only"] is True
    assert await c.error("chat.send", {"room": room, "body": "hi"}) == "room.read_only"
    await c.close()


@database_sync_to_async
def fill_room(room_id: int, n: int, start: int = 1) -> None:
    user = get_user_model().objects.first()
    ChatMessage.objects.bulk_create(
        ChatMessage(room_id=room_id, seq=s, author=user, author_name="Filler", body=f"m{s}")
        for s in range(start, start + n)
    )
    Room.objects.filter(pk=room_id).update(last_seq=start + n - 1)


async def test_history_pages_backwards_without_gaps_or_repeats(world):
    room = world["rooms"]["booth"]
    await fill_room(room, 120)
    c = await connected()
    data = await c.ok("room.join", {"room": room})
    seen = [m["seq"] for m in data["history"]]
    assert seen == list(range(71, 121)) and data["has_more"] is True
    assert data["room"]["last_seq"] == 120
    while True:
        page = await c.ok("chat.history", {"room": room, "before": seen[0], "limit": 30})
        seen = [m["seq"] for m in page["messages"]] + seen
        if not page["has_more"]:
            break
    assert seen == list(range(1, 121))
    assert await c.error("chat.history", {"room": room, "limit": 500}) == "frame.invalid"
    await c.close()


async def test_resume_delivers_exactly_what_was_missed_then_live(world):
    room = world["rooms"]["booth"]
    writer = await connected(await make_user("Hana"))
    await writer.ok("room.join", {"room": room})
    reader = await connected(await make_user("Ivan"))
    await reader.ok("room.join", {"room": room})
    for i in range(3):
        await writer.ok("chat.send", {"room": room, "body": f"before {i}"})
    for seq in (1, 2, 3):
        await reader.event("chat.message", match=lambda d, s=seq: d["seq"] == s)
    await reader.close()
    for i in range(4):
        await writer.ok("chat.send", {"room": room, "body": f"while away {i}"})

    back = await connected(reader.user)
    data = await back.ok("room.join", {"room": room, "since": 3})
    assert [m["seq"] for m in data["missed"]] == [4, 5, 6, 7]
    assert data["reset"] is False and "history" not in data
    await writer.ok("chat.send", {"room": room, "body": "live again"})
    await back.event("chat.message", match=lambda d: d["seq"] == 8)
    await back.drain(0.3)
    assert back.chat_seqs(room) == []  # nothing delivered twice
    await writer.close()
    await back.close()


async def test_resume_after_a_long_absence_asks_for_a_reset(world, settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "RESUME_LIMIT": 5}
    room = world["rooms"]["booth"]
    await fill_room(room, 9)
    c = await connected()
    data = await c.ok("room.join", {"room": room, "since": 2})
    assert data["reset"] is True and data["missed"] == []
    data = await c.ok("room.join", {"room": room, "since": 5})
    assert [m["seq"] for m in data["missed"]] == [6, 7, 8, 9] and data["reset"] is False
    await c.close()


async def test_messages_sent_during_a_join_are_neither_lost_nor_repeated(world):
    """Joins race with a stream of messages; each joiner gets every seq once, in order."""
    room = world["rooms"]["booth"]
    writer = await connected(await make_user("Jon"))
    await writer.ok("room.join", {"room": room})

    async def write_many():
        for i in range(30):
            await writer.ok("chat.send", {"room": room, "body": f"m{i}"})

    readers = [await connected() for _ in range(4)]

    async def join_late(c: WsClient, delay: float) -> list[int]:
        await asyncio.sleep(delay)
        data = await c.ok("room.join", {"room": room})
        return [m["seq"] for m in data["history"]]

    results = await asyncio.gather(
        write_many(), *(join_late(c, 0.02 * i) for i, c in enumerate(readers))
    )
    for c, from_history in zip(readers, results[1:], strict=True):
        for _ in range(20):
            if (from_history + c.chat_seqs(room))[-1:] == [30]:
                break
            await c.drain(0.25)
        assert from_history + c.chat_seqs(room) == list(range(1, 31))
    for c in (writer, *readers):
        await c.close()


# --- presence ------------------------------------------------------------------------------------

async def test_presence_list_marks_staff_first(world):
    room = world["rooms"]["booth"]
    visitor = await connected(await make_user("Zoe"))
    staff = await connected(world["exhibitor"])
    await visitor.ok("room.join", {"room": room})
    await staff.ok("room.join", {"room": room})
    listing = await visitor.ok("presence.list", {"room": room})
    assert listing["count"] == 2 and listing["truncated"] is False
    assert [u["staff"] for u in listing["users"]] == [True, False]
    assert listing["users"][0]["id"] == world["exhibitor"].pk
    assert await visitor.error("presence.list", {"room": world["rooms"]["other"]}) \
        == "room.not_joined"
    await visitor.close()
    await staff.close()


async def test_presence_updates_are_coalesced(world):
    room = world["rooms"]["booth"]
    watcher = await connected()
    await watcher.ok("room.join", {"room": room})
    await watcher.drain(0.5)
    watcher.events.clear()
    users = [await make_user(f"P{i}") for i in range(8)]
    clients = await asyncio.gather(*(connected(u) for u in users))
    await asyncio.gather(*(c.ok("room.join", {"room": room}) for c in clients))
    await watcher.drain(0.8)
    updates = [f["data"] for f in watcher.events if f.get("event") == "presence.update"]
    assert 1 <= len(updates) <= 3, updates
    assert updates[-1]["count"] == 9
    joined = {u["id"] for upd in updates for u in upd.get("joined", [])}
    assert joined == {u.pk for u in users}
    watcher.events.clear()
    await clients[0].close()
    update = await watcher.event("presence.update", within=2)
    assert update["count"] == 8 and [u["id"] for u in update["left"]] == [users[0].pk]
    for c in (watcher, *clients[1:]):
        await c.close()


async def test_two_tabs_of_one_user_count_once(world):
    room = world["rooms"]["booth"]
    user = await make_user("Twin")
    a, b = await connected(user), await connected(user)
    await a.ok("room.join", {"room": room})
    data = await b.ok("room.join", {"room": room})
    assert data["presence"]["count"] == 1
    await a.close()
    listing = await b.ok("presence.list", {"room": room})
    assert listing["count"] == 1
    await b.close()


async def test_hall_lobby_gets_live_booth_counts(world):
    lobby = await connected()
    await lobby.ok("room.join", {"room": world["rooms"]["lobby"]})
    visitor = await connected(await make_user("Kim"))
    await visitor.ok("room.join", {"room": world["rooms"]["booth"]})
    booth_room = str(world["rooms"]["booth"])
    counts = await lobby.event("hall.counts", within=3,
                               match=lambda d: d["counts"].get(booth_room) == 1)
    assert counts["hall"] == world["booth"].hall_id
    await visitor.close()
    await lobby.event("hall.counts", within=3,
                      match=lambda d: d["counts"].get(booth_room) == 0)
    await lobby.close()


# --- bad input -----------------------------------------------------------------------------------

BAD_FRAMES = [
    ("not json at all", "frame.malformed"),
    ("[1, 2, 3]", "frame.malformed"),
    ('"a string"', "frame.malformed"),
    (json.dumps({"action": "teleport", "id": 5}), "action.unknown"),
    (json.dumps({"id": 6, "data": {}}), "frame.invalid"),
    (json.dumps({"action": "room.join", "id": 7}), "frame.invalid"),
    (json.dumps({"action": "room.join", "id": 8, "data": {"room": "12"}}), "frame.invalid"),
    (json.dumps({"action": "room.join", "id": 9, "data": {"room": 1, "x": 1}}), "frame.invalid"),
    (json.dumps({"action": "room.join", "id": 10, "data": {"room": -4}}), "frame.invalid"),
    (json.dumps({"action": "chat.send", "id": 11, "data": {"room": 1, "body": 5}}),
     "frame.invalid"),
    (json.dumps({"action": "ping", "id": {"nested": True}}), "frame.invalid"),
    (json.dumps({"action": "chat.send", "id": 12, "data": {"room": 1, "body": "x" * 17000}}),
     "frame.too_large"),
]


@pytest.mark.parametrize(("text", "code"), BAD_FRAMES)
async def test_bad_frames_get_error_codes_and_the_connection_carries_on(world, text, code):
    c = await connected()
    await c.send_raw(text)
    frame = await c.next_frame()
    assert frame["ok"] is False and frame["error"]["code"] == code
    try:
        expected_id = json.loads(text).get("id")
    except (ValueError, AttributeError):
        expected_id = None
    if code != "frame.too_large" and isinstance(expected_id, int):
        assert frame["reply"] == expected_id
    assert (await c.ok("ping", {}))["server_time"] > 0
    await c.close()


async def test_binary_frames_are_refused(world):
    c = await connected()
    await c.send_raw(data=b"\x00\x01binary")
    frame = await c.next_frame()
    assert frame["error"]["code"] == "frame.malformed"
    await c.ok("ping", {})
    await c.close()


async def test_server_errors_are_answered_and_contained(world, monkeypatch):
    async def broken(session, data):
        raise RuntimeError("boom")

    monkeypatch.setitem(actions.HANDLERS, "presence.list", broken)
    c = await connected()
    await c.ok("room.join", {"room": world["rooms"]["booth"]})
    assert await c.error("presence.list", {"room": world["rooms"]["booth"]}) == "server.error"
    assert (await c.ok("ping", {}))["server_time"] > 0
    await c.close()


async def test_one_clients_bad_input_does_not_disturb_others(world):
    room = world["rooms"]["booth"]
    good, bad = await connected(await make_user("Good")), await connected(await make_user("Bad"))
    for c in (good, bad):
        await c.ok("room.join", {"room": room})
    for text, _ in BAD_FRAMES:
        await bad.send_raw(text)
    await good.ok("chat.send", {"room": room, "body": "still here"})
    assert (await bad.event("chat.message"))["body"] == "still here"
    await good.close()
    await bad.close()


async def test_staff_of_another_booth_is_not_staff_here(world):
    other = await database_sync_to_async(Booth.objects.exclude(pk=world["booth"].pk).first)()
    user = await make_user("Other staff")
    await database_sync_to_async(BoothStaff.objects.create)(booth=other, user=user)
    c = await connected(user)
    assert await c.error("room.join", {"room": world["rooms"]["staff"]}) == "room.forbidden"
    await c.close()
