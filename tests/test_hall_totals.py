"""Hall totals and busiest booths kept by the presence stores (booths/services/presence.py):
after random joins, leaves, second tabs, rejoins, booth rooms moving hall, reaps of dead
processes and Redis losing everything, what the stores keep equals a recount from the rooms'
member sets, and a hall's lobby is told the same."""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid

import pytest
import redis.asyncio as aioredis
from channels.db import database_sync_to_async

from booths.services.presence import MemoryPresence, RedisPresence
from tests.test_presence import delete_prefix, stop_redis_presence, unique_prefix
from tests.test_presence_recovery import wait_for

# Booth rooms and their halls (900: a room of no hall's counts, a roadshow say).
START = {101: 1, 102: 1, 103: 1, 104: 1, 201: 2, 202: 2, 203: 2, 301: 3, 900: None}
HALLS = (1, 2, 3)
USERS = [f"u{i}" for i in range(1, 7)]


def info(member: str) -> dict | None:
    return {"id": int(member[1:]), "name": member} if member.startswith("u") else None


def recount(members: dict[int, set[str]], hall_of: dict[int, int | None],
            hall: int) -> tuple[dict[int, int], int]:
    """Busiest booth rooms (busiest first, ties by room id) and total, counted afresh."""
    counts = {r: len(m) for r, m in members.items() if hall_of.get(r) == hall and m}
    busy = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(busy), sum(counts.values())


async def assert_exact(store, members: dict[int, set[str]],
                       hall_of: dict[int, int | None]) -> None:
    """What the store keeps for each hall equals a recount from the model's member sets and
    from the store's own rooms (their hashes, for Redis)."""
    rooms = sorted(hall_of)
    stored = await store.counts(rooms)
    assert stored == {r: len(members.get(r, ())) for r in rooms}
    for hall in HALLS:
        expected, total = recount(members, hall_of, hall)
        busy, kept_total = await store.busiest(hall, 100)
        assert (busy, kept_total) == (expected, total), f"hall {hall}"
        assert list(busy) == list(expected)  # the order too
        top, _ = await store.busiest(hall, 2)
        assert top == dict(list(expected.items())[:2])
        counts, flushed_total = await store.hall_counts(hall, rooms[:3])
        assert flushed_total == total and counts == {r: stored[r] for r in rooms[:3]}


class Model:
    """Connections per (process, room, member), as the processes' sockets hold them."""

    def __init__(self) -> None:
        self.hall_of: dict[int, int | None] = dict(START)
        self.conns: dict[tuple[int, int, str], int] = {}

    def members(self) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for (_, room, member), n in self.conns.items():
            if n > 0:
                out.setdefault(room, set()).add(member)
        return out

    def drop_process(self, proc: int) -> None:
        self.conns = {k: n for k, n in self.conns.items() if k[0] != proc}

    async def add(self, store, proc: int, room: int, member: str) -> None:
        new, count = await store.add(room, member, info(member), self.hall_of[room])
        key = (proc, room, member)
        before = self.members().get(room, set())
        self.conns[key] = self.conns.get(key, 0) + 1
        assert new == (member not in before) and count == len(self.members()[room])

    async def add_and_list(self, store, proc: int, room: int, member: str) -> None:
        _, count, _ = await store.add_and_list(room, member, info(member), 3,
                                               self.hall_of[room])
        key = (proc, room, member)
        self.conns[key] = self.conns.get(key, 0) + 1
        assert count == len(self.members()[room])

    async def remove(self, store, proc: int, room: int, member: str) -> None:
        await store.remove(room, member, self.hall_of[room])
        key = (proc, room, member)
        if self.conns.get(key, 0) > 0:
            self.conns[key] -= 1

    async def random_step(self, rng: random.Random, stores: dict[int, object],
                          serial: list[int]) -> None:
        proc = rng.choice(sorted(stores))
        store = stores[proc]
        room = rng.choice(sorted(self.hall_of))
        held = [k for k, n in self.conns.items() if n > 0 and k[0] == proc]
        roll = rng.random()
        if roll < 0.04:
            # The booth room moves to another hall: its count goes along at its next change
            # (here a new visitor, and every later call passes the new hall).
            booth = rng.choice([r for r, h in self.hall_of.items() if h is not None])
            self.hall_of[booth] = rng.choice([h for h in HALLS if h != self.hall_of[booth]])
            serial[0] += 1
            await self.add(store, proc, booth, f"a{proc}:new{serial[0]}")
        elif roll < 0.45 or not held:
            member = rng.choice(USERS) if rng.random() < 0.7 else f"a{proc}:{rng.randrange(4)}"
            if rng.random() < 0.3:
                await self.add_and_list(store, proc, room, member)
            else:
                await self.add(store, proc, room, member)
        elif roll < 0.95:
            _, room, member = rng.choice(held)
            await self.remove(store, proc, room, member)
        else:
            # Leaving a room one is not in (a leave sent twice) changes nothing.
            member = f"a{proc}:never"
            await self.remove(store, proc, room, member)


@pytest.fixture(params=["memory", "redis"])
async def one_store(request):
    if request.param == "memory":
        yield MemoryPresence()
        return
    url = request.getfixturevalue("redis_url")
    prefix = unique_prefix()
    store = RedisPresence(url, prefix=prefix, process_id="proc-1", pool_size=4)
    try:
        yield store
    finally:
        await stop_redis_presence(store)
        await delete_prefix(url, prefix)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_store_totals_equal_a_recount_after_random_joins_and_leaves(one_store, seed):
    rng = random.Random(seed)
    model = Model()
    serial = [0]
    for _ in range(250):
        await model.random_step(rng, {0: one_store}, serial)
        await assert_exact(one_store, model.members(), model.hall_of)
    # Everyone leaves: every hall is back at zero, with no room left in its busiest.
    for (_, room, member), n in list(model.conns.items()):
        for _ in range(n):
            await model.remove(one_store, 0, room, member)
    await assert_exact(one_store, {}, model.hall_of)
    for hall in HALLS:
        assert await one_store.busiest(hall, 100) == ({}, 0)


async def test_a_second_tab_and_a_rejoin_count_once(one_store):
    await one_store.add(101, "u1", None, 1)
    await one_store.add(101, "u1", None, 1)  # second tab
    await one_store.add(102, "u1", None, 1)  # and in another booth of the hall
    assert await one_store.busiest(1, 10) == ({101: 1, 102: 1}, 2)
    await one_store.remove(101, "u1", 1)
    assert await one_store.busiest(1, 10) == ({101: 1, 102: 1}, 2)  # one tab still open
    await one_store.remove(101, "u1", 1)
    await one_store.remove(101, "u1", 1)  # a leave sent twice
    assert await one_store.busiest(1, 10) == ({102: 1}, 1)
    await one_store.add(101, "u1", None, 1)  # rejoins
    assert await one_store.busiest(1, 10) == ({101: 1, 102: 1}, 2)
    await one_store.add(900, "u1", None, None)  # no hall's room: no hall's count
    assert await one_store.busiest(1, 10) == ({101: 1, 102: 1}, 2)


# --- Redis: several processes, reaps and rebuilds ------------------------------------------

async def pause(store: RedisPresence) -> None:
    """Stop a store's heartbeat, janitor and recovery loop (the test drives them)."""
    store.redis  # noqa: B018  (starts them, with its client)
    for task in store._tasks:
        task.cancel()
    for task in store._tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    store._tasks = []


async def forget(client: aioredis.Redis, prefix: str, pattern: str = "*") -> None:
    keys = [k async for k in client.scan_iter(match=f"{prefix}{pattern}")]
    if keys:
        await client.delete(*keys)


async def test_redis_totals_stay_exact_through_reaps_and_rebuilds(redis_url):
    prefix = unique_prefix()
    now = [1_800_000_000.0]
    stores = {i: RedisPresence(redis_url, prefix=prefix, process_id=f"proc-{i}", pool_size=4)
              for i in range(3)}
    client = aioredis.from_url(redis_url)
    rng = random.Random(7)
    model = Model()
    serial = [0]
    try:
        for store in stores.values():
            store.clock = lambda: now[0]
            await pause(store)
            await store.beat()

        async def steps(n: int) -> None:
            for _ in range(n):
                await model.random_step(rng, stores, serial)
            await assert_exact(stores[0], model.members(), model.hall_of)

        await steps(150)

        # Process 2 crashes: the others reap it, its visitors leave the halls' counts.
        del stores[2]
        now[0] += 11
        for store in stores.values():
            await store.beat()
        reaped = await stores[0].reap_dead()
        model.drop_process(2)
        assert reaped
        await assert_exact(stores[0], model.members(), model.hall_of)

        # A new process, more traffic, then Redis restarts empty: each process writes its
        # part again, hall counts included.
        stores[3] = RedisPresence(redis_url, prefix=prefix, process_id="proc-3", pool_size=4)
        stores[3].clock = lambda: now[0]
        await pause(stores[3])
        await stores[3].beat()
        await steps(150)
        await forget(client, prefix)
        await assert_exact(stores[0], {}, model.hall_of)
        for store in stores.values():
            await store.rebuild()
        await assert_exact(stores[0], model.members(), model.hall_of)

        # Hall counts written wrong (an older version's process, a half-failed script):
        # a rebuild sets every room of the processes right again.
        await client.hset(f"{prefix}htotal", mapping={"1": 99, "2": -5})
        await forget(client, prefix, "hrooms:*")
        for store in stores.values():
            await store.rebuild()
        await assert_exact(stores[0], model.members(), model.hall_of)
        await steps(50)
    finally:
        for store in stores.values():
            await stop_redis_presence(store)
        await client.aclose()
        await delete_prefix(redis_url, prefix)


async def test_recovery_loop_puts_the_totals_back_after_redis_lost_them(redis_url, settings):
    """The marker path: each process's own check notices its marker is gone."""
    settings.HALLSERVER = {**settings.HALLSERVER, "PRESENCE_RECOVERY_CHECK": 0.05}
    prefix = unique_prefix()
    a = RedisPresence(redis_url, prefix=prefix, process_id="proc-a", pool_size=4)
    b = RedisPresence(redis_url, prefix=prefix, process_id="proc-b", pool_size=4)
    client = aioredis.from_url(redis_url)
    try:
        await a.add(101, "u1", None, 1)
        await a.add(102, "u1", None, 1)
        await b.add(101, "u1", None, 1)  # the same user on the other process
        await b.add(101, "u2", None, 1)
        await b.add(201, "u3", None, 2)
        await a.rebuild()  # the marker is set
        await b.rebuild()
        assert await a.busiest(1, 10) == ({101: 2, 102: 1}, 3)
        await forget(client, prefix)
        assert await a.busiest(1, 10) == ({}, 0)

        async def back() -> bool:
            return (await a.busiest(1, 10) == ({101: 2, 102: 1}, 3)
                    and await a.busiest(2, 10) == ({201: 1}, 1))

        await wait_for(back)
    finally:
        await stop_redis_presence(a)
        await stop_redis_presence(b)
        await client.aclose()
        await delete_prefix(redis_url, prefix)


# --- through the WebSocket consumer -----------------------------------------------------------

@pytest.fixture(params=["memory", "redis"])
def presence_kind(request, settings):
    if request.param == "redis":
        settings.REDIS_URL = request.getfixturevalue("redis_url")
        settings.HALLSERVER = {**settings.HALLSERVER,
                               "REDIS_PREFIX": f"t-{uuid.uuid4().hex}:"}
    else:
        settings.REDIS_URL = ""
    return request.param


@database_sync_to_async
def two_halls() -> dict:
    from booths.models import Room
    from booths.seed import seed_demo

    seed_demo()
    halls = list(Room.objects.filter(kind="lobby").order_by("hall_id")
                 .values_list("hall_id", "pk"))[:2]
    booths = {hall: list(Room.objects.filter(kind="booth", hall_id=hall).order_by("pk")
                         .values_list("pk", flat=True)[:4]) for hall, _ in halls}
    roadshow = Room.objects.filter(kind="roadshow").values_list("pk", flat=True).first()
    return {"lobbies": dict(halls), "booths": booths, "roadshow": roadshow}


@pytest.mark.django_db(transaction=True)
async def test_lobbies_get_totals_equal_to_a_recount(presence_kind):
    from django.contrib.auth import get_user_model

    from booths import runtime
    from booths.models import Profile
    from tests.wsclient import WsClient

    world = await two_halls()

    @database_sync_to_async
    def users(n: int):
        made = []
        for i in range(n):
            user = get_user_model().objects.create_user(username=f"tot{i}", password=None)
            Profile.objects.create(user=user, display_name=f"Tot {i}", kind="visitor")
            made.append(user)
        return made

    people = await users(3)
    # Two tabs of the first user, one of each other, and two anonymous connections.
    clients = [await WsClient(u).connect() for u in [people[0], *people]]
    clients += [await WsClient().connect() for _ in range(2)]
    rooms = [r for hall in world["booths"].values() for r in hall] + [world["roadshow"]]
    joined: list[set[int]] = [set() for _ in clients]
    rng = random.Random(11)
    store = runtime.presence().store

    async def check() -> None:
        for hall, lobby_room in world["lobbies"].items():
            booth_rooms = world["booths"][hall]
            # The recount: the booth rooms' member sets (these are all the hall's rooms
            # anyone entered), against what a lobby's join reply says.
            expected = {r: n for r, n in (await store.counts(booth_rooms)).items() if n}
            lobby = await WsClient().connect()
            reply = await lobby.ok("room.join", {"room": lobby_room})
            assert {int(k): v for k, v in reply["counts"].items()} == expected
            assert reply["total"] == sum(expected.values())
            await lobby.close()

    try:
        for step in range(60):
            i = rng.randrange(len(clients))
            room = rng.choice(rooms)
            if room in joined[i] and rng.random() < 0.6:
                await clients[i].ok("room.leave", {"room": room})
                joined[i].discard(room)
            elif room not in joined[i]:
                await clients[i].ok("room.join", {"room": room})
                joined[i].add(room)
            if step % 20 == 19:
                # A connection drops (it leaves all its rooms) and comes back.
                j = rng.randrange(len(clients))
                await clients[j].close()
                clients[j] = await WsClient(clients[j].user).connect()
                joined[j] = set()
                await check()
        await check()
    finally:
        for c in clients:
            await c.close()
