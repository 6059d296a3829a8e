"""Booth video calls: knock queues, accept/decline, timeouts, and call state.

A visitor *knocks* at a booth; staff members who *listen* for the booth (their browser said
``call.listen``) see the queue and accept or decline. Accepting turns the knock into a *call*
between two connections; signalling (offer, answer, ICE candidates) is relayed to exactly the
peer's connection address through the hub, on whatever process it is.

A call may grow into a small group call (a mesh: every participant has a peer connection to
every other one), up to ``MAX_CALL_PARTICIPANTS``: a staff member of the booth in the call takes
another waiting knock of the booth into it (:meth:`CallService.add`), or a staff member of the
booth joins a call of the booth (:meth:`CallService.join`). Participants are kept in the order
they joined (the knocking visitor first, then the staff member who accepted); of every pair, the
one who joined later sends the offer. A participant who hangs up, or whose connection stays
away past the reconnect grace, leaves; the call ends when fewer than two remain.

Shared state (see :mod:`.store`):

- ``knock:<id>``      the knock: booth, visitor, its connection address, deadline
- ``queue:<booth>``   knock ids by arrival
- ``listen:<booth>``  connection address → staff user listening for the booth
- ``call:<id>``       the call: its participants (``parties``, in join order) with their
                      connection addresses; ``staff`` and ``visitor`` repeat the first of each
                      kind (the two parties of a 1:1 call)
- ``lock:call:<id>``  held (SET NX, short TTL) while one process changes the call's record
- ``booth_calls:<booth>`` ids of the booth's open calls (score: start), for listening staff
- ``busy:<user>``     the call a user is in (taken with SET NX: one call per user)
- ``knocks``          index of waiting knock ids (score: deadline), for the sweep
- ``calls``           index of open call ids (score: start), for the sweep
- ``proc:<channel>``  liveness of the process whose hub channel that is (short TTL, refreshed)
- ``lost:<call>:<addr>`` when the sweep first saw that party's process gone, and its deadline

Every change of a call record (a join, a leave, a resume, a connection going away, the sweep)
is a read-modify-write under the call's lock, so concurrent changes from different processes
never lose one another.

What belongs to one connection (its knocks, calls and listened booths) is also remembered in
this process, so that a closing socket can clean up after itself: its knocks leave the queue,
its listening ends, and its calls wait ``RECONNECT_GRACE`` seconds for ``call.resume`` before
the peer is told the call ended.

A process that crashes cleans up nothing, so every process that holds call state also keeps
its ``proc:`` key alive and sweeps the indexes every few seconds: overdue knocks time out
(whichever process sees them first; taking a knock out of its queue is atomic, so this happens
once), knocks of dead processes leave their queues, and a participant whose process is gone
leaves its call with ``peer_gone`` once its reconnect grace (counted from the crash, as well as
the liveness TTL tells) is over (a call of two then ends); the others get ``call.peer_away``
when the crash is noticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from analytics import recorder as analytics
from hallserver.realtime.frames import event
from hallserver.realtime.hub import cancel_and_wait, hub, spawn

from .errors import CallError
from .store import Store, store

log = logging.getLogger(__name__)

CALL_TTL = 12 * 3600
#: How long ``busy:<user>`` may say "pending" (between taking the slot and storing the call).
PENDING_TTL = 60
#: How long a knock record outlives its deadline (the sweep normally removes it at the deadline).
KNOCK_SLACK = 600
#: Seconds a call's lock lives: a process that dies holding it delays the others this long.
LOCK_TTL = 5.0
KNOCK_INDEX = "knocks"
CALL_INDEX = "calls"


@dataclass
class Local:
    """What one connection of this process holds: its waiting knocks (id → record) and the
    booths it listens for (booth → the staff member), kept so that they can be written to the
    store again if the store loses them (:meth:`CallService.rebuild`), and its calls."""

    knocks: dict[str, dict] = field(default_factory=dict)
    calls: set[str] = field(default_factory=set)
    booths: dict[int, dict] = field(default_factory=dict)


def new_id() -> str:
    return secrets.token_hex(8)


def conf() -> dict:
    return settings.LIVE_VIDEO


def process_of(address: str) -> str:
    """The hub channel (process) part of a connection address ``"<channel>|<conn id>"``."""
    return address.rpartition("|")[0]


def parties_of(call: dict) -> list[dict]:
    """The participants of a call, in the order they joined: ``{"user", "name", "addr",
    "staff"}`` (and ``"away"``, the end of its reconnect grace, while its connection is gone).

    A record written before group calls existed names only its ``visitor`` and ``staff``."""
    if "parties" not in call:
        call["parties"] = [{**call["visitor"], "staff": False}, {**call["staff"], "staff": True}]
    return call["parties"]


def public_party(party: dict) -> dict:
    return {"id": party["user"], "name": party["name"], "staff": party["staff"]}


def public_call(call: dict) -> dict:
    return {"call": call["id"], "booth": call["booth"],
            "participants": [public_party(p) for p in parties_of(call)]}


def party_at(call: dict, address: str) -> dict | None:
    """The participant whose connection ``address`` is."""
    return next((p for p in parties_of(call) if p["addr"] == address), None)


def party_of(call: dict, user_id: int) -> dict | None:
    return next((p for p in parties_of(call) if p["user"] == user_id), None)


def role_of(call: dict, party: dict) -> str:
    """``offerer`` for the participant who joined last (it offers to every other one)."""
    return "offerer" if parties_of(call)[-1] is party else "answerer"


def grace_key(call_id: str, user_id: int) -> str:
    return f"grace:{call_id}:{user_id}"


class CallService:
    def __init__(self, kv: Store, process: str | None = None) -> None:
        self.kv = kv
        self.local: dict[str, Local] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        #: Wall-clock seconds for deadlines kept in the store (tests set a clock they move).
        self.clock: Callable[[], float] = time.time
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
        await cancel_and_wait(tasks)
        self._started = None
        self._loop = None

    async def beat(self) -> None:
        """Say that this process is alive for another ``PROCESS_TTL`` seconds."""
        await self.kv.set(f"proc:{self.process}", self.clock(), ttl=conf()["PROCESS_TTL"])

    async def check_in(self) -> None:
        """Beat; and if this process's liveness key was gone before the beat (Redis restarted
        empty, or this process was stalled past ``PROCESS_TTL`` and others swept its state
        away), write its connections' knocks and listening again (:meth:`rebuild`)."""
        lost = await self.kv.get(f"proc:{self.process}") is None
        await self.beat()
        if lost:
            await self.rebuild()

    async def rebuild(self) -> None:
        """Write the waiting knocks and listening of this process's connections to the store
        again (knocks keep their places: their queue score is their arrival), and tell each
        booth's staff and visitors the queue as it is now. Calls are not rebuilt: their
        media runs between the browsers and goes on; a call whose record is gone answers
        ``call.not_found`` to later signalling, as an ended call does."""
        now = self.clock()
        booths: set[int] = set()
        for address, local in list(self.local.items()):
            for booth, user in local.booths.items():
                await self.kv.hset(f"listen:{booth}", address, user)
            for knock_id, knock in list(local.knocks.items()):
                if knock["deadline"] <= now:
                    continue  # its own timer (or any sweep) closes it
                await self.kv.set(f"knock:{knock_id}", knock,
                                  ttl=knock["deadline"] - now + KNOCK_SLACK)
                await self.kv.zadd(KNOCK_INDEX, knock_id, knock["deadline"])
                await self.kv.zadd(f"queue:{knock['booth']}", knock_id, knock["at"])
                booths.add(knock["booth"])
        if booths or any(local.booths for local in self.local.values()):
            log.warning("call state of this process written again: %d waiting knocks",
                        sum(len(local.knocks) for local in self.local.values()))
        for booth in sorted(booths):
            await self.queue_changed(booth)

    async def _beat_loop(self) -> None:
        while True:
            await asyncio.sleep(conf()["PROCESS_BEAT"])
            try:
                await self.check_in()
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
        and take the participants of dead processes out of their calls once their grace is
        over (any process may do it; each happens once)."""
        await self._sweep_knocks()
        await self._sweep_calls()

    async def _sweep_knocks(self) -> None:
        ids = await self.kv.zrange(KNOCK_INDEX)
        if not ids:
            return
        knocks = await self.kv.get_many([f"knock:{i}" for i in ids])
        alive = await self.alive({process_of(k["addr"]) for k in knocks if k is not None})
        now = self.clock()
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
        alive = await self.alive({process_of(p["addr"]) for c in records if c is not None
                                  for p in parties_of(c)})
        now = self.clock()
        for call_id, call in zip(ids, records, strict=True):
            if call is None:
                await self.kv.zrem(CALL_INDEX, call_id)
                continue
            dead = [p for p in parties_of(call) if not alive[process_of(p["addr"])]]
            due = {}
            for party in dead:
                if await self._deadline_of(call, party, alive, now) <= now:
                    due[party["user"]] = party["addr"]
            if due:
                log.info("call %s: %d participant(s) gone with their process", call_id, len(due))
                await self._drop(call_id, due, alive)

    async def _deadline_of(self, call: dict, party: dict, alive: dict[str, bool],
                           now: float) -> float:
        """When ``party``, whose process is gone, leaves the call unless it resumes."""
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
            others = [p for p in parties_of(call)
                      if p is not party and alive.get(process_of(p["addr"]), True)]
            await self._tell(others, event("call.peer_away", self._about(
                call, party, {"call": call["id"], "grace": remaining})))
            return until
        noticed = await self.kv.get(key)
        return until if noticed is None else noticed

    async def _drop(self, call_id: str, gone: dict[int, str], alive: dict[str, bool]) -> None:
        """Participants whose process died (user id → the address they had) leave the call,
        unless they left or resumed meanwhile; the others whose process lives are told."""
        async with self._locked(call_id):
            call = await self.kv.get(f"call:{call_id}")
            for user_id, address in gone.items():
                party = None if call is None else party_of(call, user_id)
                if party is not None and party["addr"] == address:
                    call = await self._remove(call, party, "peer_gone", alive)

    # --- sending --------------------------------------------------------------------------
    async def send(self, address: str, text: str) -> None:
        """Deliver a serialised frame to one connection, on whatever process it is."""
        if address:
            await hub.to_connection(address, text)

    # --- listening staff ----------------------------------------------------------------------
    async def listen(self, address: str, user: dict, booth: int) -> list[dict]:
        await self.start()
        await self.kv.hset(f"listen:{booth}", address, user)
        self._local(address).booths[booth] = user
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
        now = self.clock()
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
                            "timeout": max(0.0, existing["deadline"] - self.clock())}
        if not await self.listeners(booth):
            raise CallError("call.no_staff",
                            "Nobody from this booth is online right now; leave a contact request.")
        timeout = conf()["KNOCK_TIMEOUT"]
        now = self.clock()
        knock = {"id": new_id(), "booth": booth, "user": user["id"], "name": user["name"],
                 "addr": address, "at": now, "deadline": now + timeout}
        await self.kv.set(f"knock:{knock['id']}", knock, ttl=timeout + KNOCK_SLACK)
        await self.kv.zadd(KNOCK_INDEX, knock["id"], knock["deadline"])
        await self.kv.zadd(f"queue:{booth}", knock["id"], now)
        local.knocks[knock["id"]] = knock
        analytics.record("knock", booth=booth, user=user["id"], at=now)
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
            local.knocks.pop(knock_id, None)
        return knock

    async def knock_of(self, knock_id: str) -> dict:
        knock = await self.kv.get(f"knock:{knock_id}")
        if knock is None or knock["deadline"] < self.clock():
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
    @contextlib.asynccontextmanager
    async def _locked(self, call_id: str) -> AsyncIterator[None]:
        """Hold the call's record while reading and rewriting it (on any process)."""
        key, token = f"lock:call:{call_id}", new_id()
        deadline = time.monotonic() + 2 * LOCK_TTL
        while not await self.kv.set(key, token, ttl=LOCK_TTL, nx=True):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the record of call {call_id} stays locked")
            await asyncio.sleep(0.01)
        try:
            yield
        finally:
            await self.kv.delete_if(key, token)

    async def _save(self, call: dict) -> None:
        parties = parties_of(call)
        # The 1:1 view of the record, as it was before group calls.
        call["staff"] = next((p for p in parties if p["staff"]), None)
        call["visitor"] = next((p for p in parties if not p["staff"]), None)
        await self.kv.set(f"call:{call['id']}", call, ttl=CALL_TTL)

    async def _tell(self, parties: list[dict], text: str) -> None:
        await asyncio.gather(*(self.send(p["addr"], text) for p in parties))

    @staticmethod
    def _about(call: dict, party: dict, data: dict) -> dict:
        """An event about one participant names it when the call has more than two (in a call
        of two it is the peer, and the event is as it was before group calls)."""
        if len(parties_of(call)) > 2:
            data["participant"] = public_party(party)
        return data

    async def accept(self, address: str, staff: dict, knock_id: str) -> dict:
        await self.start()
        if not await self.kv.set(f"busy:{staff['id']}", "pending", ttl=PENDING_TTL, nx=True):
            raise CallError("call.busy", "Hang up your current call first (or take the knock "
                                         "into it: call.accept with \"call\").")
        try:
            knock = await self._take_knock(knock_id)
        except BaseException:
            await self.kv.delete_if(f"busy:{staff['id']}", "pending")
            raise
        if knock is None:
            await self.kv.delete_if(f"busy:{staff['id']}", "pending")
            raise CallError("call.not_found", f"The knock {knock_id} is no longer waiting.")
        me = {"user": staff["id"], "name": staff["name"], "addr": address, "staff": True}
        call = {
            "id": knock_id, "booth": knock["booth"], "at": self.clock(),
            "parties": [{"user": knock["user"], "name": knock["name"], "addr": knock["addr"],
                         "staff": False}, me],
        }
        await self._save(call)
        await self.kv.zadd(CALL_INDEX, knock_id, call["at"])
        await self.kv.zadd(f"booth_calls:{call['booth']}", knock_id, call["at"])
        await self.kv.set(f"busy:{staff['id']}", knock_id, ttl=CALL_TTL)
        await self.kv.set(f"busy:{knock['user']}", knock_id, ttl=CALL_TTL)
        self._local(address).calls.add(knock_id)
        await self.send(knock["addr"], event("call.accepted", {
            "call": knock_id, "booth": knock["booth"],
            "peer": {"id": staff["id"], "name": staff["name"]}, "role": "answerer",
        }))
        await self.queue_changed(knock["booth"])
        await self.calls_changed(call)
        return call

    async def pair(self, call_id: str, booth: int, waiting: dict, joining: dict) -> dict:
        """A private call of exactly two (an interview): ``waiting`` (who came first, told with
        ``call.accepted`` as the answerer) and ``joining`` (who offers). Each is a participant
        ``{"user", "name", "addr", "staff"}``. Nobody else may join or be added to it."""
        await self.start()
        if not await self.kv.set(f"busy:{joining['user']}", "pending", ttl=PENDING_TTL, nx=True):
            raise CallError("call.busy", "Hang up your current call first.")
        if not await self.kv.set(f"busy:{waiting['user']}", "pending", ttl=PENDING_TTL,
                                 nx=True):
            await self.kv.delete_if(f"busy:{joining['user']}", "pending")
            raise CallError("call.busy", "The other side is in another call.")
        call = {"id": call_id, "booth": booth, "at": time.time(), "private": True,
                "parties": [dict(waiting), dict(joining)]}
        await self._save(call)
        await self.kv.zadd(CALL_INDEX, call_id, call["at"])
        await self.kv.set(f"busy:{joining['user']}", call_id, ttl=CALL_TTL)
        await self.kv.set(f"busy:{waiting['user']}", call_id, ttl=CALL_TTL)
        self._local(joining["addr"]).calls.add(call_id)
        await self.send(waiting["addr"], event("call.accepted", {
            "call": call_id, "booth": booth,
            "peer": {"id": joining["user"], "name": joining["name"]}, "role": "answerer",
        }))
        return call

    def _check_room(self, call: dict, user_id: int, who: str) -> None:
        """Refuse a participant who is in the call already, or one more than it may have."""
        if party_of(call, user_id) is not None:
            raise CallError("call.already_joined", f"{who} already in call {call['id']}.")
        limit = conf()["MAX_CALL_PARTICIPANTS"]
        if len(parties_of(call)) >= limit:
            raise CallError("call.full", f"Call {call['id']} has {limit} participants, "
                                         "as many as a call may have.")

    async def add(self, address: str, call_id: str, knock_id: str) -> tuple[dict, dict]:
        """Take a waiting knock into the call of the connection ``address`` (a participant, and
        staff of the booth: the caller checks that). Returns the call and the newcomer, who is
        told with ``call.accepted``; everyone else in the call gets
        ``call.participant_joined``."""
        await self.start()
        knock = await self.knock_of(knock_id)
        async with self._locked(call_id):
            call = await self.kv.get(f"call:{call_id}")
            adder = None if call is None else party_at(call, address)
            if adder is None:
                raise CallError("call.not_found", f"This connection is not in call {call_id}.")
            if knock["booth"] != call["booth"]:
                raise CallError("call.wrong_booth", f"The knock {knock_id} is for booth "
                                f"{knock['booth']}, the call is booth {call['booth']}'s.")
            if call.get("private"):
                raise CallError("call.forbidden", f"Call {call_id} is a private interview.")
            self._check_room(call, knock["user"], f"{knock['name']} is")
            busy = f"busy:{knock['user']}"
            if not await self.kv.set(busy, call_id, ttl=CALL_TTL, nx=True):
                raise CallError("call.busy", f"{knock['name']} is in another call.")
            try:
                taken = await self._take_knock(knock_id)
            except BaseException:
                await self.kv.delete_if(busy, call_id)
                raise
            if taken is None:
                await self.kv.delete_if(busy, call_id)
                raise CallError("call.not_found", f"The knock {knock_id} is no longer waiting.")
            others = list(parties_of(call))
            newcomer = {"user": knock["user"], "name": knock["name"], "addr": knock["addr"],
                        "staff": False}
            parties_of(call).append(newcomer)
            await self._save(call)
            # Told while the record is held: whatever changes next reaches everyone later.
            await self._tell(others, event("call.participant_joined", {
                "call": call_id, "participant": public_party(newcomer)}))
            await self.send(newcomer["addr"], event("call.accepted", {
                "call": call_id, "booth": call["booth"], "knock": knock_id,
                "peer": {"id": adder["user"], "name": adder["name"]}, "role": "offerer",
                "participants": [public_party(p) for p in parties_of(call)],
            }))
        await self.queue_changed(call["booth"])
        await self.calls_changed(call)
        return call, newcomer

    async def booth_of(self, call_id: str) -> int:
        """The booth of an open call."""
        call = await self.kv.get(f"call:{call_id}")
        if call is None:
            raise CallError("call.not_found", f"No call {call_id}.")
        return call["booth"]

    async def join(self, address: str, user: dict, call_id: str) -> dict:
        """A staff member of the call's booth (the caller checks that) joins the call from the
        connection ``address``; everyone in it gets ``call.participant_joined``."""
        await self.start()
        async with self._locked(call_id):
            call = await self.kv.get(f"call:{call_id}")
            if call is None:
                raise CallError("call.not_found", f"No call {call_id}.")
            if call.get("private"):
                raise CallError("call.forbidden", f"Call {call_id} is a private interview.")
            self._check_room(call, user["id"], "You are")
            if not await self.kv.set(f"busy:{user['id']}", call_id, ttl=CALL_TTL, nx=True):
                raise CallError("call.busy", "Hang up your current call first.")
            others = list(parties_of(call))
            me = {"user": user["id"], "name": user["name"], "addr": address, "staff": True}
            parties_of(call).append(me)
            await self._save(call)
            self._local(address).calls.add(call_id)
            await self._tell(others, event("call.participant_joined", {
                "call": call_id, "participant": public_party(me)}))
        await self.calls_changed(call)
        return call

    async def call_of(self, call_id: str, address: str) -> tuple[dict, dict]:
        """The call and this connection's participant in it."""
        call = await self.kv.get(f"call:{call_id}")
        party = None if call is None else party_at(call, address)
        if party is None:
            raise CallError("call.not_found", f"This connection is not in call {call_id}.")
        return call, party

    async def signal(self, address: str, call_id: str, payload: dict,
                     to: int | None = None) -> None:
        """Relay a signal to the participant ``to`` (in a call of two: the peer, by default);
        a signal that names ``to`` is relayed with ``from``."""
        call, me = await self.call_of(call_id, address)
        others = [p for p in parties_of(call) if p is not me]
        if to is None:
            if len(others) != 1:
                raise CallError("call.participant_not_found",
                                f"Call {call_id} has {len(others) + 1} participants: "
                                "say to whom (\"to\").")
            target = others[0]
            data = {"call": call_id, **payload}
        else:
            target = next((p for p in others if p["user"] == to), None)
            if target is None:
                raise CallError("call.participant_not_found",
                                f"User {to} is not another participant of call {call_id}.")
            data = {"call": call_id, "from": me["user"], **payload}
        await self.send(target["addr"], event("call.signal", data))

    async def hangup(self, address: str, call_id: str) -> None:
        """This connection's participant leaves the call (which ends if one would remain)."""
        async with self._locked(call_id):
            call, me = await self.call_of(call_id, address)
            await self._remove(call, me, "hangup")

    async def _remove(self, call: dict, party: dict, reason: str,
                      alive: dict[str, bool] | None = None) -> dict | None:
        """``party`` leaves ``call`` (its lock is held); the others are told, those of dead
        processes (``alive``) excepted. With fewer than two left the call ends. Returns the
        call, or None when it ended."""
        remaining = [p for p in parties_of(call) if p is not party]
        reachable = [p for p in remaining
                     if alive is None or alive.get(process_of(p["addr"]), True)]
        if len(remaining) < 2:
            await self.end(call, reason, notify=reachable, leaver=party)
            return None
        call["parties"] = remaining
        await self._save(call)
        self._release(call["id"], party)
        await self.kv.delete_if(f"busy:{party['user']}", call["id"])
        await self._tell(reachable, event("call.participant_left", {
            "call": call["id"], "participant": public_party(party), "reason": reason}))
        await self.calls_changed(call, also=party)
        return call

    def _release(self, call_id: str, party: dict) -> None:
        """Forget, in this process, that ``party`` is in the call."""
        self._cancel_timer(grace_key(call_id, party["user"]))
        local = self.local.get(party["addr"])
        if local is not None:
            local.calls.discard(call_id)

    async def end(self, call: dict, reason: str, notify: list[dict],
                  leaver: dict | None = None) -> None:
        """End the call (once, whoever gets here first); ``notify``: participants to tell;
        ``leaver``: the participant whose leaving ended it."""
        call_id = call["id"]
        if not await self.kv.delete(f"call:{call_id}"):
            return  # ended elsewhere already
        if not call.get("private"):
            visitor = next((p for p in parties_of(call) if not p.get("staff")), None)
            analytics.record("call", booth=call["booth"], at=call["at"],
                             user=visitor["user"] if visitor else None,
                             seconds=max(0.0, time.time() - call["at"]))
        await self.kv.zrem(CALL_INDEX, call_id)
        await self.kv.zrem(f"booth_calls:{call['booth']}", call_id)
        for party in parties_of(call):
            self._release(call_id, party)
            await self.kv.delete_if(f"busy:{party['user']}", call_id)
        await self._tell(notify, event("call.ended", {"call": call_id, "reason": reason}))
        await self.calls_changed(call, also=leaver)

    async def resume(self, address: str, user_id: int, call_id: str) -> tuple[dict, dict]:
        """A participant's new connection takes the call over (after a reconnect)."""
        await self.start()
        async with self._locked(call_id):
            call = await self.kv.get(f"call:{call_id}")
            party = None if call is None else party_of(call, user_id)
            if party is None:
                raise CallError("call.not_found", f"You are not in call {call_id}.")
            old = party["addr"]
            party["addr"] = address
            party.pop("away", None)
            await self._save(call)
            self._cancel_timer(grace_key(call_id, user_id))
            if old in self.local:
                self.local[old].calls.discard(call_id)
            self._local(address).calls.add(call_id)
            others = [p for p in parties_of(call) if p is not party]
            await self._tell(others, event("call.peer_back",
                                           self._about(call, party, {"call": call_id})))
        return call, party

    # --- who is in the booth's calls, for its listening staff ------------------------------------
    async def booth_calls(self, booth: int) -> list[dict]:
        """The open calls of a booth with their participants, oldest first."""
        ids = await self.kv.zrange(f"booth_calls:{booth}")
        records = await self.kv.get_many([f"call:{i}" for i in ids])
        found = []
        for call_id, call in zip(ids, records, strict=True):
            if call is None:
                await self.kv.zrem(f"booth_calls:{booth}", call_id)
                continue
            found.append(public_call(call))
        return found

    async def calls_changed(self, call: dict, also: dict | None = None) -> None:
        """Send the booth's calls to its listening staff, except the connections in ``call``
        (participants follow their call through its own events: joins, leaves, its end): a
        call started or ended, or someone joined or left it (``also``: the one who left, who
        is told too)."""
        booth = call["booth"]
        listeners = await self.listeners(booth)
        inside = {p["addr"] for p in parties_of(call)}
        if also is not None:
            inside.discard(also["addr"])
        targets = [a for a in listeners if a not in inside]
        if not targets:
            return
        text = event("call.calls", {"booth": booth, "calls": await self.booth_calls(booth)})
        await asyncio.gather(*(self.send(a, text) for a in targets))

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
        for call_id in sorted(call_ids):
            async with self._locked(call_id):
                call = await self.kv.get(f"call:{call_id}")
                party = None if call is None else party_at(call, address)
                if party is None:
                    continue
                party["away"] = self.clock() + grace
                await self._save(call)
                others = [p for p in parties_of(call) if p is not party]
                await self._tell(others, event("call.peer_away", self._about(
                    call, party, {"call": call_id, "grace": grace})))
            self._timer(grace_key(call_id, party["user"]), grace,
                        lambda c=call_id, u=party["user"], a=address: self._grace_over(c, u, a))

    async def _grace_over(self, call_id: str, user_id: int, address: str) -> None:
        async with self._locked(call_id):
            call = await self.kv.get(f"call:{call_id}")
            party = None if call is None else party_of(call, user_id)
            if party is not None and party["addr"] == address:  # not resumed meanwhile
                await self._remove(call, party, "peer_gone")

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


def calls_here() -> int:
    """Open calls with at least one participant connected to this process (a metric)."""
    return len({c for service in _services.values() for local in service.local.values()
                for c in local.calls})
