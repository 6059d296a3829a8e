"""Presence: the two stores (in-process and Redis) behave alike, dead processes are reaped
from Redis, and PresenceService coalesces what it broadcasts."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from booths.services.presence import MemoryPresence, PresenceService, RedisPresence
from booths.services.rooms import RoomInfo
from hallserver.realtime import hub as hub_module

ADA = {"id": 7, "name": "Ada"}
BOB = {"id": 8, "name": "Bob"}
CY = {"id": 9, "name": "Cy"}


async def until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.005)


async def stop_redis_presence(store: RedisPresence) -> None:
    for task in store._tasks:
        task.cancel()
    for task in store._tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for client in store._clients.values():
        await client.aclose()
    store._clients.clear()


async def delete_prefix(url: str, prefix: str) -> None:
    client = aioredis.from_url(url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def unique_prefix() -> str:
    return f"prestest-{uuid.uuid4().hex[:10]}:"


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    if request.param == "memory":
        yield MemoryPresence()
        return
    url = request.getfixturevalue("redis_url")
    prefix = unique_prefix()
    presence = RedisPresence(url, prefix=prefix, process_id="proc-1", pool_size=4)
    try:
        yield presence
    finally:
        await stop_redis_presence(presence)
        await delete_prefix(url, prefix)


# --- the stores ----------------------------------------------------------------------------------

async def test_counts_each_member_once_however_many_connections(store):
    assert await store.add(1, "u7", ADA) == (True, 1)
    assert await store.add(1, "u7", ADA) == (False, 1)  # Ada's second tab
    assert await store.add(1, "u8", BOB) == (True, 2)
    assert await store.count(1) == 2
    assert await store.remove(1, "u7") == (False, 2)  # one tab still open
    assert await store.remove(1, "u7") == (True, 1)  # gone
    assert await store.count(1) == 1
    assert await store.remove(1, "u8") == (True, 0)
    assert await store.count(1) == 0


async def test_add_and_list_lists_users_only_in_small_rooms(store):
    assert await store.add_and_list(1, "u7", ADA, limit=3) == (True, 1, [ADA])
    new, count, users = await store.add_and_list(1, "u8", BOB, limit=3)
    assert (new, count) == (True, 2)
    assert sorted(users, key=lambda u: u["id"]) == [ADA, BOB]
    assert await store.add_and_list(1, "aproc:9", None, limit=3) == (True, 3, users)
    assert await store.add_and_list(1, "u7", ADA, limit=3) == (False, 3, users)
    assert await store.add_and_list(1, "aproc:10", None, limit=3) == (True, 4, None)
    assert await store.count(1) == 4


async def test_counts_of_several_rooms(store):
    await store.add(1, "u7", ADA)
    await store.add(1, "u8", BOB)
    await store.add(1, "aproc:3", None)
    await store.add(2, "u7", ADA)
    assert await store.counts([1, 2, 3]) == {1: 3, 2: 1, 3: 0}
    assert await store.counts([]) == {}
    assert await store.count(3) == 0


async def test_members_lists_users_with_their_info_not_anonymous_ones(store):
    await store.add(5, "u7", ADA)
    await store.add(5, "u8", BOB)
    await store.add(5, "aproc:1", None)
    await store.add(5, "aproc:2", None)
    await store.add(6, "u9", CY)  # another room
    users, named = await store.members(5, 100)
    assert sorted(users, key=lambda u: u["id"]) == [ADA, BOB]
    assert named == 2
    assert await store.count(5) == 4  # anonymous members count
    users, named = await store.members(5, 1)
    assert len(users) == 1 and users[0] in (ADA, BOB) and named == 2
    await store.remove(5, "u8")
    users, named = await store.members(5, 100)
    assert users == [ADA] and named == 1
    assert await store.members(99, 100) == ([], 0)


async def test_members_of_a_large_room_stop_at_the_limit_and_say_there_are_more(store):
    await asyncio.gather(*(store.add(7, f"u{i}", {"id": i, "name": f"P{i}"})
                           for i in range(1, 1201)))
    await asyncio.gather(*(store.add(7, f"aproc:{i}", None) for i in range(300)))
    users, named = await store.members(7, 500)
    assert len(users) == 500 and len({u["id"] for u in users}) == 500
    assert named > 500  # the listing says it is truncated
    users, named = await store.members(7, 5000)
    assert len(users) == 1200 and named == 1200


async def test_newly_and_gone_flags_per_room(store):
    assert (await store.add(1, "u7", ADA))[0] is True
    assert (await store.add(2, "u7", ADA))[0] is True  # new in this room too
    assert (await store.remove(1, "u7"))[0] is True
    assert await store.count(2) == 1


# --- RedisPresence: liveness of processes ---------------------------------------------------------

async def test_reap_dead_removes_exactly_the_dead_processes_presence(redis_url):
    prefix = unique_prefix()
    a = RedisPresence(redis_url, prefix=prefix, process_id="proc-a", pool_size=4)
    b = RedisPresence(redis_url, prefix=prefix, process_id="proc-b", pool_size=4)
    reaped: list[list[int]] = []
    a.on_reaped = reaped.append
    client = aioredis.from_url(redis_url)
    try:
        await a.add(1, "u7", ADA)
        await a.add(3, "u9", CY)
        await b.add(1, "u7", ADA)  # Ada also has a tab on B
        await b.add(1, "u8", BOB)
        await b.add(2, "aproc-b:4", None)
        assert await a.counts([1, 2, 3]) == {1: 2, 2: 1, 3: 1}

        async def both_alive() -> bool:
            return await client.exists(f"{prefix}alive:proc-a", f"{prefix}alive:proc-b") == 2

        async with asyncio.timeout(5):
            while True:
                if await both_alive():
                    break
                await asyncio.sleep(0.01)
        assert await a.reap_dead() == []  # B is alive: nothing to do
        assert reaped == []

        # B dies: no more heartbeats, and its heartbeat key expires.
        await stop_redis_presence(b)
        await client.delete(f"{prefix}alive:proc-b")

        assert await a.reap_dead() == [1, 2]
        assert reaped == [[1, 2]]
        assert await a.counts([1, 2, 3]) == {1: 1, 2: 0, 3: 1}
        users, named = await a.members(1, 100)
        assert users == [ADA] and named == 1  # A's connection of Ada remains
        assert await client.smembers(f"{prefix}procs") == {b"proc-a"}
        assert not await client.exists(f"{prefix}proc:proc-b")

        assert await a.reap_dead() == []  # once only
        assert reaped == [[1, 2]]
        assert await a.remove(1, "u7") == (True, 0)
    finally:
        await stop_redis_presence(a)
        await stop_redis_presence(b)
        await client.aclose()
        await delete_prefix(redis_url, prefix)


async def test_a_dead_process_is_reaped_once_its_last_beat_is_older_than_the_ttl(redis_url):
    """On an injected clock: a process that stopped beating (crashed) is alive for
    HEARTBEAT_TTL after its last beat and reaped by the next janitor pass after that, so its
    visitors (and its anonymous connections counted per address) leave within
    HEARTBEAT_TTL + JANITOR_SECONDS, the figure docs/protocol.md gives."""
    from booths.actions import address_key
    from booths.services import presence as presence_module

    assert presence_module.HEARTBEAT_TTL + presence_module.JANITOR_SECONDS <= 12
    assert presence_module.HEARTBEAT_SECONDS * 3 <= presence_module.HEARTBEAT_TTL
    prefix = unique_prefix()
    now = [1_800_000_000.0]
    a = RedisPresence(redis_url, prefix=prefix, process_id="proc-a", pool_size=4)
    b = RedisPresence(redis_url, prefix=prefix, process_id="proc-b", pool_size=4)
    anon = address_key("203.0.113.5")
    try:
        for store in (a, b):
            store.clock = lambda: now[0]
            store.redis  # noqa: B018  (its client; the test beats and reaps itself)
            await cancel_background(store)
            await store.beat()
        await a.add(1, "u7", ADA)
        await a.add(anon, "cproc-a:1", None)
        await b.add(anon, "cproc-b:1", None)
        # A crashes right after its beat: no more beats.
        now[0] += presence_module.HEARTBEAT_TTL - 0.5
        await b.beat()
        assert await b.reap_dead() == []  # not yet: its last beat is younger than the TTL
        assert await b.counts([1, anon]) == {1: 1, anon: 2}
        now[0] += 1.0
        assert await b.reap_dead() == sorted([1, anon])
        assert await b.counts([1, anon]) == {1: 0, anon: 1}  # B's own connection stays
        assert await a.reap_dead() == []  # (B beat within the TTL)
    finally:
        await stop_redis_presence(a)
        await stop_redis_presence(b)
        await delete_prefix(redis_url, prefix)


async def test_a_beat_of_an_earlier_version_counts_while_its_key_lives(redis_url):
    prefix = unique_prefix()
    b = RedisPresence(redis_url, prefix=prefix, process_id="proc-b", pool_size=4)
    client = aioredis.from_url(redis_url)
    try:
        await client.set(f"{prefix}alive:proc-old", 1, ex=30)
        await client.sadd(f"{prefix}procs", "proc-old")
        b.redis  # noqa: B018
        await cancel_background(b)
        assert await b.reap_dead() == []
        await client.delete(f"{prefix}alive:proc-old")
        await b.reap_dead()
        assert await client.smembers(f"{prefix}procs") == set()
    finally:
        await stop_redis_presence(b)
        await client.aclose()
        await delete_prefix(redis_url, prefix)


async def cancel_background(store: RedisPresence) -> None:
    """Stop a store's own heartbeat and janitor: the test drives them."""
    for task in store._tasks:
        task.cancel()
    for task in store._tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    store._tasks = []


# --- PresenceService: coalesced broadcasts -------------------------------------------------------

class FakeHub:
    def __init__(self) -> None:
        self.published: list[tuple[int, dict, int | None]] = []

    async def publish(self, room: int, text: str, seq: int | None = None) -> None:
        self.published.append((room, json.loads(text), seq))

    def events(self, name: str) -> list[dict]:
        return [frame["data"] for _, frame, _ in self.published if frame["event"] == name]


class FakeDirectory:
    """Hall 2 has booth rooms 41 and 44 and lobby 40."""

    async def booth_room_set_of_hall(self, hall_id: int) -> frozenset[int]:
        return frozenset({41, 44}) if hall_id == 2 else frozenset()

    async def lobby_of_hall(self, hall_id: int) -> int | None:
        return 40 if hall_id == 2 else None


BOOTH = RoomInfo(41, "booth", "Aurora Robotics", 2, 9, None, False, frozenset({7}))
ROADSHOW = RoomInfo(50, "roadshow", "Live demo", 2, 9, 3, False, frozenset({7}))


@pytest.fixture
def fast_presence(settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "PRESENCE_DETAIL_LIMIT": 2,
                           "PRESENCE_INTERVAL": 0.05, "COUNTS_INTERVAL": 0.05}


@pytest.fixture
def service(fast_presence):
    hub = FakeHub()
    return PresenceService(MemoryPresence(), hub, FakeDirectory()), hub


async def quiet(svc: PresenceService) -> None:
    """Wait until every scheduled flush has run and published."""
    loop = asyncio.get_running_loop()

    def flushing() -> bool:
        return any(t.get_loop() is loop and not t.done() for t in hub_module._background)

    await until(lambda: not svc._timers and not flushing())


async def test_service_reads_its_settings_at_construction(service):
    svc, _ = service
    assert (svc.interval, svc.counts_interval, svc.detail_limit) == (0.05, 0.05, 2)


async def test_many_entries_in_one_window_make_one_update(service):
    svc, hub = service
    assert await svc.enter(ROADSHOW, "u7", ADA) == 1
    assert await svc.enter(ROADSHOW, "u8", BOB) == 2
    assert await svc.enter(ROADSHOW, "u8", BOB) == 2  # second tab: no news
    assert await svc.enter(ROADSHOW, "aproc:1", None) == 3
    assert hub.published == []  # nothing before the window ends
    await quiet(svc)
    updates = hub.events("presence.update")
    assert len(updates) == 1
    # 3 present > PRESENCE_DETAIL_LIMIT (2): the count only.
    assert updates[0] == {"room": 50, "count": 3}
    assert hub.published[0][0] == 50 and hub.published[0][2] is None
    assert hub.events("hall.counts") == []  # not a booth room


async def test_many_entries_in_one_window_are_listed_in_one_update(settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "PRESENCE_INTERVAL": 0.05,
                           "COUNTS_INTERVAL": 0.05, "PRESENCE_DETAIL_LIMIT": 100}
    hub = FakeHub()
    svc = PresenceService(MemoryPresence(), hub, FakeDirectory())
    people = [{"id": 100 + i, "name": f"Visitor {i}"} for i in range(30)]
    for person in people:
        await svc.enter(ROADSHOW, f"u{person['id']}", person)
    await quiet(svc)
    (update,) = hub.events("presence.update")
    assert update["room"] == 50 and update["count"] == 30 and update["left"] == []
    assert update["joined"] == [{**p, "staff": False} for p in people]


async def test_update_lists_who_joined_and_left_with_staff_flags(service):
    svc, hub = service
    await svc.enter(ROADSHOW, "u7", ADA)
    await svc.enter(ROADSHOW, "aproc:1", None)  # counted, never named
    await quiet(svc)
    await svc.enter(ROADSHOW, "u8", BOB)
    await svc.exit(ROADSHOW, "u7", ADA)
    await quiet(svc)
    first, second = hub.events("presence.update")
    assert first == {"room": 50, "count": 2, "joined": [{"id": 7, "name": "Ada", "staff": True}],
                     "left": []}
    assert second == {"room": 50, "count": 2,
                      "joined": [{"id": 8, "name": "Bob", "staff": False}],
                      "left": [{"id": 7, "name": "Ada", "staff": True}]}


async def test_enter_then_exit_within_the_window_cancels_out(service):
    svc, hub = service
    await svc.enter(ROADSHOW, "u7", ADA)
    await svc.exit(ROADSHOW, "u7", ADA)
    await quiet(svc)
    updates = hub.events("presence.update")
    assert len(updates) <= 1
    for update in updates:
        assert update["count"] == 0
        assert update.get("joined", []) == [] and update.get("left", []) == []

    await svc.enter(ROADSHOW, "u8", BOB)
    await quiet(svc)
    before = len(hub.events("presence.update"))
    await svc.exit(ROADSHOW, "u8", BOB)  # a page reload: gone and back in one window
    await svc.enter(ROADSHOW, "u8", BOB)
    await quiet(svc)
    for update in hub.events("presence.update")[before:]:
        assert update["count"] == 1
        assert update.get("joined", []) == [] and update.get("left", []) == []


async def test_closing_one_of_two_tabs_is_no_news(service):
    svc, hub = service
    await svc.enter(ROADSHOW, "u7", ADA)
    await svc.enter(ROADSHOW, "u7", ADA)
    await quiet(svc)
    assert len(hub.events("presence.update")) == 1
    await svc.exit(ROADSHOW, "u7", ADA)
    await asyncio.sleep(0.15)  # three windows
    assert len(hub.events("presence.update")) == 1 and not svc._timers


async def test_booth_changes_send_one_hall_counts_to_the_lobby(service):
    svc, hub = service
    await svc.enter(BOOTH, "u7", ADA)
    await svc.enter(BOOTH, "u8", BOB)
    await svc.enter(BOOTH, "aproc:2", None)
    await quiet(svc)
    # Only the room that changed, and the hall's total.
    assert hub.events("hall.counts") == [{"hall": 2, "counts": {"41": 3}, "total": 3}]
    lobby_frames = [room for room, frame, _ in hub.published if frame["event"] == "hall.counts"]
    assert lobby_frames == [40]
    assert hub.events("presence.update") == [{"room": 41, "count": 3}]


async def test_listing_puts_staff_first_and_says_when_truncated(service):
    svc, _ = service
    await svc.enter(BOOTH, "u8", BOB)
    await svc.enter(BOOTH, "u9", CY)
    await svc.enter(BOOTH, "u7", ADA)
    await svc.enter(BOOTH, "aproc:1", None)
    listing = await svc.listing(BOOTH)
    assert listing == {"count": 4, "truncated": False, "users": [
        {"id": 7, "name": "Ada", "staff": True},
        {"id": 8, "name": "Bob", "staff": False},
        {"id": 9, "name": "Cy", "staff": False},
    ]}
    short = await svc.listing(BOOTH, limit=2)
    assert short["count"] == 4 and short["truncated"] is True and len(short["users"]) == 2
    await quiet(svc)


class TimedHub(FakeHub):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    async def publish(self, room: int, text: str, seq: int | None = None) -> None:
        self.times.append(asyncio.get_running_loop().time())
        await super().publish(room, text, seq)


async def test_large_rooms_get_one_count_update_per_window_across_processes(settings, redis_url):
    """Beyond PRESENCE_DETAIL_LIMIT, one process at a time sends the room's count, at most once
    per window; a process that loses the claim sends later, so no change goes unreported."""
    settings.HALLSERVER = {**settings.HALLSERVER, "PRESENCE_DETAIL_LIMIT": 2,
                           "PRESENCE_INTERVAL": 0.05, "COUNTS_INTERVAL": 0.05,
                           "PRESENCE_LARGE_INTERVAL": 0.3}
    prefix = unique_prefix()
    stores = [RedisPresence(redis_url, prefix=prefix, process_id=f"proc-{n}", pool_size=4)
              for n in (1, 2)]
    hubs = [TimedHub(), TimedHub()]
    svcs = [PresenceService(s, h, FakeDirectory()) for s, h in zip(stores, hubs, strict=True)]
    # The windows are the claims' expiry in Redis. A claim won is stamped from before it was
    # asked (at or before Redis set it) to after the answer came (at or after): the next one
    # is won at least a window after the last was asked for, however slow the machine.
    claims: list[tuple[float, float]] = []
    loop = asyncio.get_running_loop()
    for store in stores:
        def timed(room, seconds, claim=store.claim):
            async def run():
                asked = loop.time()
                won = await claim(room, seconds)
                if won:
                    claims.append((asked, loop.time()))
                return won
            return run()
        store.claim = timed
    try:
        for i in range(3):
            await svcs[0].enter(ROADSHOW, f"u{100 + i}", {"id": 100 + i, "name": f"V{i}"})
        await quiet(svcs[0])
        assert hubs[0].events("presence.update") == [{"room": 50, "count": 3}]
        assert svcs[0].room_interval(50) == 0.3  # now known to be large

        # Changes on both processes in the same window.
        for round_ in range(3):
            await svcs[1].enter(ROADSHOW, f"u{200 + round_}", {"id": 200 + round_, "name": "W"})
            await svcs[0].enter(ROADSHOW, f"u{300 + round_}", {"id": 300 + round_, "name": "X"})
        await quiet(svcs[0])
        await quiet(svcs[1])
        sent = sorted((t, update) for hub in hubs
                      for t, update in zip(hub.times, hub.events("presence.update"), strict=True))
        assert all(set(update) == {"room", "count"} for _, update in sent)
        assert sent[-1][1]["count"] == 9 == await stores[0].count(50)  # nothing unreported
        assert len(sent) == len(claims)  # one update per claim won
        claims.sort()
        gaps = [b[1] - a[0] for a, b in itertools.pairwise(claims)]
        assert min(gaps) >= 0.3 - 0.002, gaps  # one per window for the whole room (ms expiry)
    finally:
        for store in stores:
            await stop_redis_presence(store)
        await delete_prefix(redis_url, prefix)


async def test_redis_presence_sends_the_joins_of_one_loop_turn_in_one_pipeline(redis_url):
    prefix = unique_prefix()
    store = RedisPresence(redis_url, prefix=prefix, process_id="proc-1", pool_size=4)
    sizes = []
    run_batch = store._run_batch

    async def counting(batch):
        sizes.append(len(batch))
        await run_batch(batch)

    store._run_batch = counting
    try:
        results = await asyncio.gather(*(
            store.add_and_list(9, f"u{i}", {"id": i, "name": f"P{i}"}, 100) for i in range(50)))
        assert sizes == [50]
        assert all(new for new, _, _ in results)
        assert sorted(count for _, count, _ in results) == list(range(1, 51))
        left = await asyncio.gather(*(store.remove(9, f"u{i}") for i in range(10)),
                                    store.count(9), store.claim(9, 1.0), store.claim(9, 1.0))
        assert sizes == [50, 11 + 2]  # counts and claims ride in the same pipeline
        assert all(gone for gone, _ in left[:10])
        assert left[10:] == [40, True, False]  # the count after the removes; one claim wins
    finally:
        await stop_redis_presence(store)
        await delete_prefix(redis_url, prefix)


async def test_redis_presence_scripts_survive_a_server_that_forgot_them(redis_url):
    """Scripts go as EVALSHA alone; after SCRIPT FLUSH (or a Redis restart) the entries that
    got NOSCRIPT are loaded and sent again, each exactly once."""
    prefix = unique_prefix()
    store = RedisPresence(redis_url, prefix=prefix, process_id="proc-1", pool_size=4)
    try:
        assert await store.add(5, "u1", {"id": 1, "name": "A"}) == (True, 1)
        await store.redis.script_flush()
        results = await asyncio.gather(store.add(5, "u2", {"id": 2, "name": "B"}),
                                       store.add(5, "u1", None), store.count(5),
                                       store.remove(5, "u1"))
        # the count ran in the first pipeline, before the adds that were sent again
        assert results == [(True, 2), (False, 2), 1, (False, 2)]
        assert await store.count(5) == 2
        assert await store.redis.hget(f"{prefix}pres:5", "u1") == b"1"  # added once, not twice
    finally:
        await stop_redis_presence(store)
        await delete_prefix(redis_url, prefix)


async def test_a_slow_flush_is_not_joined_by_more_and_later_changes_follow_it(fast_presence):
    class SlowCount(MemoryPresence):
        def __init__(self) -> None:
            super().__init__()
            self.gate = asyncio.Event()
            self.counting = 0
            self.most = 0

        async def count(self, room: int) -> int:
            self.counting += 1
            self.most = max(self.most, self.counting)
            try:
                await self.gate.wait()
                return await super().count(room)
            finally:
                self.counting -= 1

    store, hub = SlowCount(), FakeHub()
    svc = PresenceService(store, hub, FakeDirectory())
    await svc.enter(ROADSHOW, "u7", ADA)
    await until(lambda: store.counting == 1)  # the first flush is stuck in the store
    for i in range(5):  # changes keep coming over several intervals
        await svc.enter(ROADSHOW, f"u{100 + i}", {"id": 100 + i, "name": "N"})
        await asyncio.sleep(0.06)
    assert store.most == 1 and hub.published == []
    store.gate.set()
    await quiet(svc)
    counts = [u["count"] for u in hub.events("presence.update")]
    assert store.most == 1 and counts[-1] == 6 and len(counts) == 2
