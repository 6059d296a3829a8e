"""Presence: who is in which room, exact counts, and coalesced broadcasts.

Storage is exact and shared by all processes (a Redis hash per room: member → number of
connections), or a dict when Hallserver runs as a single process without Redis. Broadcasts
are coalesced: changes to a room are collected for ``PRESENCE_INTERVAL`` and sent as one
``presence.update``; booth rooms also mark their hall, whose lobby gets one ``hall.counts``
per ``COUNTS_INTERVAL``.

A process that dies without cleaning up is noticed by the others: every process refreshes a
heartbeat key, and a janitor on each process removes the presence contributed by processes
whose heartbeat expired.

Redis may also lose what a living process wrote (it restarts empty, or the process was cut
off from it for longer than the heartbeat lives and was reaped as dead), or a write may fail
or be retried twice on a broken connection. Each process therefore keeps its own
contributions in memory and writes them all again when needed: every
``PRESENCE_RECOVERY_CHECK`` seconds it checks a marker key of its own (gone after a restart
or a reap), and after any failed Redis call it rebuilds at its next check. A rebuild replaces
the process's contributions in one script, then re-broadcasts the counts of its rooms.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import orjson
import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.exceptions import NoScriptError, RedisError

from hallserver import metrics, redisconf
from hallserver.errors import DomainError
from hallserver.realtime.frames import event
from hallserver.realtime.hub import Hub, spawn

from ..models import Room
from .rooms import RoomDirectory, RoomInfo

log = logging.getLogger(__name__)

# A process beats every HEARTBEAT_SECONDS; one whose last beat is more than HEARTBEAT_TTL old
# is dead, and a janitor (every JANITOR_SECONDS, on each process) removes its visitors: a
# crashed process's visitors leave presence within HEARTBEAT_TTL + JANITOR_SECONDS (12 s).
HEARTBEAT_SECONDS = 3
HEARTBEAT_TTL = 10
JANITOR_SECONDS = 2
_UNIX_TIME = 1e9  # 2001: beats below this are not times
LIST_LIMIT = 500
# Seconds a synchronous presence look-up (from an HTTP view's thread) may wait for Redis.
SYNC_TIMEOUT = 2.0


class PresenceUnavailable(DomainError):
    """Presence (Redis) did not answer a look-up (``server.unavailable``): nothing that
    depends on it is let through."""

    def __init__(self, detail: str) -> None:
        super().__init__("server.unavailable",
                         "The server cannot tell who is where right now; try again shortly.")
        self.detail = detail
HALL_COUNTS_LIMIT = 100  # booth counts in a lobby's join reply: the busiest rooms


class PresenceStore(Protocol):
    """``hall`` (of add and remove): the hall whose counts the room is in, for a booth room
    of a hall (None for other rooms). The store keeps each hall's total and its occupied booth
    rooms up to date with every change, so that :meth:`hall_counts` and :meth:`busiest` cost
    the same in a hall of 5 booths and one of 5,000."""

    async def add(self, room: int, member: str, info: dict | None,
                  hall: int | None = None) -> tuple[bool, int]:
        """Count one more connection of ``member``: (member newly present, room count)."""

    async def add_and_list(self, room: int, member: str, info: dict | None, limit: int,
                           hall: int | None = None) -> tuple[bool, int, list[dict] | None]:
        """:meth:`add`, plus the present users' infos when the room has at most ``limit``
        members (else None), in one step."""

    async def remove(self, room: int, member: str,
                     hall: int | None = None) -> tuple[bool, int]:
        """Count one connection less: (member gone, room count)."""

    async def count(self, room: int) -> int: ...

    async def counts(self, rooms: list[int]) -> dict[int, int]: ...

    async def hall_counts(self, hall: int, rooms: list[int]) -> tuple[dict[int, int], int]:
        """The counts of ``rooms`` and the hall's total (people in its booth rooms), in one
        step."""

    async def busiest(self, hall: int, limit: int) -> tuple[dict[int, int], int]:
        """The hall's busiest booth rooms (at most ``limit``, only occupied ones, busiest
        first, ties by room id) and its total."""

    async def claim(self, room: int, seconds: float) -> bool:
        """True for exactly one process per ``seconds`` window and room (who sends the next
        count-only presence update of a large room)."""
        ...

    async def members(self, room: int, limit: int) -> tuple[list[dict], int]:
        """Up to ``limit`` infos of the users present, and how many users are present.

        Anonymous members count in :meth:`count` but are not listed."""

    def holds_user(self, user_id: int, rooms: list[int]) -> bool:
        """Whether the signed-in user is in any of ``rooms`` now, on any process.
        Synchronous, for HTTP views (which Django runs in a thread)."""


class MemoryPresence:
    """Single-process presence."""

    def __init__(self) -> None:
        self.rooms: dict[int, dict[str, int]] = {}
        self.info: dict[str, dict] = {}
        self.hall_of: dict[int, int] = {}  # booth room -> its hall (as last told)
        self.occupied: dict[int, dict[int, int]] = {}  # hall -> {booth room: count > 0}
        self.totals: dict[int, int] = {}  # hall -> people in its booth rooms

    def _sync(self, room: int, hall: int) -> None:
        """Set the room's entry in its hall's counts from the room itself (moving it from
        the hall it was in, if that changed)."""
        was = self.hall_of.get(room)
        if was is not None and was != hall:
            old = self.occupied.get(was, {}).pop(room, 0)
            self.totals[was] = self.totals.get(was, 0) - old
        self.hall_of[room] = hall
        n = len(self.rooms.get(room, ()))
        rooms = self.occupied.setdefault(hall, {})
        old = rooms.get(room, 0)
        if n:
            rooms[room] = n
        else:
            rooms.pop(room, None)
        self.totals[hall] = self.totals.get(hall, 0) + n - old

    async def add(self, room: int, member: str, info: dict | None,
                  hall: int | None = None) -> tuple[bool, int]:
        members = self.rooms.setdefault(room, {})
        members[member] = members.get(member, 0) + 1
        if info is not None:
            self.info[member] = info
        if members[member] == 1 and hall is not None:
            self._sync(room, hall)
        return members[member] == 1, len(members)

    async def add_and_list(self, room: int, member: str, info: dict | None, limit: int,
                           hall: int | None = None) -> tuple[bool, int, list[dict] | None]:
        new, count = await self.add(room, member, info, hall)
        if count > limit:
            return new, count, None
        members = self.rooms.get(room, {})
        return new, count, [self.info[m] for m in members if m in self.info]

    async def remove(self, room: int, member: str,
                     hall: int | None = None) -> tuple[bool, int]:
        members = self.rooms.get(room, {})
        n = members.get(member, 0) - 1
        if n <= 0:
            members.pop(member, None)
        else:
            members[member] = n
        if not members:
            self.rooms.pop(room, None)
        if n <= 0 and hall is not None:
            self._sync(room, hall)
        return n <= 0, len(members)

    async def count(self, room: int) -> int:
        return len(self.rooms.get(room, ()))

    async def counts(self, rooms: list[int]) -> dict[int, int]:
        return {r: len(self.rooms.get(r, ())) for r in rooms}

    async def hall_counts(self, hall: int, rooms: list[int]) -> tuple[dict[int, int], int]:
        return await self.counts(rooms), self.totals.get(hall, 0)

    async def busiest(self, hall: int, limit: int) -> tuple[dict[int, int], int]:
        occupied = self.occupied.get(hall, {})
        top = heapq.nsmallest(limit, occupied.items(), key=lambda item: (-item[1], item[0]))
        return dict(top), self.totals.get(hall, 0)

    async def claim(self, room: int, seconds: float) -> bool:
        return True  # one process: it always sends

    async def members(self, room: int, limit: int) -> tuple[list[dict], int]:
        members = self.rooms.get(room, {})
        users = [self.info[m] for m in members if m in self.info]
        return users[:limit], len(users)

    def holds_user(self, user_id: int, rooms: list[int]) -> bool:
        # Single dict look-ups, safe from an HTTP view's thread while the loop changes them.
        member = f"u{user_id}"
        return any(member in self.rooms.get(room, ()) for room in rooms)


# Hall counts follow the booth rooms' hashes in the same scripts: ``phall`` maps a booth room
# to its hall, ``hrooms:<hall>`` is a sorted set of the hall's occupied booth rooms (member: the
# room id padded to 12 digits, score: minus its count, so that the busiest come first and ties
# go by room id) and ``htotal`` holds each hall's total. ``sync`` sets a room's entry from the
# room's hash itself (not from a delta), so that a room heals the next time it is written even
# if its entry was wrong (written by an older version, say); a room whose hall changed takes
# its count from the old hall's entry to the new one. ``hall`` is '' when the caller does not
# know it (a reap): the map says. ``n`` is the room's count, or nil to read it.
_SYNC = """
local moved = {}  -- halls a room left
local function sync(p, room, hall, n)
  local mapped = redis.call('HGET', p .. 'phall', room)
  if hall == '' then
    if not mapped then return nil end
    hall = mapped
  end
  local member = string.format('%012d', tonumber(room))
  if mapped ~= hall then
    if mapped then
      moved[mapped] = true
      local was = redis.call('ZSCORE', p .. 'hrooms:' .. mapped, member)
      if was then
        redis.call('ZREM', p .. 'hrooms:' .. mapped, member)
        redis.call('HINCRBY', p .. 'htotal', mapped, tonumber(was))
      end
    end
    redis.call('HSET', p .. 'phall', room, hall)
  end
  if n == nil then n = redis.call('HLEN', p .. 'pres:' .. room) end
  local key = p .. 'hrooms:' .. hall
  local old = -tonumber(redis.call('ZSCORE', key, member) or 0)
  if n ~= old then
    if n > 0 then redis.call('ZADD', key, -n, member) else redis.call('ZREM', key, member) end
    redis.call('HINCRBY', p .. 'htotal', hall, n - old)
  end
  return hall
end
-- After a recovery: every occupied room of the hall is set from its hash and the total is
-- summed again (a cost that grows with the hall's occupied rooms: for reaps and rebuilds only).
local function resum(p, hall)
  local key = p .. 'hrooms:' .. hall
  local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local total = 0
  for i = 1, #entries, 2 do
    local n = redis.call('HLEN', p .. 'pres:' .. tonumber(entries[i]))
    if n == 0 then
      redis.call('ZREM', key, entries[i])
    elseif n ~= -tonumber(entries[i + 1]) then
      redis.call('ZADD', key, -n, entries[i])
    end
    total = total + n
  end
  redis.call('HSET', p .. 'htotal', hall, total)
end
"""
# ARGV: member, room, info, hall ('' for a room that is no booth room of a hall), prefix.
_ADD = _SYNC + """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HINCRBY', KEYS[2], ARGV[2] .. '|' .. ARGV[1], 1)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) end
local total = redis.call('HLEN', KEYS[1])
if n == 1 and ARGV[4] ~= '' then sync(ARGV[5], ARGV[2], ARGV[4], total) end
return {n, total}
"""
# ARGV: as _ADD's, then the listing limit.
_ADD_AND_LIST = _SYNC + """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HINCRBY', KEYS[2], ARGV[2] .. '|' .. ARGV[1], 1)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[3]) end
local total = redis.call('HLEN', KEYS[1])
if n == 1 and ARGV[4] ~= '' then sync(ARGV[5], ARGV[2], ARGV[4], total) end
if total > tonumber(ARGV[6]) then return {n, total, false} end
local users = {}
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(k, 1, 1) == 'u' then users[#users + 1] = k end
end
if #users == 0 then return {n, total, {}} end
return {n, total, redis.call('HMGET', KEYS[3], unpack(users))}
"""
# ARGV: member, room, hall, prefix.
_REMOVE = _SYNC + """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
local f = ARGV[2] .. '|' .. ARGV[1]
if redis.call('HINCRBY', KEYS[2], f, -1) <= 0 then redis.call('HDEL', KEYS[2], f) end
local total = redis.call('HLEN', KEYS[1])
if n <= 0 and ARGV[3] ~= '' then sync(ARGV[4], ARGV[2], ARGV[3], total) end
return {n, total}
"""
_REAP = _SYNC + """
local entries = redis.call('HGETALL', KEYS[1])
local rooms = {}
local seen = {}
for i = 1, #entries, 2 do
  local f = entries[i]
  local sep = string.find(f, '|', 1, true)
  local room = string.sub(f, 1, sep - 1)
  local key = ARGV[1] .. 'pres:' .. room
  local member = string.sub(f, sep + 1)
  if redis.call('HINCRBY', key, member, -tonumber(entries[i + 1])) <= 0 then
    redis.call('HDEL', key, member)
  end
  if not seen[room] then
    seen[room] = true
    rooms[#rooms + 1] = room
  end
end
local halls = {}
for _, room in ipairs(rooms) do
  local hall = sync(ARGV[1], room, '', nil)
  if hall then halls[hall] = true end
end
for hall in pairs(moved) do halls[hall] = true end
for hall in pairs(halls) do resum(ARGV[1], hall) end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('DEL', ARGV[1] .. 'pmark:' .. ARGV[2])
return rooms
"""
# A process writes its presence again: what Redis holds of it is taken away, what it has now
# is added (ARGV[5..]: room, member, connections, info, hall; in groups of five), its heartbeat
# (ARGV[4], the beat time, for ARGV[3] seconds) and marker are set, and the hall counts of every
# room concerned are set from the rooms' hashes. KEYS: its contributions hash, the process set,
# the infos, heartbeat, marker.
_REBUILD = _SYNC + """
local p = ARGV[1]
local halls = {}
local order = {}
local old = redis.call('HGETALL', KEYS[1])
for i = 1, #old, 2 do
  local f = old[i]
  local sep = string.find(f, '|', 1, true)
  local room = string.sub(f, 1, sep - 1)
  local key = p .. 'pres:' .. room
  local member = string.sub(f, sep + 1)
  if redis.call('HINCRBY', key, member, -tonumber(old[i + 1])) <= 0 then
    redis.call('HDEL', key, member)
  end
  if not halls[room] then
    halls[room] = ''
    order[#order + 1] = room
  end
end
redis.call('DEL', KEYS[1])
for i = 5, #ARGV, 5 do
  local room, member, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  redis.call('HINCRBY', p .. 'pres:' .. room, member, n)
  redis.call('HINCRBY', KEYS[1], room .. '|' .. member, n)
  if ARGV[i + 3] ~= '' then redis.call('HSET', KEYS[3], member, ARGV[i + 3]) end
  if not halls[room] then order[#order + 1] = room end
  if not halls[room] or halls[room] == '' then halls[room] = ARGV[i + 4] end
end
local touched = {}
for _, room in ipairs(order) do
  local hall = sync(p, room, halls[room], nil)
  if hall then touched[hall] = true end
end
for hall in pairs(moved) do touched[hall] = true end
for hall in pairs(touched) do resum(p, hall) end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SET', KEYS[4], ARGV[4], 'EX', ARGV[3])
redis.call('SET', KEYS[5], 1)
return 1
"""


class RedisPresence:
    """Presence shared by every process through Redis."""

    def __init__(self, url: str, prefix: str, process_id: str, pool_size: int) -> None:
        self.url = url
        self.prefix = prefix
        self.process_id = process_id
        self.pool_size = pool_size
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}
        self._tasks: list[asyncio.Task] = []
        # Script calls made in one turn of an event loop, sent together (see _call).
        self._batches: dict[asyncio.AbstractEventLoop, list] = {}
        self._scripts: dict[aioredis.Redis, tuple] = {}  # to load with a client's first batch
        self.on_reaped = None  # callback(rooms: list[int]) after a dead process was cleaned
        self._sync_client: redis.Redis | None = None  # for look-ups from HTTP views' threads
        self._sync_lock = threading.Lock()
        # Seconds now, for heartbeats and their age: Redis's clock unless set (tests).
        self.clock: Callable[[], float] | None = None
        # What this process contributes: (room, member) -> [connections, info JSON or b""],
        # and the hall each booth room was last said to be in (a rebuild writes the counts
        # there). Redis is rebuilt from it when it lost (or may have doubled) part of it.
        self.local: dict[tuple[int, str], list] = {}
        self.halls: dict[int, int] = {}
        self.stale = False  # rebuild at the next check (set by any failed Redis call)
        self.on_rebuilt = None  # callback(rooms: list[int]) after a rebuild
        self.recovery_check = settings.HALLSERVER["PRESENCE_RECOVERY_CHECK"]
        self._inflight: set[asyncio.Task] = set()  # batches sent and not yet answered
        self.rebuilds = 0

    @property
    def redis(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # Blocking pool: a burst of handshakes waits for a connection instead of failing.
            # Failed attempts are retried; any failure also schedules a rebuild, which
            # repairs a script that a retry ran twice.
            pool = redisconf.pool(self.url, self.pool_size, on_failure=self._failure_hook())
            client = self._clients[loop] = aioredis.Redis(connection_pool=pool)
            self._add = client.register_script(_ADD)
            self._add_and_list = client.register_script(_ADD_AND_LIST)
            self._remove = client.register_script(_REMOVE)
            self._reap = client.register_script(_REAP)
            self._rebuild = client.register_script(_REBUILD)
            self._scripts[client] = (self._add, self._add_and_list, self._remove)
            self._start_background(loop)
        return client

    def _key(self, room: int) -> str:
        return f"{self.prefix}pres:{room}"

    def _call(self, script, keys: list, args: list) -> asyncio.Future:
        """Run a Lua script, batched with the others called in the same turn of the loop.

        Joins and leaves come in bursts (a handshake storm, a roadshow starting): one pipeline
        per loop turn costs one pool checkout and one round trip for all of them, where a call
        each paid both. Nothing waits to fill a batch; it goes out as soon as the loop turns.
        """
        return self._queue((script, keys, args))

    def _command(self, *command) -> asyncio.Future:
        """A plain command (a flush's count, its claim), batched like :meth:`_call`."""
        return self._queue((None, command, ()))

    def _queue(self, op: tuple) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        batch = self._batches.get(loop)
        if batch is None:
            batch = self._batches[loop] = []
            loop.call_soon(self._send_batch, loop)
        batch.append((*op, future))
        return future

    def _send_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._batches.pop(loop, None)
        if batch:
            task = spawn(self._run_batch(batch))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _pipeline(self, client: aioredis.Redis, batch: list) -> list:
        """Send ``batch`` in one pipeline. Scripts go as EVALSHA alone: redis-py's script
        objects would first ask the server whether the scripts exist (``SCRIPT EXISTS``, one
        more round trip and pool checkout per batch); a server that lost them (restarted,
        flushed) answers NOSCRIPT, and those entries, which did not run, go again after
        ``SCRIPT LOAD``."""
        scripts = self._scripts.pop(client, ())  # loaded ahead of the first batch
        async with client.pipeline(transaction=False) as pipe:
            for script in scripts:
                pipe.script_load(script.script)
            for script, keys, args, _ in batch:
                if script is None:
                    pipe.execute_command(*keys)
                else:
                    pipe.evalsha(script.sha, len(keys), *keys, *args)
            results = (await pipe.execute(raise_on_error=False))[len(scripts):]
        missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
        if missing:
            for script in {batch[i][0] for i in missing}:
                script.sha = await client.script_load(script.script)
            again = await self._pipeline(client, [batch[i] for i in missing])
            for i, result in zip(missing, again, strict=True):
                results[i] = result
        return results

    def _note_failure(self, error: Exception | None = None) -> None:
        """A Redis call failed (or was retried): what Redis holds of this process may be
        wrong, so write it again at the next check."""
        self.stale = True

    def _failure_hook(self):
        """:meth:`_note_failure` as a plain function (see redisconf.NotingRetry)."""
        def failed(error: Exception) -> None:
            self.stale = True
        return failed

    def _track(self, room: int, member: str, delta: int, info: bytes = b"") -> None:
        key = (room, member)
        entry = self.local.get(key)
        if entry is None:
            if delta <= 0:
                return
            entry = self.local[key] = [0, info]
        elif info:
            entry[1] = info
        entry[0] += delta
        if entry[0] <= 0:
            del self.local[key]

    async def _run_batch(self, batch: list) -> None:
        try:
            results = await self._pipeline(self.redis, batch)
        except BaseException as exc:
            self._note_failure()
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception)
                                         else ConnectionError("presence batch cancelled"))
            if not isinstance(exc, Exception):
                raise
            return
        for (*_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    def _hall_arg(self, room: int, hall: int | None) -> int | str:
        """The script argument for a room's hall ('' for none), remembered for rebuilds."""
        if hall is None:
            return ""
        self.halls[room] = hall
        return hall

    @property
    def _proc_key(self) -> str:
        return f"{self.prefix}proc:{self.process_id}"

    async def add(self, room: int, member: str, info: dict | None,
                  hall: int | None = None) -> tuple[bool, int]:
        self.redis  # noqa: B018  (registers the scripts on this loop's client)
        raw = orjson.dumps(info) if info else b""
        hall_arg = self._hall_arg(room, hall)
        self._track(room, member, 1, raw)
        try:
            n, total = await self._call(
                self._add, [self._key(room), self._proc_key, f"{self.prefix}pinfo"],
                [member, room, raw, hall_arg, self.prefix])
        except BaseException:
            self._track(room, member, -1)  # the caller treats the entry as failed
            raise
        return n == 1, total

    async def add_and_list(self, room: int, member: str, info: dict | None, limit: int,
                           hall: int | None = None) -> tuple[bool, int, list[dict] | None]:
        self.redis  # noqa: B018  (registers the scripts on this loop's client)
        raw = orjson.dumps(info) if info else b""
        hall_arg = self._hall_arg(room, hall)
        self._track(room, member, 1, raw)
        try:
            n, total, infos = await self._call(
                self._add_and_list, [self._key(room), self._proc_key, f"{self.prefix}pinfo"],
                [member, room, raw, hall_arg, self.prefix, limit])
        except BaseException:
            self._track(room, member, -1)
            raise
        if not isinstance(infos, list):
            return n == 1, total, None
        return n == 1, total, [orjson.loads(i) for i in infos if i]

    async def remove(self, room: int, member: str,
                     hall: int | None = None) -> tuple[bool, int]:
        self.redis  # noqa: B018  (registers the scripts on this loop's client)
        # Gone locally whatever Redis answers: a removal that fails is made good by the
        # rebuild the failure schedules.
        self._track(room, member, -1)
        n, total = await self._call(self._remove, [self._key(room), self._proc_key],
                                    [member, room, self._hall_arg(room, hall), self.prefix])
        return n <= 0, total

    async def count(self, room: int) -> int:
        self.redis  # noqa: B018  (this loop's client)
        return await self._command("HLEN", self._key(room))

    async def claim(self, room: int, seconds: float) -> bool:
        self.redis  # noqa: B018  (this loop's client)
        key = f"{self.prefix}presflush:{room}"
        return bool(await self._command("SET", key, self.process_id, "NX", "PX",
                                        max(1, int(seconds * 1000))))

    async def counts(self, rooms: list[int]) -> dict[int, int]:
        if not rooms:
            return {}
        self.redis  # noqa: B018  (this loop's client)
        # Queued in one turn of the loop: one pipeline with the other calls of that turn.
        values = await asyncio.gather(*[self._command("HLEN", self._key(r)) for r in rooms])
        return dict(zip(rooms, values, strict=True))

    async def hall_counts(self, hall: int, rooms: list[int]) -> tuple[dict[int, int], int]:
        self.redis  # noqa: B018  (this loop's client)
        total = self._command("HGET", f"{self.prefix}htotal", hall)
        values = await asyncio.gather(total, *[self._command("HLEN", self._key(r))
                                               for r in rooms])
        return dict(zip(rooms, values[1:], strict=True)), int(values[0] or 0)

    async def busiest(self, hall: int, limit: int) -> tuple[dict[int, int], int]:
        self.redis  # noqa: B018  (this loop's client)
        if limit <= 0:
            return {}, int(await self._command("HGET", f"{self.prefix}htotal", hall) or 0)
        top, total = await asyncio.gather(
            self._command("ZRANGE", f"{self.prefix}hrooms:{hall}", 0, limit - 1,
                          "WITHSCORES"),
            self._command("HGET", f"{self.prefix}htotal", hall))
        # [[room, score], ...] on RESP3, a flat [room, score, ...] on RESP2 (a plain command:
        # no reply parsing); scores are minus the counts (see _SYNC).
        pairs = top if top and isinstance(top[0], list) else zip(top[::2], top[1::2], strict=True)
        return {int(room): -int(float(score)) for room, score in pairs}, int(total or 0)

    async def members(self, room: int, limit: int) -> tuple[list[dict], int]:
        """Up to ``limit`` signed-in members, and how many there are (more than ``limit``
        when the scan stopped early). Scans the room's hash in steps instead of reading all
        of a 10,000-member room's keys for the first few hundred names."""
        r = self.redis
        users: list[bytes] = []
        cursor = 0
        while True:
            cursor, chunk = await r.hscan(self._key(room), cursor, match="u*",
                                          count=max(limit, 100))
            users.extend(chunk)
            if cursor == 0 or len(users) > limit:
                break
        named = len(users) if cursor == 0 else max(len(users), limit + 1)
        infos = await r.hmget(f"{self.prefix}pinfo", users[:limit]) if users else []
        return [orjson.loads(i) for i in infos if i], named

    def holds_user(self, user_id: int, rooms: list[int]) -> bool:
        """One round trip: HEXISTS of the user's member field in each room's hash (the hash
        every process writes its members to), pipelined."""
        with self._sync_lock:
            if self._sync_client is None:
                self._sync_client = redis.Redis.from_url(
                    self.url, socket_connect_timeout=SYNC_TIMEOUT, socket_timeout=SYNC_TIMEOUT)
            client = self._sync_client
        member = f"u{user_id}"
        try:
            with client.pipeline(transaction=False) as pipe:
                for room in rooms:
                    pipe.hexists(self._key(room), member)
                return any(pipe.execute())
        except RedisError as exc:
            raise PresenceUnavailable(str(exc)) from exc

    # --- liveness of processes ------------------------------------------------------------
    def _start_background(self, loop: asyncio.AbstractEventLoop) -> None:
        self._tasks = [loop.create_task(self._heartbeat()), loop.create_task(self._janitor()),
                       loop.create_task(self._recovery())]

    # --- recovery ---------------------------------------------------------------------------
    @property
    def _mark_key(self) -> str:
        return f"{self.prefix}pmark:{self.process_id}"

    async def _recovery(self) -> None:
        """Every ``PRESENCE_RECOVERY_CHECK`` seconds: rebuild if a Redis call failed since the
        last rebuild, or if the marker is gone (Redis restarted empty, or this process was
        reaped as dead while it could not reach Redis)."""
        while True:
            await asyncio.sleep(self.recovery_check)
            try:
                if self.stale or not await self.redis.exists(self._mark_key):
                    await self.rebuild()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._note_failure()
                log.warning("presence recovery check failed: %r", exc)

    async def rebuild(self) -> list[int]:
        """Write this process's presence again from :attr:`local`, replacing what Redis
        holds of it; returns the rooms concerned and tells ``on_rebuilt``."""
        self.redis  # noqa: B018  (registers the scripts on this loop's client)
        self.stale = False  # a failure from here on asks for another rebuild
        beat = await self._now(self.redis)
        # Joins and leaves already on their way land before the snapshot is taken; those of
        # later turns of the loop follow the rebuild (the snapshot and the script are queued
        # in one turn, with no await between them).
        if self._inflight:
            await asyncio.wait(list(self._inflight))
        args: list = [self.prefix, self.process_id, HEARTBEAT_TTL, beat]
        rooms: set[int] = set()
        for (room, member), (n, info) in self.local.items():
            args += [room, member, n, info, self.halls.get(room, "")]
            rooms.add(room)
        # Queued with the joins and leaves of this turn of the loop, so they stay in order.
        await self._call(self._rebuild, [self._proc_key, f"{self.prefix}procs",
                                         f"{self.prefix}pinfo",
                                         f"{self.prefix}alive:{self.process_id}",
                                         self._mark_key], args)
        self.rebuilds += 1
        if self.rebuilds > 1:
            log.warning("presence of %d members in %d rooms written again to Redis",
                        len(self.local), len(rooms))
        if self.on_rebuilt is not None:
            self.on_rebuilt(sorted(rooms))
        return sorted(rooms)

    async def _now(self, r: aioredis.Redis) -> float:
        if self.clock is not None:
            return self.clock()
        seconds, micros = await r.time()  # one clock for every process, however skewed theirs
        return seconds + micros / 1e6

    async def beat(self) -> None:
        """Say that this process is alive: its beat time, which expires with the key."""
        r = self.redis
        await r.set(f"{self.prefix}alive:{self.process_id}", await self._now(r),
                    ex=HEARTBEAT_TTL)
        await r.sadd(f"{self.prefix}procs", self.process_id)

    async def _heartbeat(self) -> None:
        while True:
            try:
                await self.beat()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("presence heartbeat failed", exc_info=True)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _janitor(self) -> None:
        while True:
            await asyncio.sleep(JANITOR_SECONDS)
            with contextlib.suppress(Exception):
                await self.reap_dead()

    async def reap_dead(self) -> list[int]:
        """Remove presence left behind by processes whose heartbeat expired."""
        r = self.redis
        rooms: set[int] = set()
        oldest = await self._now(r) - HEARTBEAT_TTL
        for pid in await r.smembers(f"{self.prefix}procs"):
            pid = pid.decode()
            if pid == self.process_id:
                continue
            beat = await r.get(f"{self.prefix}alive:{pid}")
            # A beat that is no Unix time ("1") is from an earlier version's process: alive
            # while its key lives.
            if beat is not None and not _UNIX_TIME < float(beat) <= oldest:
                continue
            log.warning("removing presence of dead process %s", pid)
            reaped = await self._reap(
                keys=[f"{self.prefix}proc:{pid}", f"{self.prefix}procs"],
                args=[self.prefix, pid], client=r,
            )
            rooms.update(int(x) for x in reaped)
        if rooms and self.on_reaped is not None:
            self.on_reaped(sorted(rooms))
        return sorted(rooms)


@dataclass
class _Pending:
    joined: dict[str, dict] = field(default_factory=dict)
    left: dict[str, dict] = field(default_factory=dict)


class PresenceService:
    """Tracks members and sends coalesced ``presence.update`` and ``hall.counts`` events."""

    def __init__(self, store: PresenceStore, hub: Hub, directory: RoomDirectory) -> None:
        self.store = store
        self.hub = hub
        self.directory = directory
        conf = settings.HALLSERVER
        self.interval = conf["PRESENCE_INTERVAL"]
        self.counts_interval = conf["COUNTS_INTERVAL"]
        self.detail_limit = conf["PRESENCE_DETAIL_LIMIT"]
        self.large_interval = conf["PRESENCE_LARGE_INTERVAL"]
        self._sizes: dict[int, int] = {}  # the last count seen per room
        self._pending: dict[int, _Pending] = {}
        self._changed: dict[int, set[int]] = {}  # booth rooms changed per hall, not yet sent
        self._timers: dict[tuple[str, int], asyncio.TimerHandle] = {}
        self._running: set[tuple[str, int]] = set()  # flushes under way
        self._again: dict[tuple[str, int], tuple[float, object]] = {}  # due after those
        # Booth rooms to send once more per hall (several processes: see _flush_hall).
        self._settle: dict[int, set[int]] = {}
        self.settle_delay = conf["COUNTS_SETTLE"] if isinstance(store, RedisPresence) else None
        if isinstance(store, RedisPresence):
            store.on_reaped = self._after_reap
            store.on_rebuilt = self._after_rebuild

    @staticmethod
    def member_key(user: dict | None, connection_id: int, process_id: str) -> str:
        return f"u{user['id']}" if user else f"a{process_id}:{connection_id}"

    @staticmethod
    def counted_in(room: RoomInfo) -> int | None:
        """The hall whose counts the room is in: a booth room's hall, else None."""
        return room.hall_id if room.kind == Room.Kind.BOOTH else None

    async def enter(self, room: RoomInfo, member: str, user: dict | None) -> int:
        new, count = await self.store.add(room.id, member, user, self.counted_in(room))
        if new:
            self._note(room, member, user, joined=True)
        return count

    async def enter_and_list(self, room: RoomInfo, member: str, user: dict | None) -> dict:
        """Enter, and return what a join reply says of presence: the count, and the people
        when the room is small (``PRESENCE_DETAIL_LIMIT``); one storage round trip."""
        new, count, users = await self.store.add_and_list(room.id, member, user,
                                                          self.detail_limit,
                                                          self.counted_in(room))
        if new:
            self._note(room, member, user, joined=True)
        if users is None:
            return {"count": count}
        return self._listing(room, users, count, len(users))

    async def exit(self, room: RoomInfo, member: str, user: dict | None) -> None:
        gone, _ = await self.store.remove(room.id, member, self.counted_in(room))
        if gone:
            self._note(room, member, user, joined=False)

    def _note(self, room: RoomInfo, member: str, user: dict | None, joined: bool) -> None:
        pending = self._pending.setdefault(room.id, _Pending())
        entry = self.public_user(room, user)
        if joined:
            if pending.left.pop(member, None) is None:
                pending.joined[member] = entry
        elif pending.joined.pop(member, None) is None:
            pending.left[member] = entry
        self._schedule(("room", room.id), self.room_interval(room.id),
                       lambda: self._flush_room(room))
        if room.kind == Room.Kind.BOOTH and room.hall_id is not None:
            self._booth_changed(room)

    def _booth_changed(self, room: RoomInfo) -> None:
        """Put a booth room in its hall's next ``hall.counts``."""
        hall = room.hall_id
        self._changed.setdefault(hall, set()).add(room.id)
        self._schedule(("hall", hall), self.counts_interval, lambda: self._flush_hall(hall))

    def room_interval(self, room_id: int) -> float:
        """How long a room's presence changes are gathered before one update goes out."""
        size = self._sizes.get(room_id, 0)
        if size <= self.detail_limit:
            return self.interval
        return min(self.large_interval, max(1.0, size / 1000))

    @staticmethod
    def public_user(room: RoomInfo, user: dict | None) -> dict:
        if user is None:
            return {"id": None, "name": None, "staff": False}
        return {"id": user["id"], "name": user["name"], "staff": room.is_staff(user["id"])}

    def _schedule(self, key: tuple[str, int], delay: float, flush) -> None:
        """Run ``flush()`` in ``delay`` seconds unless one is already due for ``key``.

        At most one flush per key runs at a time: on a saturated server a flush may take
        longer than the interval, and starting another each interval would pile them up.
        A change that comes while one runs is flushed after it, ``delay`` later."""
        if key in self._timers:
            return
        if key in self._running:
            self._again[key] = (delay, flush)
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.pop(key, None)
            self._running.add(key)
            spawn(self._run(key, flush))

        self._timers[key] = loop.call_later(delay, fire)

    async def _run(self, key: tuple[str, int], flush) -> None:
        try:
            await flush()
        finally:
            self._running.discard(key)
            again = self._again.pop(key, None)
            if again is not None:
                self._schedule(key, *again)

    async def _flush_room(self, room: RoomInfo) -> None:
        pending = self._pending.pop(room.id, None)
        try:
            count = await self.store.count(room.id)
            self._sizes[room.id] = count
            if count > self.detail_limit:
                # A large room: counts only, from one process per interval. A process that
                # loses the claim tries again when the winner's interval is over, so its own
                # changes are in a later count.
                interval = self.room_interval(room.id)
                if not await self.store.claim(room.id, interval):
                    self._pending.setdefault(room.id, _Pending())
                    self._schedule(("room", room.id), interval, lambda: self._flush_room(room))
                    return
            elif not count:
                self._sizes.pop(room.id, None)
            data: dict = {"room": room.id, "count": count}
            if count <= self.detail_limit and pending is not None:
                data["joined"] = [u for u in pending.joined.values() if u["id"] is not None]
                data["left"] = [u for u in pending.left.values() if u["id"] is not None]
            await self.hub.publish(room.id, event("presence.update", data))
            metrics.PRESENCE_ROOM_FLUSHES.inc()
        except Exception:
            log.exception("presence flush failed for room %s", room.id)

    async def _flush_hall(self, hall_id: int) -> None:
        """One ``hall.counts`` to the lobby: the counts of the booth rooms that changed here
        since the last one (a frame that grows with the traffic, not with the hall) and the
        hall's total, which the store keeps (one read, whatever the hall's size)."""
        changed = self._changed.pop(hall_id, set())
        if await self._send_hall(hall_id, changed) and self.settle_delay is not None:
            # Frames of different processes reach a lobby in no set order: one that read the
            # counts earlier may arrive after one that read them later, and nothing would
            # correct it until the room changes again. So every room sent is sent once more
            # a while later, when the changes behind it have landed everywhere (at most one
            # such frame per hall and process every COUNTS_SETTLE seconds).
            self._settle.setdefault(hall_id, set()).update(changed)
            self._schedule(("settle", hall_id), self.settle_delay,
                           lambda: self._send_hall(hall_id, self._settle.pop(hall_id, set())))

    async def _send_hall(self, hall_id: int, changed: set[int]) -> bool:
        """Publish one ``hall.counts`` for ``changed`` (if any); whether it was sent."""
        try:
            lobby = await self.directory.lobby_of_hall(hall_id)
            if lobby is not None and changed:
                counts, total = await self.store.hall_counts(hall_id, sorted(changed))
                data = {"hall": hall_id, "counts": counts, "total": total}
                await self.hub.publish(lobby, event("hall.counts", data))
                metrics.PRESENCE_HALL_FLUSHES.inc()
                return True
        except Exception:
            log.exception("counts flush failed for hall %s", hall_id)
        return False

    async def hall_counts(self, hall_id: int,
                          limit: int = HALL_COUNTS_LIMIT) -> tuple[dict[int, int], int]:
        """The hall's busiest booth rooms (at most ``limit``, only those with someone in
        them, busiest first, ties by room id) and the number of people in all its booth
        rooms: kept by the store as people come and go, read without visiting the hall's
        other rooms."""
        return await self.store.busiest(hall_id, limit)

    async def booth_counts(self, hall_id: int, rooms: list[int]) -> dict[int, int]:
        """Counts of those of ``rooms`` that are booth rooms of the hall (others left out)."""
        of_hall = await self.directory.booth_room_set_of_hall(hall_id)
        return await self.store.counts([r for r in dict.fromkeys(rooms) if r in of_hall])

    def user_in_any(self, user_id: int, rooms: list[int]) -> bool:
        """Whether a signed-in user is in any of ``rooms`` right now, whichever process holds
        their connection (synchronous: for HTTP views, which run in a thread). A crashed
        process's members count until the janitor removes them (``HEARTBEAT_TTL`` plus up to
        ``JANITOR_SECONDS``)."""
        return bool(rooms) and self.store.holds_user(user_id, rooms)

    async def listing(self, room: RoomInfo, limit: int = LIST_LIMIT) -> dict:
        users, named = await self.store.members(room.id, limit)
        return self._listing(room, users, await self.store.count(room.id), named)

    def _listing(self, room: RoomInfo, users: list[dict], count: int, named: int) -> dict:
        public = [self.public_user(room, u) for u in users]
        public.sort(key=lambda u: (not u["staff"], u["name"] or ""))
        return {"count": count, "users": public, "truncated": len(public) < named}

    def _after_reap(self, rooms: list[int]) -> None:
        for room_id in rooms:
            spawn(self._refresh(room_id))

    def _after_rebuild(self, rooms: list[int]) -> None:
        """Presence was written again: everyone in these rooms gets the count as it is now
        (negative "rooms" are users' connection counts, not rooms)."""
        self._after_reap([r for r in rooms if r > 0])

    async def _refresh(self, room_id: int) -> None:
        room = await self.directory.get(room_id)
        if room is not None:
            self._pending.setdefault(room.id, _Pending())
            self._schedule(("room", room.id), self.room_interval(room.id),
                           lambda: self._flush_room(room))
            if room.kind == Room.Kind.BOOTH and room.hall_id is not None:
                self._booth_changed(room)
