"""Two people meet in a private call of their own: the first to join waits, the second pairs
the call (``CallService.pair``). Interviews (recruitment) and meetings (project docking) both
join this way; each keeps one :class:`Rendezvous`.

Who waits is a key of the call service's store (``<kind>:<id>``, set only if absent), so the
two may join through different processes; a closing socket stops waiting
(:meth:`Rendezvous.on_session_closed`, a close hook of the booths consumer).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from booths.protocol import ErrorCode, ProtocolError
from hallserver.realtime.hub import hub

from .calls import calls, new_id, public_party
from .turn import ice_servers


class Rendezvous:
    """The waiting room of one kind of private call (``"interview"``, ``"meeting"``)."""

    def __init__(self, kind: str, call_prefix: str, busy: str,
                 waiting: Callable[[dict], dict]) -> None:
        """``kind`` names the store keys (``<kind>:<id>``), ``call_prefix`` the calls' ids,
        ``busy`` the error text when the store keeps changing, ``waiting`` builds the event
        that tells the other side someone waits (its app's ``<kind>.waiting``)."""
        self.kind = kind
        self.call_prefix = call_prefix
        self.busy = busy
        self.waiting = waiting
        #: Connection address → the ids it waits at.
        self._waiting: dict[str, set[int]] = {}

    def _key(self, ref: int) -> str:
        return f"{self.kind}:{ref}"

    def _forget(self, address: str, ref: int) -> None:
        waits = self._waiting.get(address)
        if waits is not None:
            waits.discard(ref)
            if not waits:
                del self._waiting[address]

    async def join(self, session, ref: int, *, user_id: int, other: int, booth: int,
                   wait: float, staff: bool, reply: dict) -> dict:
        """``user_id`` joins call ``ref`` with ``other``. The first waits (``other`` hears
        the ``waiting`` event: ``reply`` and who waits) and gets ``{**reply, "waiting": true}``;
        the second pairs the call and gets it, as its offerer. ``wait`` (seconds) bounds how
        long the waiting side is remembered. A CallError of ``pair`` (``call.busy``) goes to
        the caller."""
        service = calls()
        await service.start()
        address = session.conn.address
        me = {"user": user_id, "name": session.visitor.name, "addr": address, "staff": staff}
        key = self._key(ref)
        for _ in range(3):
            if await service.kv.set(key, me, ttl=wait, nx=True):
                self._waiting.setdefault(address, set()).add(ref)
                await hub.to_user(other, self.waiting({
                    **reply, "user": {"id": user_id, "name": me["name"]}}))
                return {**reply, "waiting": True}
            first = await service.kv.get(key)
            if first is None:
                continue
            if first["user"] == user_id:
                await service.kv.set(key, me, ttl=wait)  # the same person, from here now
                self._waiting.setdefault(address, set()).add(ref)
                return {**reply, "waiting": True}
            if not await service.kv.delete_if(key, first):
                continue  # changed meanwhile: look again
            self._forget(first["addr"], ref)
            call = await service.pair(f"{self.call_prefix}{ref}-{new_id()}", booth, first, me)
            return {**reply, "waiting": False, "call": call["id"], "booth": booth,
                    "role": "offerer", "peer": {"id": first["user"], "name": first["name"]},
                    "participants": [public_party(p) for p in call["parties"]],
                    "ice_servers": ice_servers(user_id)}
        raise ProtocolError(ErrorCode.SERVER_ERROR, self.busy)

    async def on_session_closed(self, session) -> None:
        """A closing socket stops waiting at its calls of this kind."""
        address = session.conn.address
        waits = self._waiting.pop(address, set()) if address else set()
        if not waits:
            return
        service = calls()
        for ref in waits:
            with contextlib.suppress(Exception):
                first = await service.kv.get(self._key(ref))
                if first is not None and first["addr"] == address:
                    await service.kv.delete_if(self._key(ref), first)
