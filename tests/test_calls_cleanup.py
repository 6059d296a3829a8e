"""Calls and knocks left behind by a crashed process are cleaned up by the others.

- unit level: CallService instances with different liveness identities over one store (a
  yielding in-memory store, so that concurrent sweeps really interleave, and a real Redis)
  stand for processes; the tests drive beats and sweeps themselves and record what is sent;
- consumer level: a staff member on a real connection of this process, the visitor on a
  simulated second process that dies;
- system level: two daphne processes and Redis; the visitor's process is killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time

import pytest
import redis.asyncio as aioredis

from streaming import store as store_module
from streaming.calls import CALL_INDEX, KNOCK_INDEX, CallService
from streaming.store import MemoryStore, RedisStore
from tests.conftest import ServerProcess, prepare_database, server_env
from tests.test_streaming_calls import connected, staff_listening, world  # noqa: F401
from tests.test_streaming_system import login_cookie
from tests.test_system import Client, guest_cookie

BOOTH = 7
STAFF = {"id": 1, "name": "Stella"}
VISITOR = {"id": 2, "name": "Vic"}


@pytest.fixture(autouse=True)
def _fast_live_video(settings):
    # The unit tests below beat, crash and sweep by hand, and move deadlines on a clock of
    # their own (Clock): a live process's key outlives any test (PROCESS_TTL, real seconds),
    # a crashed one's is deleted. Only the consumer-level test runs real beats and sweeps.
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "KNOCK_TIMEOUT": 30.0, "RECONNECT_GRACE": 0.5,
                           "PROCESS_TTL": 30.0, "PROCESS_BEAT": 0.1, "SWEEP_INTERVAL": 0.1}
    store_module.store.cache_clear()
    yield
    store_module.store.cache_clear()


class Clock:
    """Wall-clock seconds that move when a test says so, and by a microsecond per reading
    (so that what happens in order, such as two knocks, is stamped in order)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 1e-6
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class YieldingStore(MemoryStore):
    """The in-memory store, but every operation lets other tasks run first, as a network
    round trip would: concurrent sweeps interleave between reading and deleting."""


def _yielding(name: str):
    plain = getattr(MemoryStore, name)

    async def op(self, *args, **kwargs):
        await asyncio.sleep(0)
        return await plain(self, *args, **kwargs)

    return op


for _name in ("get", "get_many", "set", "delete", "delete_if", "zadd", "zrem", "zrange",
              "hset", "hdel", "hgetall"):
    setattr(YieldingStore, _name, _yielding(_name))


@pytest.fixture(params=["memory", "redis"])
async def kv(request):
    if request.param == "memory":
        yield YieldingStore()
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"tcc{os.getpid()}-{time.monotonic_ns()}:"
    redis_store = RedisStore(url, prefix, 8)
    yield redis_store
    await redis_store.redis.connection_pool.disconnect()
    client = aioredis.Redis.from_url(url)
    keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


class Process(CallService):
    """A CallService standing for one web process: sends are recorded, not delivered, and
    nothing runs in the background (the test beats and sweeps)."""

    def __init__(self, kv, name: str, sent: list, clock: Clock) -> None:
        super().__init__(kv, process=name)
        self.sent = sent
        self.clock = clock

    async def start(self) -> None:
        await self.beat()

    async def send(self, address: str, text: str) -> None:
        frame = json.loads(text)
        self.sent.append((address, frame["event"], frame["data"]))

    async def crash(self) -> None:
        """kill -9: its timers never fire and its liveness key goes away."""
        for handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        await self.kv.delete(f"proc:{self.process}")


def events(sent: list, name: str, address: str | None = None) -> list[dict]:
    return [data for to, ev, data in sent if ev == name and (address is None or to == address)]


async def processes(kv, *names: str, clock: Clock | None = None) -> tuple[list, list[Process]]:
    sent: list = []
    clock = clock or Clock()
    procs = [Process(kv, name, sent, clock) for name in names]
    for proc in procs:
        await proc.start()
    return sent, procs


async def call_between(visitor_proc: Process, staff_proc: Process) -> tuple[dict, str, str]:
    """A call: the visitor on ``visitor_proc``, the staff member on ``staff_proc``."""
    staff_addr, visitor_addr = f"{staff_proc.process}|1", f"{visitor_proc.process}|2"
    await staff_proc.listen(staff_addr, STAFF, BOOTH)
    knock = await visitor_proc.knock(visitor_addr, VISITOR, BOOTH)
    call = await staff_proc.accept(staff_addr, STAFF, knock["knock"])
    return call, staff_addr, visitor_addr


# --- knocks ----------------------------------------------------------------------------------

async def test_overdue_knock_is_expired_by_another_process(kv):
    clock = Clock()
    sent, (a, b) = await processes(kv, "proc-a", "proc-b", clock=clock)
    staff_addr, visitor_addr = "proc-b|1", "proc-a|2"
    await b.listen(staff_addr, STAFF, BOOTH)
    knock = (await a.knock(visitor_addr, VISITOR, BOOTH))["knock"]
    # The timer of the process that took the knock never fires; the deadline is in the store.
    for handle in a.timers.values():
        handle.cancel()
    clock.advance(29.9)
    await b.sweep()
    assert events(sent, "call.knock_closed") == []  # not due yet (KNOCK_TIMEOUT, 30 s)
    clock.advance(0.2)
    assert await a.queue(BOOTH) == []  # overdue knocks are not shown, but still queued
    sent.clear()
    await b.sweep()
    assert events(sent, "call.knock_closed", visitor_addr) == [
        {"knock": knock, "booth": BOOTH, "reason": "timeout"}]
    assert events(sent, "call.knocks", staff_addr) == [{"booth": BOOTH, "knocks": []}]
    assert await kv.zrange(f"queue:{BOOTH}") == [] and await kv.zrange(KNOCK_INDEX) == []
    sent.clear()
    await asyncio.gather(a.sweep(), b.sweep())
    assert sent == []


async def test_racing_sweeps_expire_a_knock_once(kv):
    clock = Clock()
    sent, (a, b, c) = await processes(kv, "proc-a", "proc-b", "proc-c", clock=clock)
    await c.listen("proc-c|1", STAFF, BOOTH)
    knock = (await a.knock("proc-a|2", VISITOR, BOOTH))["knock"]
    await a.crash()
    clock.advance(30.1)  # past KNOCK_TIMEOUT
    sent.clear()
    await asyncio.gather(b.sweep(), c.sweep(), b.sweep())
    assert events(sent, "call.knock_closed") == [
        {"knock": knock, "booth": BOOTH, "reason": "timeout"}]
    assert await kv.get(f"knock:{knock}") is None


async def test_knock_of_a_dead_process_leaves_the_queue(kv):
    sent, (a, b) = await processes(kv, "proc-a", "proc-b")
    await b.listen("proc-b|1", STAFF, BOOTH)
    first = (await a.knock("proc-a|2", VISITOR, BOOTH))["knock"]
    second = (await b.knock("proc-b|3", {"id": 3, "name": "Wes"}, BOOTH))["knock"]
    assert (await b.knock("proc-b|3", {"id": 3, "name": "Wes"}, BOOTH))["position"] == 2
    await b.sweep()
    assert len(await b.queue(BOOTH)) == 2  # A is alive: nothing happens
    await a.crash()
    sent.clear()
    await asyncio.gather(b.sweep(), b.sweep())
    # Wes moves up, the staff member sees the new queue; nobody tells the dead visitor.
    assert events(sent, "call.queue") == [{"knock": second, "booth": BOOTH, "position": 1}]
    (knocks,) = events(sent, "call.knocks", "proc-b|1")
    assert [k["knock"] for k in knocks["knocks"]] == [second]
    assert events(sent, "call.knock_closed") == []
    assert await kv.get(f"knock:{first}") is None
    assert await kv.zrange(KNOCK_INDEX) == [second]


async def test_listeners_of_a_dead_process_are_forgotten(kv):
    _, (a, b) = await processes(kv, "proc-a", "proc-b")
    await a.listen("proc-a|1", STAFF, BOOTH)
    assert list(await b.listeners(BOOTH)) == ["proc-a|1"]
    await a.crash()
    assert await b.listeners(BOOTH) == {}
    assert await kv.hgetall(f"listen:{BOOTH}") == {}


# --- calls -----------------------------------------------------------------------------------

async def test_call_of_a_dead_process_ends_for_the_survivor(kv):
    sent, (a, b) = await processes(kv, "proc-a", "proc-b")
    call, staff_addr, _ = await call_between(a, b)
    assert await kv.get(f"busy:{STAFF['id']}") == call["id"]
    await a.crash()
    sent.clear()
    await b.sweep()
    # RECONNECT_GRACE (0.5 s) is shorter than PROCESS_TTL (30 s): nothing left to wait for.
    assert sent == [(staff_addr, "call.ended", {"call": call["id"], "reason": "peer_gone"})]
    assert await kv.get(f"call:{call['id']}") is None
    assert await kv.zrange(CALL_INDEX) == []
    assert await kv.get(f"busy:{STAFF['id']}") is None
    assert await kv.get(f"busy:{VISITOR['id']}") is None
    # The staff member takes the next knock.
    knock = await b.knock("proc-b|5", {"id": 3, "name": "Wes"}, BOOTH)
    assert (await b.accept(staff_addr, STAFF, knock["knock"]))["visitor"]["name"] == "Wes"


async def test_calls_of_live_processes_are_left_alone(kv):
    sent, (a, b) = await processes(kv, "proc-a", "proc-b")
    call, _, _ = await call_between(a, b)
    sent.clear()
    await a.beat()
    await asyncio.gather(a.sweep(), b.sweep())
    assert sent == []
    assert await kv.get(f"call:{call['id']}") == call
    assert await kv.zrange(CALL_INDEX) == [call["id"]]
    assert await kv.get(f"busy:{STAFF['id']}") == call["id"]


async def test_racing_sweeps_end_a_call_once(kv):
    sent, (a, b, c) = await processes(kv, "proc-a", "proc-b", "proc-c")
    call, staff_addr, _ = await call_between(a, b)
    await a.crash()
    sent.clear()
    await asyncio.gather(b.sweep(), c.sweep(), c.sweep())
    assert sent == [(staff_addr, "call.ended", {"call": call["id"], "reason": "peer_gone"})]


async def test_dead_party_gets_the_rest_of_its_reconnect_grace(kv, settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "RECONNECT_GRACE": 32.0}
    clock = Clock()
    sent, (a, b, c) = await processes(kv, "proc-a", "proc-b", "proc-c", clock=clock)
    call, staff_addr, _ = await call_between(a, b)
    await a.crash()
    sent.clear()
    # Noticed once: the survivor hears the peer is away for the rest of the grace
    # (RECONNECT_GRACE minus PROCESS_TTL, since the crash was at least that long ago).
    await asyncio.gather(b.sweep(), c.sweep(), b.sweep())
    assert [(to, ev) for to, ev, _ in sent] == [(staff_addr, "call.peer_away")]
    assert sent[0][2]["call"] == call["id"] and sent[0][2]["grace"] == pytest.approx(2.0)
    assert await kv.get(f"call:{call['id']}") is not None
    sent.clear()
    clock.advance(1.9)
    await asyncio.gather(c.sweep(), b.sweep())
    assert sent == []  # still within the grace
    clock.advance(0.2)
    await asyncio.gather(c.sweep(), b.sweep())
    assert sent == [(staff_addr, "call.ended", {"call": call["id"], "reason": "peer_gone"})]
    assert await kv.get(f"busy:{STAFF['id']}") is None


async def test_party_that_resumes_elsewhere_keeps_the_call(kv, settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "RECONNECT_GRACE": 30.3}
    clock = Clock()
    sent, (a, b) = await processes(kv, "proc-a", "proc-b", clock=clock)
    call, _, _ = await call_between(a, b)
    await a.crash()
    await b.sweep()
    # The visitor's browser reconnects to B and resumes before the grace is over.
    await b.resume("proc-b|9", VISITOR["id"], call["id"])
    sent.clear()
    clock.advance(0.4)  # past what was left of the grace (0.3 s)
    await b.sweep()
    assert sent == []
    assert (await kv.get(f"call:{call['id']}"))["visitor"]["addr"] == "proc-b|9"


async def test_away_party_whose_process_died_is_ended_after_its_grace(kv, settings):
    """The connection closed (grace timer started), then its process died with the timer."""
    # The grace timer in A (real seconds) is far off; A's crash cancels it.
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "RECONNECT_GRACE": 20.0}
    clock = Clock()
    sent, (a, b) = await processes(kv, "proc-a", "proc-b", clock=clock)
    call, staff_addr, visitor_addr = await call_between(a, b)
    await a.connection_closed(visitor_addr, VISITOR["id"])
    assert events(sent, "call.peer_away", staff_addr)
    await a.crash()
    sent.clear()
    clock.advance(19.9)
    await b.sweep()
    assert sent == []
    clock.advance(0.2)
    await b.sweep()
    assert sent == [(staff_addr, "call.ended", {"call": call["id"], "reason": "peer_gone"})]


async def test_indexes_forget_records_that_expired(kv):
    _, (b,) = await processes(kv, "proc-b")
    await kv.zadd(KNOCK_INDEX, "gone-knock", time.time() + 60)
    await kv.zadd(CALL_INDEX, "gone-call", time.time())
    await b.sweep()
    assert await kv.zrange(KNOCK_INDEX) == [] and await kv.zrange(CALL_INDEX) == []


# --- consumer level: the real service of this process, with its beat and sweep ----------------

@pytest.mark.django_db(transaction=True)
async def test_staff_connection_hears_the_call_ended_when_the_visitor_process_dies(
        world, settings):  # noqa: F811
    # Real beats and sweeps: the dead process's key expires after PROCESS_TTL, which the test
    # waits for (the events below), not a sleep.
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "PROCESS_TTL": 1.0}
    staff = await staff_listening(world)
    # The visitor is on another "process" sharing the store; it runs its own beat and sweep.
    ghost = CallService(store_module.store(), process="ghost.process")
    visitor = {"id": world["Ada"].pk, "name": "Ada"}
    knock = await ghost.knock("ghost.process|1", visitor, world["booth"])
    await staff.event("call.knocks", match=lambda d: len(d["knocks"]) == 1)
    call = (await staff.ok("call.accept", {"knock": knock["knock"]}))["call"]

    # kill -9: no more beats, no cleanup; its liveness key expires (PROCESS_TTL, 1 s).
    await ghost.stop()
    assert await staff.event("call.ended", within=10) == {"call": call, "reason": "peer_gone"}

    # Not busy any more; and a knock left by a dead process leaves the queue too.
    ghost = CallService(store_module.store(), process="ghost.process2")
    stale = await ghost.knock("ghost.process2|1", visitor, world["booth"])
    await staff.event("call.knocks", match=lambda d: [k["knock"] for k in d["knocks"]] ==
                      [stale["knock"]])
    await ghost.stop()
    await staff.event("call.knocks", match=lambda d: d["knocks"] == [], within=10)
    bob = await connected(world["Bob"])
    fresh = (await bob.ok("call.knock", {"booth": world["booth"]}))["knock"]
    assert (await staff.ok("call.accept", {"knock": fresh}))["peer"]["name"] == "Bob"
    await bob.close()
    await staff.close()


# --- system level: two daphne processes and Redis; one is killed --------------------------------

@pytest.fixture
def crash_cluster(tmp_path_factory, redis_url):
    data_dir = tmp_path_factory.mktemp("crash-cluster")
    prefix = f"tc{os.getpid()}-{time.monotonic_ns()}:"
    env = server_env(data_dir, REDIS_URL=redis_url, HALLSERVER_REDIS_PREFIX=prefix,
                     HALLSERVER_CALL_PROCESS_TTL="2", HALLSERVER_CALL_PROCESS_BEAT="0.5",
                     HALLSERVER_CALL_SWEEP_INTERVAL="0.5", HALLSERVER_CALL_RECONNECT_GRACE="3")
    prepare_database(env)
    started = []
    try:
        for name in ("web1", "web2"):
            started.append(ServerProcess(env, name))
        yield started
    finally:
        for process in started:
            process.stop()


@pytest.mark.system
async def test_call_ends_when_the_visitor_process_is_killed(crash_cluster):
    web1, web2 = crash_cluster
    staff_cookie = login_cookie(web2.url, "exhibitor", "exhibitor-demo")
    async with Client(web2, staff_cookie) as staff:
        booth = staff.user["staff_of"][0]
        await staff.call("call.listen", {"booths": [booth]})
        guest = await Client(web1, guest_cookie(web1.url, "Gus")).__aenter__()
        knock = await guest.call("call.knock", {"booth": booth})
        call = (await staff.call("call.accept", {"knock": knock["knock"]}))["call"]
        assert (await guest.wait_event("call.accepted"))["call"] == call

        web1.proc.kill()  # SIGKILL: the process cleans up nothing
        web1.proc.wait(10)
        with contextlib.suppress(Exception):
            await guest.__aexit__(None, None, None)

        # Noticed once web1's liveness key expired (2 s): the staff member hears that the peer
        # is away for the rest of the reconnect grace (3 - 2 s), then that the call ended.
        away = await staff.wait_event("call.peer_away", within=30)
        assert away["call"] == call
        assert await staff.wait_event("call.ended", within=30) == {"call": call,
                                                                   "reason": "peer_gone"}

        # The staff member is free: a new visitor (on the surviving process) gets through.
        async with Client(web2, guest_cookie(web2.url, "Hal")) as hal:
            fresh = await hal.call("call.knock", {"booth": booth})
            accepted = await staff.call("call.accept", {"knock": fresh["knock"]})
            assert accepted["peer"]["name"] == "Hal"
            assert (await hal.wait_event("call.accepted"))["call"] == accepted["call"]
            await hal.call("call.hangup", {"call": accepted["call"]})


async def _forget_everything(kv) -> None:
    """The store restarted empty."""
    if isinstance(kv, MemoryStore):
        kv.values.clear()
        kv.zsets.clear()
        kv.hashes.clear()
        return
    keys = [k async for k in kv.redis.scan_iter(match=f"{kv.prefix}*")]
    if keys:
        await kv.redis.delete(*keys)


async def test_knocks_and_listening_come_back_after_the_store_lost_them(kv):
    clock = Clock()
    sent, (a, b) = await processes(kv, "proc-a", "proc-b", clock=clock)
    await b.listen("proc-b|1", STAFF, BOOTH)
    first = (await a.knock("proc-a|2", VISITOR, BOOTH))["knock"]
    clock.advance(1)
    second = (await b.knock("proc-b|3", {"id": 3, "name": "Wes"}, BOOTH))["knock"]
    await _forget_everything(kv)
    assert await a.queue(BOOTH) == [] and await a.listeners(BOOTH) == {}
    sent.clear()
    # Each process notices at its next beat that its liveness key went missing.
    await a.check_in()
    await b.check_in()
    assert [k["id"] for k in await a.queue(BOOTH)] == [first, second]  # places kept
    assert list(await a.listeners(BOOTH)) == ["proc-b|1"]
    assert events(sent, "call.queue", "proc-b|3")[-1] == {
        "knock": second, "booth": BOOTH, "position": 2}
    (knocks, *_) = reversed(events(sent, "call.knocks", "proc-b|1"))
    assert [k["knock"] for k in knocks["knocks"]] == [first, second]
    # The rebuilt knocks are whole: the staff member can accept the first.
    call = await b.accept("proc-b|1", STAFF, first)
    assert call["id"] == first and call["parties"][0]["addr"] == "proc-a|2"
    # A beat with nothing lost writes nothing again.
    sent.clear()
    await a.check_in()
    assert sent == []
