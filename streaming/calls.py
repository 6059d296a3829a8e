"""Booth video calls: knock queues, accept/decline, timeouts, and call state.

A visitor *knocks* at a booth; staff members who *listen* for the booth (their browser said
``call.listen``) see the queue and accept or decline. Accepting turns the knock into a *call*
between two connections; signalling (offer, answer, ICE candidates) is relayed to exactly the
peer's connection address through the hub, on whatever process it is.

Shared state (see :mod:`.store`):

- ``knock:<id>``      the knock: booth, visitor, its connection address, deadline
- ``queue:<booth>``   knock ids by arrival
- ``listen:<booth>``  connection address → staff user listening for the booth
- ``call:<id>``       the call: both parties with their connection addresses
- ``busy:<user>``     the call a user is in (taken with SET NX: one call per user)
- ``knocks``          index of waiting knock ids (score: deadline), for the sweep
- ``calls``           index of open call ids (score: start), for the sweep
- ``proc:<channel>``  liveness of the process whose hub channel that is (short TTL, refreshed)
- ``lost:<call>:<addr>`` when the sweep first saw that party's process gone, and its deadline

What belongs to one connection (its knocks, calls and listened booths) is also remembered in
this process, so that a closing socket can clean up after itself: its knocks leave the queue,
its listening ends, and its calls wait ``RECONNECT_GRACE`` seconds for ``call.resume`` before
the peer is told the call ended.

A process that crashes cleans up nothing, so every process that holds call state also keeps
its ``proc:`` key alive and sweeps the indexes every few seconds: overdue knocks time out
(whichever process sees them first; taking a knock out of its queue is atomic, so this happens
once), knocks of dead processes leave their queues, and a call whose party's process is gone
ends with ``peer_gone`` once that party's reconnect grace (counted from the crash, as well as
the liveness TTL tells) is over; the survivor gets ``call.peer_away`` when the crash is noticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from hallserver.realtime.frames import event
from hallserver.realtime.hub import hub, spawn

from .store import Store, store

log = logging.getLogger(__name__)

CALL_TTL = 12 * 3600
#: How long ``busy:<user>`` may say "pending" (between taking the slot and storing the call).
PENDING_TTL = 60
#: How long a knock record outlives its deadline (the sweep normally removes it at the deadline).
KNOCK_SLACK = 600
ROLES = ("staff", "visitor")
OTHER = {"staff": "visitor", "visitor": "staff"}
KNOCK_INDEX = "knocks"
CALL_INDEX = "calls"


@dataclass
class Local:
    """What one connection of this process holds."""

    knocks: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    booths: set[int] = field(default_factory=set)


class CallError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def new_id() -> str:
    return secrets.token_hex(8)


def conf() -> dict:
    return settings.LIVE_VIDEO


def process_of(address: str) -> str:
    """The hub channel (process) part of a connection address ``"<channel>|<conn id>"``."""
    return address.rpartition("|")[0]


class CallService:
    def __init__(self, kv: Store, process: str | None = None) -> None:
        self.kv = kv
        self.local: dict[str, Local] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        # The liveness identity of this process: its hub channel unless given (tests).
        self.identity = process
        self.process: str | None = process
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started: asyncio.Task | None = None
        self._tasks: list[asyncio.Task] = []

    def _local(self, address: str) -> Local:
        return self.local.setdefault(address, Local())

    # --- liveness and the sweep ---------------------------------------------------------------
    async def start(self) -> None:
        """Start (once per event loop) the liveness key and the sweep of this process.

        On return the ``proc:`` key exists, so state naming this process is never taken for
        the leftovers of a dead one.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._reset(loop)
        started = self._started
        if started is None or (started.done() and (started.cancelled()
                                                   or started.exception() is not None)):
            started = self._started = loop.create_task(self._start())
        await asyncio.shield(started)

    def _reset(self, loop: asyncio.AbstractEventLoop) -> None:
        # A new event loop (tests run one per test): what ran on the old one is gone.
        for task in self._tasks:
            with contextlib.suppress(RuntimeError):
                task.cancel()
        self._tasks = []
        self.timers = {}
        self._started = None
        self._loop = loop
        self.process = self.identity

    async def _start(self) -> None:
        if self.identity is None:
            await hub.start()
            self.process = hub.channel
        await self.beat()
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._beat_loop(), name="calls-beat"),
                       loop.create_task(self._sweep_loop(), name="calls-sweep")]

    async def stop(self) -> None:
        """Stop beating and sweeping (the ``proc:`` key then expires by itself)."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._started = None
        self._loop = None

    async def beat(self) -> None:
        """Say that this process is alive for another ``PROCESS_TTL`` seconds."""
        await self.kv.set(f"proc:{self.process}", time.time(), ttl=conf()["PROCESS_TTL"])

    async def _beat_loop(self) -> None:
        while True:
            await asyncio.sleep(conf()["PROCESS_BEAT"])
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("call liveness beat failed", exc_info=True)

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("call sweep failed")
            await asyncio.sleep(conf()["SWEEP_INTERVAL"])

    async def alive(self, processes: set[str]) -> dict[str, bool]:
        """Which of ``processes`` (hub channels) still refresh their liveness key."""
        others = sorted(p for p in processes if p != self.process)
        found = await self.kv.get_many([f"proc:{p}" for p in others])
        alive = {p: value is not None for p, value in zip(others, found, strict=True)}
        if self.process in processes:
            alive[self.process] = True
        return alive

    async def sweep(self) -> None:
        """One pass over the indexes: expire overdue knocks, drop the knocks of dead processes
        and end the calls of dead processes (any process may do it; each happens once)."""
        await self._sweep_knocks()
        await self._sweep_calls()

    async def _sweep_knocks(self) -> None:
        ids = await self.kv.zrange(KNOCK_INDEX)
        if not ids:
            return
        knocks = await self.kv.get_many([f"knock:{i}" for i in ids])
        alive = await self.alive({process_of(k["addr"]) for k in knocks if k is not None})
        now = time.time()
        changed: set[int] = set()
        for knock_id, knock in zip(ids, knocks, strict=True):
            if knock is None:
                await self.kv.zrem(KNOCK_INDEX, knock_id)
            elif knock["deadline"] <= now:
                await self._expire(knock)
            elif not alive[process_of(knock["addr"])]:
                log.info("knock %s: its process is gone", knock_id)
                if await self._take_knock(knock_id) is not None:
                    changed.add(knock["booth"])
        for booth in sorted(changed):
            await self.queue_changed(booth)

    async def _sweep_calls(self) -> None:
        ids = await self.kv.zrange(CALL_INDEX)
        if not ids:
            return
        records = await self.kv.get_many([f"call:{i}" for i in ids])
        alive = await self.alive({process_of(c[r]["addr"]) for c in records if c is not None
                                  for r in ROLES})
        now = time.time()
        for call_id, call in zip(ids, records, strict=True):
            if call is None:
                await self.kv.zrem(CALL_INDEX, call_id)
                continue
            live = {r: alive[process_of(call[r]["addr"])] for r in ROLES}
            dead = [r for r in ROLES if not live[r]]
            if not dead:
                continue
            deadlines = [await self._deadline_of(call, role, live, now) for role in dead]
            if min(deadlines) <= now:
                log.info("call %s: %s gone with its process", call_id, " and ".join(dead))
                await self.end(call, "peer_gone", notify=[r for r in ROLES if live[r]])

    async def _deadline_of(self, call: dict, role: str, live: dict[str, bool],
                           now: float) -> float:
        """When the call ends for ``role``, whose process is gone, unless it resumes."""
        party = call[role]
        if "away" in party:
            # Its connection had closed; the grace timer died with the process.
            return party["away"]
        # The crash was at least PROCESS_TTL ago: what is left of the reconnect grace.
        remaining = conf()["RECONNECT_GRACE"] - conf()["PROCESS_TTL"]
        if remaining <= 0:
            return now
        until = now + remaining
        key = f"lost:{call['id']}:{party['addr']}"
        if await self.kv.set(key, until, ttl=remaining + 60, nx=True):
            other = OTHER[role]
            if live[other]:
                await self.send(call[other]["addr"], event("call.peer_away",
                                {"call": call["id"], "grace": remaining}))
            return until
        noticed = await self.kv.get(key)
        return until if noticed is None else noticed

    # --- sending --------------------------------------------------------------------------
    async def send(self, address: str, text: str) -> None:
        """Deliver a serialised frame to one connection, on whatever process it is."""
        if address:
            await hub.to_connection(address, text)

    # --- listening staff ----------------------------------------------------------------------
    async def listen(self, address: str, user: dict, booth: int) -> list[dict]:
        await self.start()
        await self.kv.hset(f"listen:{booth}", address, user)
        self._local(address).booths.add(booth)
        return await self.queue(booth)

    async def listeners(self, booth: int) -> dict[str, dict]:
        """Listening connections of the booth; those of dead processes are forgotten."""
        found = await self.kv.hgetall(f"listen:{booth}")
        if not found:
            return found
        alive = await self.alive({process_of(a) for a in found})
        for address in [a for a in found if not alive[process_of(a)]]:
            await self.kv.hdel(f"listen:{booth}", address)
            del found[address]
        return found

    # --- knocks -------------------------------------------------------------------------------
    async def queue(self, booth: int) -> list[dict]:
        """The waiting knocks of a booth, oldest first.

        Overdue knocks are left out but stay queued until their expiry (the timer of the
        process that took them, or any process's sweep) takes them and tells the visitor.
        """
        ids = await self.kv.zrange(f"queue:{booth}")
        knocks = await self.kv.get_many([f"knock:{i}" for i in ids])
        now = time.time()
        waiting = []
        for knock_id, knock in zip(ids, knocks, strict=True):
            if knock is None:
                await self.kv.zrem(f"queue:{booth}", knock_id)
                await self.kv.zrem(KNOCK_INDEX, knock_id)
                continue
            if knock["deadline"] >= now:
                waiting.append(knock)
        return waiting

    @staticmethod
    def public_knock(knock: dict, position: int) -> dict:
        return {"knock": knock["id"], "booth": knock["booth"],
                "user": {"id": knock["user"], "name": knock["name"]},
                "ts": knock["at"], "position": position}

    async def knock(self, address: str, user: dict, booth: int) -> dict:
        await self.start()
        if await self.kv.get(f"busy:{user['id']}") is not None:
            raise CallError("call.busy", "You are already in a call.")
        local = self._local(address)
        for knock_id in list(local.knocks):
            existing = await self.kv.get(f"knock:{knock_id}")
            if existing is not None and existing["booth"] == booth:
                position = await self._position(booth, knock_id)
                if position:
                    return {"knock": knock_id, "booth": booth, "position": position,
                            "timeout": max(0.0, existing["deadline"] - time.time())}
        if not await self.listeners(booth):
            raise CallError("call.no_staff",
                            "Nobody from this booth is online right now; leave a contact request.")
        timeout = conf()["KNOCK_TIMEOUT"]
        now = time.time()
        knock = {"id": new_id(), "booth": booth, "user": user["id"], "name": user["name"],
                 "addr": address, "at": now, "deadline": now + timeout}
        await self.kv.set(f"knock:{knock['id']}", knock, ttl=timeout + KNOCK_SLACK)
        await self.kv.zadd(KNOCK_INDEX, knock["id"], knock["deadline"])
        await self.kv.zadd(f"queue:{booth}", knock["id"], now)
        local.knocks.add(knock["id"])
        self._timer(knock["id"], timeout, lambda: self._expire(knock))
        await self.queue_changed(booth)
        position = await self._position(booth, knock["id"])
        return {"knock": knock["id"], "booth": booth, "position": position, "timeout": timeout}

    async def _position(self, booth: int, knock_id: str) -> int:
        ids = [k["id"] for k in await self.queue(booth)]
        return ids.index(knock_id) + 1 if knock_id in ids else 0

    async def queue_changed(self, booth: int) -> None:
        """Tell every waiting visitor their place and every listening staff member the queue."""
        knocks = await self.queue(booth)
        public = [self.public_knock(k, n) for n, k in enumerate(knocks, start=1)]
        sends = [self.send(k["addr"], event("call.queue",
                           {"knock": k["id"], "booth": booth, "position": n}))
                 for n, k in enumerate(knocks, start=1)]
        for address in await self.listeners(booth):
            sends.append(self.send(address, event("call.knocks",
                                                  {"booth": booth, "knocks": public})))
        await asyncio.gather(*sends)

    async def _take_knock(self, knock_id: str) -> dict | None:
        """Remove a knock from its queue; None if it is gone or someone else took it."""
        knock = await self.kv.get(f"knock:{knock_id}")
        if knock is None:
            return None
        if not await self.kv.zrem(f"queue:{knock['booth']}", knock_id):
            return None
        await self.kv.delete(f"knock:{knock_id}")
        await self.kv.zrem(KNOCK_INDEX, knock_id)
        self._cancel_timer(knock_id)
        local = self.local.get(knock["addr"])
        if local is not None:
            local.knocks.discard(knock_id)
        return knock

    async def knock_of(self, knock_id: str) -> dict:
        knock = await self.kv.get(f"knock:{knock_id}")
        if knock is None or knock["deadline"] < time.time():
            raise CallError("call.not_found", f"No waiting knock {knock_id}.")
        return knock

    async def cancel(self, address: str, knock_id: str) -> None:
        knock = await self.kv.get(f"knock:{knock_id}")
        if knock is None or knock["addr"] != address:
            raise CallError("call.not_found", f"You have no waiting knock {knock_id}.")
        if await self._take_knock(knock_id) is not None:
            await self.queue_changed(knock["booth"])

    async def decline(self, knock_id: str, reason: str = "declined") -> dict:
        knock = await self._take_knock(knock_id)
        if knock is None:
            raise CallError("call.not_found", f"No waiting knock {knock_id}.")
        await self.send(knock["addr"], event("call.knock_closed",
                        {"knock": knock_id, "booth": knock["booth"], "reason": reason}))
        await self.queue_changed(knock["booth"])
        return knock

    async def _expire(self, knock: dict) -> None:
        with contextlib.suppress(CallError):  # accepted, declined or cancelled meanwhile
            await self.decline(knock["id"], "timeout")

    # --- calls ----------------------------------------------------------------------------------
    async def accept(self, address: str, staff: dict, knock_id: str) -> dict:
        await self.start()
        if not await self.kv.set(f"busy:{staff['id']}", "pending", ttl=PENDING_TTL, nx=True):
            raise CallError("call.busy", "Hang up your current call first.")
        try:
            knock = await self._take_knock(knock_id)
        except BaseException:
            await self.kv.delete_if(f"busy:{staff['id']}", "pending")
            raise
        if knock is None:
            await self.kv.delete_if(f"busy:{staff['id']}", "pending")
            raise CallError("call.not_found", f"The knock {knock_id} is no longer waiting.")
        call = {
            "id": knock_id, "booth": knock["booth"], "at": time.time(),
            "staff": {"user": staff["id"], "name": staff["name"], "addr": address},
            "visitor": {"user": knock["user"], "name": knock["name"], "addr": knock["addr"]},
        }
        await self.kv.set(f"call:{knock_id}", call, ttl=CALL_TTL)
        await self.kv.zadd(CALL_INDEX, knock_id, call["at"])
        await self.kv.set(f"busy:{staff['id']}", knock_id, ttl=CALL_TTL)
        await self.kv.set(f"busy:{knock['user']}", knock_id, ttl=CALL_TTL)
        self._local(address).calls.add(knock_id)
        await self.send(knock["addr"], event("call.accepted", {
            "call": knock_id, "booth": knock["booth"],
            "peer": {"id": staff["id"], "name": staff["name"]}, "role": "answerer",
        }))
        await self.queue_changed(knock["booth"])
        return call

    async def call_of(self, call_id: str, address: str) -> tuple[dict, str, str]:
        """The call, this connection's role in it and the other role."""
        call = await self.kv.get(f"call:{call_id}")
        if call is not None:
            for me, other in (("staff", "visitor"), ("visitor", "staff")):
                if call[me]["addr"] == address:
                    return call, me, other
        raise CallError("call.not_found", f"This connection is not in call {call_id}.")

    async def signal(self, address: str, call_id: str, payload: dict) -> None:
        call, _, other = await self.call_of(call_id, address)
        await self.send(call[other]["addr"], event("call.signal", {"call": call_id, **payload}))

    async def hangup(self, address: str, call_id: str) -> None:
        call, _, other = await self.call_of(call_id, address)
        await self.end(call, "hangup", notify=[other])

    async def end(self, call: dict, reason: str, notify: list[str]) -> None:
        call_id = call["id"]
        if not await self.kv.delete(f"call:{call_id}"):
            return  # ended elsewhere already
        await self.kv.zrem(CALL_INDEX, call_id)
        self._cancel_timer(f"grace:{call_id}")
        for role in ("staff", "visitor"):
            await self.kv.delete_if(f"busy:{call[role]['user']}", call_id)
            local = self.local.get(call[role]["addr"])
            if local is not None:
                local.calls.discard(call_id)
        for role in notify:
            await self.send(call[role]["addr"], event("call.ended",
                                                      {"call": call_id, "reason": reason}))

    async def resume(self, address: str, user_id: int, call_id: str) -> tuple[dict, str]:
        """A party's new connection takes the call over (after a reconnect)."""
        await self.start()
        call = await self.kv.get(f"call:{call_id}")
        role = None
        if call is not None:
            role = next((r for r in ("staff", "visitor") if call[r]["user"] == user_id), None)
        if call is None or role is None:
            raise CallError("call.not_found", f"You are not in call {call_id}.")
        old = call[role]["addr"]
        call[role]["addr"] = address
        call[role].pop("away", None)
        await self.kv.set(f"call:{call_id}", call, ttl=CALL_TTL)
        self._cancel_timer(f"grace:{call_id}")
        if old in self.local:
            self.local[old].calls.discard(call_id)
        self._local(address).calls.add(call_id)
        other = "visitor" if role == "staff" else "staff"
        await self.send(call[other]["addr"], event("call.peer_back", {"call": call_id}))
        return call, role

    # --- connections going away -------------------------------------------------------------
    async def connection_closed(self, address: str, user_id: int | None) -> None:
        local = self.local.pop(address, None) or Local()
        call_ids = set(local.calls)
        if user_id is not None:
            # A call accepted on another process is not in ``local``: find it by the user.
            busy = await self.kv.get(f"busy:{user_id}")
            if busy and busy != "pending":
                call_ids.add(busy)
        for booth in local.booths:
            await self.kv.hdel(f"listen:{booth}", address)
        for knock_id in list(local.knocks):
            knock = await self._take_knock(knock_id)
            if knock is not None:
                await self.queue_changed(knock["booth"])
        grace = conf()["RECONNECT_GRACE"]
        for call_id in call_ids:
            call = await self.kv.get(f"call:{call_id}")
            if call is None:
                continue
            role = next((r for r in ("staff", "visitor") if call[r]["addr"] == address), None)
            if role is None:
                continue
            other = "visitor" if role == "staff" else "staff"
            call[role]["away"] = time.time() + grace
            await self.kv.set(f"call:{call_id}", call, ttl=CALL_TTL)
            await self.send(call[other]["addr"], event("call.peer_away",
                            {"call": call_id, "grace": grace}))
            self._timer(f"grace:{call_id}", grace,
                        lambda c=call_id, a=address: self._grace_over(c, a))

    async def _grace_over(self, call_id: str, address: str) -> None:
        call = await self.kv.get(f"call:{call_id}")
        if call is None:
            return
        for role, other in (("staff", "visitor"), ("visitor", "staff")):
            if call[role]["addr"] == address:
                await self.end(call, "peer_gone", notify=[other])

    # --- timers -----------------------------------------------------------------------------
    def _timer(self, key: str, delay: float, make_coro: Any) -> None:
        self._cancel_timer(key)
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self.timers.pop(key, None)
            spawn(make_coro())

        self.timers[key] = loop.call_later(delay, fire)

    def _cancel_timer(self, key: str) -> None:
        handle = self.timers.pop(key, None)
        if handle is not None:
            handle.cancel()


_services: dict[int, CallService] = {}


def calls() -> CallService:
    """The process-wide call service (one per store, so tests get a fresh one)."""
    kv = store()
    service = _services.get(id(kv))
    if service is None or service.kv is not kv:
        _services.clear()
        service = _services[id(kv)] = CallService(kv)
    return service
