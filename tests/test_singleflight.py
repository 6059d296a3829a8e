"""SingleFlight, and the caches that use it to share one load among concurrent joins."""

from __future__ import annotations

import asyncio

import pytest

from booths.services.chat import HistoryCache
from booths.services.singleflight import SingleFlight


async def test_concurrent_askers_share_one_load():
    flights = SingleFlight()
    calls = []
    gate = asyncio.Event()

    async def load():
        calls.append(1)
        await gate.wait()
        return "room 7"

    askers = [asyncio.ensure_future(flights.run(7, load)) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*askers) == ["room 7"] * 50
    assert len(calls) == 1
    assert await flights.run(7, load) == "room 7" and len(calls) == 2  # landed: loads again


async def test_a_cancelled_asker_does_not_cancel_the_load_of_the_others():
    flights = SingleFlight()
    gate = asyncio.Event()

    async def load():
        await gate.wait()
        return 42

    first = asyncio.ensure_future(flights.run("k", load))
    second = asyncio.ensure_future(flights.run("k", load))
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert await second == 42
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_failures_reach_every_asker_and_are_not_kept():
    flights = SingleFlight()
    attempts = []

    async def load():
        attempts.append(1)
        await asyncio.sleep(0)
        if len(attempts) == 1:
            raise RuntimeError("database away")
        return "ok"

    results = await asyncio.gather(*(flights.run("k", load) for _ in range(3)),
                                   return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results) and len(attempts) == 1
    assert await flights.run("k", load) == "ok"


async def test_forget_makes_later_askers_load_afresh():
    flights = SingleFlight()
    gate = asyncio.Event()
    loads = []
    started = [asyncio.Event(), asyncio.Event()]

    async def load():
        loads.append(1)
        started[len(loads) - 1].set()
        await gate.wait()
        return len(loads)

    old = asyncio.ensure_future(flights.run(("room", 1), load))
    await started[0].wait()
    flights.forget_if(lambda key: key[1] == 1)
    new = asyncio.ensure_future(flights.run(("room", 1), load))
    await started[1].wait()
    gate.set()
    assert len(loads) == 2 and await new == 2 and await old == 2


async def test_history_cache_shares_a_query_and_does_not_keep_a_page_forgotten_meanwhile(
        monkeypatch):
    from booths.services import chat

    gate, started = asyncio.Event(), asyncio.Event()
    queries = []

    async def history(room_id, before, limit):
        queries.append((room_id, before, limit))
        started.set()
        await gate.wait()
        return [{"seq": before - 1}], False

    monkeypatch.setattr(chat, "history", history)
    cache = HistoryCache()
    joins = [asyncio.ensure_future(cache.page(5, 10, 50)) for _ in range(20)]
    await started.wait()
    cache.forget(5)  # a message was deleted while the query ran
    gate.set()
    assert all(page == ([{"seq": 10}], False) for page in await asyncio.gather(*joins))
    assert len(queries) == 1
    await cache.page(5, 10, 50)
    assert len(queries) == 2  # the page read before the deletion was not cached
    await cache.page(5, 10, 50)
    assert len(queries) == 2
