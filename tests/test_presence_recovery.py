"""Presence written again from a process's own state: after Redis lost it (restart, reap of a
process that could not reach Redis), after a failed call, and after a retried script counted
a connection twice (booths/services/presence.py, "recovery")."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from booths.services.presence import PresenceService, RedisPresence
from tests.test_presence import (
    ADA,
    BOB,
    BOOTH,
    CY,
    FakeDirectory,
    FakeHub,
    delete_prefix,
    stop_redis_presence,
    unique_prefix,
)


@pytest.fixture
def quick_recovery(settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "PRESENCE_RECOVERY_CHECK": 0.05,
                           "PRESENCE_INTERVAL": 0.05, "COUNTS_INTERVAL": 0.05}


@pytest.fixture
async def two(redis_url, quick_recovery):
    """Two processes' presence stores on one Redis, and a plain client to break things."""
    prefix = unique_prefix()
    a = RedisPresence(redis_url, prefix=prefix, process_id="proc-a", pool_size=4)
    b = RedisPresence(redis_url, prefix=prefix, process_id="proc-b", pool_size=4)
    client = aioredis.from_url(redis_url)
    try:
        yield a, b, client, prefix
    finally:
        async with asyncio.timeout(10):
            await stop_redis_presence(a)
            await stop_redis_presence(b)
            await client.aclose()
            await delete_prefix(redis_url, prefix)


async def wait_for(check, within: float = 10.0):
    """Until the coroutine function ``check`` returns something true (a safety timeout)."""
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.01)


async def forget_everything(client: aioredis.Redis, prefix: str) -> None:
    """What a Redis restart without persistence does to our keys."""
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)


async def test_redis_restarted_empty_gets_every_processes_presence_back(two):
    a, b, client, prefix = two
    await a.add(1, "u7", ADA)
    await a.add(1, "u7", ADA)  # Ada's second tab, on the same process
    await b.add(1, "u7", ADA)  # and a third on the other one
    await b.add(1, "u8", BOB)
    await a.add(2, "aproc-a:4", None)
    await b.add(-8, "cconn-1", None)  # Bob's connection count (the per-user cap)
    assert await a.counts([1, 2]) == {1: 2, 2: 1}

    await forget_everything(client, prefix)
    assert await a.counts([1, 2]) == {1: 0, 2: 0}

    # Each process notices its marker is gone and writes its part again.
    await wait_for(lambda: _counts_are(a, {1: 2, 2: 1}))
    await wait_for(lambda: b.count(-8))
    assert await client.hget(f"{prefix}pres:1", "u7") == b"3"  # every connection, once
    users, named = await a.members(1, 10)
    assert sorted(u["name"] for u in users) == ["Ada", "Bob"] and named == 2
    assert await client.smembers(f"{prefix}procs") == {b"proc-a", b"proc-b"}
    assert await client.exists(f"{prefix}alive:proc-a", f"{prefix}alive:proc-b") == 2
    # And it stays exact: Ada closes her tabs one by one, and is gone after the last.
    assert await a.remove(1, "u7") == (False, 2)
    assert await a.remove(1, "u7") == (False, 2)
    assert await b.remove(1, "u7") == (True, 1)


async def _counts_are(store: RedisPresence, expected: dict[int, int]) -> bool:
    return await store.counts(list(expected)) == expected


async def test_a_removal_lost_while_redis_was_away_is_made_good(two):
    a, _, _, _ = two
    await a.add(1, "u7", ADA)
    await a.add(1, "u9", CY)

    async def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    real = a._pipeline
    a._pipeline = unreachable
    with pytest.raises(ConnectionError):
        await a.remove(1, "u9")  # Cy left while Redis could not be reached
    a._pipeline = real
    assert a.stale
    await wait_for(lambda: _counts_are(a, {1: 1}))
    users, _ = await a.members(1, 10)
    assert users == [ADA]
    assert not a.stale


async def test_a_failed_join_is_not_written_back(two):
    a, _, _, _ = two

    async def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    real = a._pipeline
    a._pipeline = unreachable
    with pytest.raises(ConnectionError):
        await a.add(1, "u7", ADA)  # the join failed: the visitor is not in the room
    a._pipeline = real
    assert a.local == {}
    await a.add(1, "u8", BOB)
    await a.rebuild()
    assert await a.counts([1]) == {1: 1}


async def test_a_connection_counted_twice_by_a_retry_is_counted_once_again(two):
    a, _, client, prefix = two
    await a.add(1, "u7", ADA)
    # A retried script that had in fact run: Redis counts Ada's one connection twice.
    await client.hincrby(f"{prefix}pres:1", "u7", 1)
    await client.hincrby(f"{prefix}proc:proc-a", "1|u7", 1)
    a._failure_hook()(ConnectionError("reply lost"))  # what every retry reports
    await wait_for(lambda: _field_is(client, f"{prefix}pres:1", "u7", b"1"))
    assert await a.remove(1, "u7") == (True, 0)  # one close and she is gone


async def _field_is(client, key: str, field: str, value: bytes) -> bool:
    return await client.hget(key, field) == value


async def test_a_process_reaped_while_cut_off_writes_itself_back(two):
    """B could not reach Redis for longer than its heartbeat lives: A reaped it as dead. B
    notices its marker is gone and writes its visitors back."""
    a, b, client, prefix = two
    await b.add(1, "u8", BOB)
    await wait_for(lambda: client.exists(f"{prefix}pmark:proc-b"))
    await client.delete(f"{prefix}alive:proc-b")
    b.redis  # noqa: B018
    await stop_redis_presence(b)  # no heartbeat, no checks: cut off
    assert await a.reap_dead() == [1]
    assert await a.counts([1]) == {1: 0}
    assert not await client.exists(f"{prefix}pmark:proc-b")

    b._start_background(asyncio.get_running_loop())  # the cut mends
    await wait_for(lambda: _counts_are(a, {1: 1}))


async def test_after_a_rebuild_every_room_gets_its_count_again(two):
    a, _, client, prefix = two
    hub = FakeHub()
    service = PresenceService(a, hub, Directory())
    await service.enter(BOOTH, "u7", ADA)
    joined = {"room": BOOTH.id, "count": 1, "joined": [{"id": 7, "name": "Ada", "staff": True}],
              "left": []}
    await wait_for(lambda: _sent(hub, "presence.update", joined))
    await wait_for(lambda: _booth_counted(hub))
    hub.published.clear()

    await forget_everything(client, prefix)
    # Nobody joined or left, but everyone in the room hears the count again, and the lobby
    # the booth's.
    await wait_for(lambda: _sent(hub, "presence.update", {"room": BOOTH.id, "count": 1,
                                                          "joined": [], "left": []}))
    await wait_for(lambda: _booth_counted(hub))


async def _booth_counted(hub: FakeHub) -> bool:
    """A hall.counts of hall 2 that counts one visitor at booth room 41."""
    return any(d["hall"] == 2 and d["counts"].get("41") == 1 for d in hub.events("hall.counts"))


async def _sent(hub: FakeHub, name: str, data: dict) -> bool:
    return data in hub.events(name)


class Directory(FakeDirectory):
    async def get(self, room_id: int):
        return BOOTH if room_id == BOOTH.id else None


async def test_hall_counts_frames_that_arrive_out_of_order_are_settled(two, settings):
    """Two processes send hall.counts for the same booth room; a lobby may get the frame
    read earlier after the one read later. Each process sends its rooms once more
    COUNTS_SETTLE later, so the last frames a lobby gets carry the counts as they are."""
    settings.HALLSERVER = {**settings.HALLSERVER, "COUNTS_SETTLE": 3600.0}
    a, b, _, _ = two
    hubs = [FakeHub(), FakeHub()]
    services = [PresenceService(a, hubs[0], FakeDirectory()),
                PresenceService(b, hubs[1], FakeDirectory())]
    await services[0].enter(BOOTH, "u7", ADA)
    await wait_for(lambda: _have(hubs[0], 1))
    await services[1].enter(BOOTH, "u8", BOB)
    await wait_for(lambda: _have(hubs[1], 1))
    # A lobby seeing B's frame (2 people), then A's older one (1) would be left wrong...
    assert hubs[0].events("hall.counts")[0]["counts"] == {"41": 1}
    assert hubs[1].events("hall.counts")[0]["counts"] == {"41": 2}
    # ...but each process has its room due again (the timer, run here at once).
    for svc in services:
        assert svc._settle == {2: {41}}
        handle = svc._timers[("settle", 2)]
        fire, args = handle._callback, handle._args
        handle.cancel()
        fire(*args)
    await wait_for(lambda: _have(hubs[0], 2))
    await wait_for(lambda: _have(hubs[1], 2))
    for hub in hubs:
        assert hub.events("hall.counts")[1] == {"hall": 2, "counts": {"41": 2}, "total": 2}
    # Sent once: nothing is due any more.
    assert [svc._settle for svc in services] == [{}, {}]
    assert not any(key[0] == "settle" for svc in services for key in svc._timers)


async def test_one_process_sends_no_settling_frames(fast_single):
    svc, hub = fast_single
    await svc.enter(BOOTH, "u7", ADA)
    await wait_for(lambda: _have(hub, 1))
    assert svc.settle_delay is None and svc._settle == {} and ("settle", 2) not in svc._timers


@pytest.fixture
def fast_single(quick_recovery):
    from booths.services.presence import MemoryPresence

    hub = FakeHub()
    return PresenceService(MemoryPresence(), hub, FakeDirectory()), hub


async def _have(hub: FakeHub, n: int) -> bool:
    return len(hub.events("hall.counts")) >= n
