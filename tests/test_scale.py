"""Pages at scale: on a 5,000-booth expo (``seed_demo --scale large``) every HTTP answer and
WebSocket frame of the lobby, the hall page and the moderator console is one page, whose size
does not grow with the catalogue."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client

from booths import runtime
from booths.models import Booth, Expo, Hall, Room
from booths.seed import SCALES, seed_demo
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]

# Every answer below stays under this, whatever the number of booths (a page of 100 booth
# summaries is about 30 KB).
BOUND = 64 * 1024


def size(data: dict) -> int:
    return len(json.dumps(data, ensure_ascii=False).encode())


@pytest.fixture(autouse=True)
def fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@database_sync_to_async
def large_expo() -> dict:
    report = seed_demo(scale="large")
    assert report.booths == SCALES["large"].booths == 5000 and report.halls == 6
    hall = Hall.objects.order_by("position").first()
    booth_rooms = list(Room.objects.filter(kind="booth", hall=hall).order_by("pk")
                       .values_list("pk", flat=True))
    return {"hall": hall.pk, "lobby": Room.objects.get(kind="lobby", hall=hall).pk,
            "booth_rooms": booth_rooms,
            "moderator": get_user_model().objects.get(username="moderator")}


def test_the_large_scale_is_deterministic_and_has_every_room():
    seed_demo(scale="large")
    assert Booth.objects.count() == 5000
    sizes = sorted(h.booths.count() for h in Hall.objects.all())
    assert sizes == [833, 833, 833, 833, 834, 834]
    assert Room.objects.filter(kind="booth").count() == 5000
    assert Room.objects.filter(kind="staff").count() == 5000
    assert not Booth.objects.filter(room__isnull=True).exists()
    first = list(Booth.objects.order_by("pk").values_list("name", "country", "kind")[:50])
    Expo.objects.all().delete()
    seed_demo(scale="large")
    assert list(Booth.objects.order_by("pk").values_list("name", "country", "kind")[:50]) == first


def test_http_answers_are_pages(client: Client):
    seed_demo(scale="large")
    expo = client.get("/api/expo")
    assert expo.status_code == 200 and size(expo.json()) < BOUND
    halls = expo.json()["halls"]
    assert sum(h["booth_count"] for h in halls) == 5000
    for hall in halls:
        data = client.get(f"/api/halls/{hall['id']}").json()
        assert data["count"] == hall["booth_count"] >= 833
        assert len(data["booths"]) == 48 and size(data) < BOUND
        biggest = client.get(f"/api/halls/{hall['id']}", {"limit": 1000}).json()
        assert len(biggest["booths"]) == 100 and size(biggest) < BOUND
    last = halls[-1]
    tail = client.get(f"/api/halls/{last['id']}", {"offset": last["booth_count"] - 10}).json()
    assert len(tail["booths"]) == 10
    search = client.get("/api/booths", {"limit": 1000}).json()
    assert search["count"] == 5000 and len(search["results"]) == 100
    assert size(search) < BOUND


async def test_lobby_frames_do_not_grow_with_the_hall():
    world = await large_expo()
    rooms = world["booth_rooms"]
    assert len(rooms) >= 833
    # 150 booths of the hall with people in them (straight into the presence store, which
    # keeps the hall's counts as they come).
    store = runtime.presence().store
    for n, room in enumerate(rooms[:150]):
        for k in range(1 + n % 3):
            await store.add(room, f"a-test:{room}:{k}", None, world["hall"])

    lobby = await WsClient().connect()
    joined = await lobby.ok("room.join", {"room": world["lobby"]})
    assert size(joined) < BOUND
    counts = {int(k): v for k, v in joined["counts"].items()}
    assert len(counts) == 100  # the busiest, not every booth of the hall
    assert min(counts.values()) >= max(1 + n % 3 for n in range(150) if rooms[n] not in counts)
    assert joined["total"] == sum(1 + n % 3 for n in range(150))

    # The booths a page shows: exact counts, at most 100 rooms a request.
    page = rooms[140:240]
    exact = await lobby.ok("presence.counts", {"hall": world["hall"], "rooms": page})
    assert {int(k): v for k, v in exact["counts"].items()} == {
        room: (1 + (140 + i) % 3 if 140 + i < 150 else 0) for i, room in enumerate(page)}
    assert await lobby.error("presence.counts", {"hall": world["hall"],
                                                 "rooms": rooms[:101]}) == "frame.invalid"
    # Rooms of another hall (or no booth room at all) are left out.
    other = await lobby.ok("presence.counts", {"hall": world["hall"] + 1, "rooms": page[:5]})
    assert other["counts"] == {}

    # A visitor walks into a booth: the lobby hears of that room alone, and the new total.
    visitor = await WsClient().connect()
    target = rooms[500]
    await visitor.ok("room.join", {"room": target})
    change = await lobby.event("hall.counts", within=5,
                               match=lambda d: d["counts"].get(str(target)) == 1)
    assert change["counts"] == {str(target): 1}
    assert change["total"] == joined["total"] + 1
    assert size(change) < 1024
    await visitor.close()
    await lobby.close()


async def test_the_console_pages_ten_thousand_rooms():
    world = await large_expo()
    console = await WsClient(world["moderator"]).connect()
    first = await console.ok("mod.rooms", {})
    assert first["total"] > 10_000  # 5,000 booth rooms, 5,000 staff rooms, lobbies, roadshows
    assert len(first["rooms"]) == 50 and size(first) < BOUND
    biggest = await console.ok("mod.rooms", {"limit": 100, "offset": 100})
    assert len(biggest["rooms"]) == 100 and size(biggest) < BOUND
    assert not {r["id"] for r in first["rooms"]} & {r["id"] for r in biggest["rooms"]}
    assert await console.error("mod.rooms", {"limit": 101}) == "frame.invalid"

    by_title = await console.ok("mod.rooms", {"hall": world["hall"], "sort": "title",
                                              "ascending": True, "q": "college"})
    titles = [r["title"] for r in by_title["rooms"]]
    assert titles == sorted(titles, key=str.lower)
    assert all("college" in t.lower() and r["hall"] == world["hall"]
               for t, r in zip(titles, by_title["rooms"], strict=True))
    assert 0 < by_title["total"] < 5000

    store = runtime.presence().store
    await store.add(world["booth_rooms"][7], "a-test:1", None)
    busy = await console.ok("mod.rooms", {"active": True})
    assert [r["id"] for r in busy["rooms"]] == [world["booth_rooms"][7]] and busy["total"] == 1
    only = await console.ok("mod.rooms", {"rooms": world["booth_rooms"][:3]})
    assert {r["id"] for r in only["rooms"]} == set(world["booth_rooms"][:3])
    await console.close()
