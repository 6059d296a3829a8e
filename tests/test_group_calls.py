"""Group calls at a booth (a mesh of up to MAX_CALL_PARTICIPANTS people): staff take further
knocks into a call or join a call of their booth, signals are routed by ``to`` and arrive with
``from``, participants leave one by one, reconnects and crashed processes are handled per
participant.

- consumer level: real connections of this process (in-memory channel layer and store);
- unit level: CallService instances standing for processes over one store (see
  tests/test_calls_cleanup.py), for crashes and concurrent leaves.

The cross-process test is in tests/test_streaming_system.py, the browser test in
tests/browser/test_video.py.
"""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from booths.models import Booth, BoothStaff, Profile
from booths.seed import seed_demo
from streaming import store as store_module
from streaming.calls import CALL_INDEX
from tests.test_calls_cleanup import BOOTH, STAFF, VISITOR, events, kv, processes  # noqa: F401
from tests.test_streaming_calls import OFFER, connected

# The consumer-level tests use the database (the unit-level ones at the end do not).
db = pytest.mark.django_db(transaction=True)

CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host",
             "sdpMid": "0", "sdpMLineIndex": 0}


@pytest.fixture(autouse=True)
def _fresh_live_state(settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "KNOCK_TIMEOUT": 30.0, "RECONNECT_GRACE": 0.5,
                           "MAX_CALL_PARTICIPANTS": 4, "PROCESS_TTL": 1.0,
                           "PROCESS_BEAT": 0.1, "SWEEP_INTERVAL": 0.1}
    store_module.store.cache_clear()
    yield
    store_module.store.cache_clear()


@database_sync_to_async
def make_world():
    """The demo expo; the exhibitor staffs ``booth`` and ``other``, Sam staffs ``booth`` too
    and Olga ``other`` only; Ada, Bob, Cara and Dan are visitors."""
    seed_demo()
    User = get_user_model()
    exhibitor = User.objects.get(username="exhibitor")
    booth = Booth.objects.get(boothstaff__user=exhibitor)
    other = Booth.objects.exclude(pk=booth.pk).filter(boothstaff__isnull=True).first()
    BoothStaff.objects.create(booth=other, user=exhibitor)
    world = {"booth": booth.pk, "other": other.pk, "exhibitor": exhibitor}
    people = [("Ada", Profile.Kind.VISITOR), ("Bob", Profile.Kind.VISITOR),
              ("Cara", Profile.Kind.VISITOR), ("Dan", Profile.Kind.VISITOR),
              ("Sam", Profile.Kind.EXHIBITOR), ("Olga", Profile.Kind.EXHIBITOR)]
    for name, kind in people:
        user = User.objects.create_user(username=name.lower(), password=None)
        Profile.objects.create(user=user, display_name=name, kind=kind)
        world[name] = user
    BoothStaff.objects.create(booth=booth, user=world["Sam"])
    BoothStaff.objects.create(booth=other, user=world["Olga"])
    return world


@pytest.fixture
async def world():
    return await make_world()


def me(world, name: str, staff: bool = False) -> dict:
    """The participant object of one of the world's people."""
    user = world[name]
    shown = "Erik Exhibitor" if name == "exhibitor" else name
    return {"id": user.pk, "name": shown, "staff": staff}


async def listening(world, name: str = "exhibitor", booths=None):
    client = await connected(world[name])
    await client.ok("call.listen", {"booths": booths or [world["booth"]]})
    return client


async def call_of_three(world):
    """Erik accepts Ada's knock, then takes Bob's knock into the call."""
    staff = await listening(world)
    ada, bob = await connected(world["Ada"]), await connected(world["Bob"])
    first = await ada.ok("call.knock", {"booth": world["booth"]})
    call = (await staff.ok("call.accept", {"knock": first["knock"]}))["call"]
    await ada.event("call.accepted")
    second = await bob.ok("call.knock", {"booth": world["booth"]})
    added = await staff.ok("call.accept", {"knock": second["knock"], "call": call})
    assert added["participant"] == me(world, "Bob")
    await bob.event("call.accepted")
    for c in (staff, ada):
        await c.event("call.participant_joined")
    return staff, ada, bob, call


async def close_all(*clients) -> None:
    for c in clients:
        await c.close()


# --- joining ---------------------------------------------------------------------------------

@db
async def test_staff_takes_a_second_visitor_into_the_call(world):
    staff = await listening(world)
    ada, bob = await connected(world["Ada"]), await connected(world["Bob"])
    first = await ada.ok("call.knock", {"booth": world["booth"]})
    accepted = await staff.ok("call.accept", {"knock": first["knock"]})
    call = accepted["call"]
    assert accepted["participants"] == [me(world, "Ada"), me(world, "exhibitor", staff=True)]
    await ada.event("call.accepted")
    second = await bob.ok("call.knock", {"booth": world["booth"]})

    added = await staff.ok("call.accept", {"knock": second["knock"], "call": call})
    everyone = [me(world, "Ada"), me(world, "exhibitor", staff=True), me(world, "Bob")]
    assert added == {"call": call, "booth": world["booth"], "participant": me(world, "Bob"),
                     "participants": everyone}
    # The newcomer offers to everyone in the call; they learn who joined.
    assert await bob.event("call.accepted") == {
        "call": call, "booth": world["booth"], "knock": second["knock"], "role": "offerer",
        "peer": {"id": world["exhibitor"].pk, "name": "Erik Exhibitor"},
        "participants": everyone}
    for c in (staff, ada):
        assert await c.event("call.participant_joined") == {"call": call,
                                                            "participant": me(world, "Bob")}
    # The knock left the queue; Bob is busy like the others.
    await staff.event("call.knocks", match=lambda d: d["knocks"] == [])
    assert await bob.error("call.knock", {"booth": world["booth"]}) == "call.busy"
    await close_all(staff, ada, bob)


@db
async def test_signals_are_routed_by_to_and_carry_from(world):
    staff, ada, bob, call = await call_of_three(world)
    ids = {name: world[name].pk for name in ("Ada", "Bob", "exhibitor")}

    await bob.ok("call.signal", {"call": call, "to": ids["Ada"], "type": "offer", "sdp": OFFER})
    assert await ada.event("call.signal") == {"call": call, "from": ids["Bob"], "type": "offer",
                                              "sdp": OFFER}
    await bob.ok("call.signal", {"call": call, "to": ids["exhibitor"], "type": "offer",
                                 "sdp": OFFER})
    assert (await staff.event("call.signal"))["from"] == ids["Bob"]
    await ada.ok("call.signal", {"call": call, "to": ids["Bob"], "type": "answer", "sdp": OFFER})
    got = await bob.event("call.signal")
    assert (got["from"], got["type"]) == (ids["Ada"], "answer")
    await staff.ok("call.signal", {"call": call, "to": ids["Bob"], "type": "candidate",
                                   "candidate": CANDIDATE})
    got = await bob.event("call.signal")
    assert got["from"] == ids["exhibitor"]
    assert got["candidate"] == {**CANDIDATE, "usernameFragment": None}
    # Each signal reached exactly its receiver.
    for c in (staff, ada, bob):
        await c.drain(0.2)
        assert [f for f in c.events if f.get("event") == "call.signal"] == []

    # In a call of three, a signal must say to whom; only other participants qualify.
    outsider = world["Cara"].pk
    for data, code in [
        ({"type": "offer", "sdp": OFFER}, "call.participant_not_found"),
        ({"to": outsider, "type": "offer", "sdp": OFFER}, "call.participant_not_found"),
        ({"to": ids["Ada"], "type": "offer", "sdp": OFFER}, "call.participant_not_found"),
        ({"to": 0, "type": "offer", "sdp": OFFER}, "frame.invalid"),
        ({"to": str(ids["Bob"]), "type": "offer", "sdp": OFFER}, "frame.invalid"),
        ({"to": ids["Bob"], "type": "offer", "sdp": "v=0"}, "sdp.invalid"),
    ]:
        assert await ada.error("call.signal", {"call": call, **data}) == code, data
    cara = await connected(world["Cara"])
    assert await cara.error("call.signal", {"call": call, "to": ids["Ada"], "type": "offer",
                                            "sdp": OFFER}) == "call.not_found"
    await close_all(staff, ada, bob, cara)


@db
async def test_a_participant_leaves_and_the_call_goes_on_until_one_remains(world):
    staff, ada, bob, call = await call_of_three(world)
    await ada.ok("call.hangup", {"call": call})
    for c in (staff, bob):
        assert await c.event("call.participant_left") == {
            "call": call, "participant": me(world, "Ada"), "reason": "hangup"}
    # Ada is out: no signal to or from her; she is free for another call.
    assert await bob.error("call.signal", {"call": call, "to": world["Ada"].pk, "type": "offer",
                                           "sdp": OFFER}) == "call.participant_not_found"
    assert await ada.error("call.signal", {"call": call, "to": world["Bob"].pk, "type": "offer",
                                           "sdp": OFFER}) == "call.not_found"
    assert await ada.error("call.hangup", {"call": call}) == "call.not_found"
    again = await ada.ok("call.knock", {"booth": world["booth"]})
    assert again["position"] == 1
    await ada.ok("call.cancel", {"knock": again["knock"]})
    # Two remain: the call goes on, and `to` may be left out again.
    await bob.ok("call.signal", {"call": call, "to": world["exhibitor"].pk, "type": "offer",
                                 "sdp": OFFER})
    assert (await staff.event("call.signal"))["from"] == world["Bob"].pk
    await staff.ok("call.signal", {"call": call, "type": "answer", "sdp": OFFER})
    assert await bob.event("call.signal") == {"call": call, "type": "answer", "sdp": OFFER}

    # The next to leave ends it for the last one.
    await bob.ok("call.hangup", {"call": call})
    assert await staff.event("call.ended") == {"call": call, "reason": "hangup"}
    await ada.drain(0.2)
    assert not [f for f in ada.events if f.get("event") == "call.ended"]
    # Everybody is free again.
    cara = await connected(world["Cara"])
    knock = (await cara.ok("call.knock", {"booth": world["booth"]}))["knock"]
    assert (await staff.ok("call.accept", {"knock": knock}))["peer"]["name"] == "Cara"
    await close_all(staff, ada, bob, cara)


@db
async def test_staff_member_joins_a_call_of_their_booth(world):
    sam = await listening(world, "Sam")
    staff = await listening(world)
    ada = await connected(world["Ada"])
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    call = (await staff.ok("call.accept", {"knock": knock}))["call"]
    # Sam, listening but not in the call, sees the booth's calls.
    summary = {"call": call, "booth": world["booth"],
               "participants": [me(world, "Ada"), me(world, "exhibitor", staff=True)]}
    assert await sam.event("call.calls", match=lambda d: d["calls"]) == {
        "booth": world["booth"], "calls": [summary]}
    assert (await sam.ok("call.listen", {"booths": [world["booth"]]}))["calls"] == [summary]

    joined = await sam.ok("call.join", {"call": call})
    assert joined["role"] == "offerer" and joined["call"] == call
    assert joined["participants"] == [*summary["participants"], me(world, "Sam", staff=True)]
    for c in (staff, ada):
        assert await c.event("call.participant_joined") == {
            "call": call, "participant": me(world, "Sam", staff=True)}
    await sam.ok("call.signal", {"call": call, "to": world["Ada"].pk, "type": "offer",
                                 "sdp": OFFER})
    assert (await ada.event("call.signal"))["from"] == world["Sam"].pk

    # Refusals: twice, visitors, no such call, another booth's staff.
    assert await sam.error("call.join", {"call": call}) == "call.already_joined"
    assert await ada.error("call.join", {"call": call}) == "call.forbidden"
    bob = await connected(world["Bob"])
    assert await bob.error("call.join", {"call": call}) == "call.forbidden"
    olga = await connected(world["Olga"])
    assert await olga.error("call.join", {"call": call}) == "call.forbidden"
    assert await sam.error("call.join", {"call": "nosuchcall"}) == "call.not_found"
    anon = await connected()
    assert await anon.error("call.join", {"call": call}) == "auth.required"

    # Sam leaves; he hears of the booth's calls again, without himself.
    await sam.ok("call.hangup", {"call": call})
    for c in (staff, ada):
        assert (await c.event("call.participant_left"))["participant"]["id"] == world["Sam"].pk
    assert (await sam.event("call.calls", match=lambda d: d["calls"]
                            and len(d["calls"][0]["participants"]) == 2))["calls"] == [summary]
    await ada.ok("call.hangup", {"call": call})
    await staff.event("call.ended")
    await sam.event("call.calls", match=lambda d: d["calls"] == [])
    await close_all(sam, staff, ada, bob, olga, anon)


@db
async def test_a_staff_member_in_another_call_cannot_join(world):
    staff = await listening(world)
    sam = await listening(world, "Sam")
    ada, bob = await connected(world["Ada"]), await connected(world["Bob"])
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    first = (await staff.ok("call.accept", {"knock": knock}))["call"]
    knock = (await bob.ok("call.knock", {"booth": world["booth"]}))["knock"]
    await sam.ok("call.accept", {"knock": knock})
    assert await sam.error("call.join", {"call": first}) == "call.busy"
    await close_all(staff, sam, ada, bob)


# --- refusals of adding --------------------------------------------------------------------------

@db
async def test_the_call_is_full_at_the_limit(world, settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "MAX_CALL_PARTICIPANTS": 3}
    staff, ada, bob, call = await call_of_three(world)
    cara = await connected(world["Cara"])
    knock = (await cara.ok("call.knock", {"booth": world["booth"]}))["knock"]
    assert await staff.error("call.accept", {"knock": knock, "call": call}) == "call.full"
    sam = await connected(world["Sam"])
    assert await sam.error("call.join", {"call": call}) == "call.full"
    # Nothing was lost: Cara still waits, first in the queue, and is not busy.
    queue = await staff.ok("call.listen", {"booths": [world["booth"]]})
    assert [k["knock"] for k in queue["queues"][0]["knocks"]] == [knock]
    assert (await cara.ok("call.knock", {"booth": world["booth"]}))["knock"] == knock
    # Once someone leaves there is room again.
    await bob.ok("call.hangup", {"call": call})
    added = await staff.ok("call.accept", {"knock": knock, "call": call})
    assert [p["name"] for p in added["participants"]] == ["Ada", "Erik Exhibitor", "Cara"]
    await close_all(staff, ada, bob, cara, sam)


@db
async def test_only_staff_in_the_call_add_knocks_of_its_booth(world):
    staff = await listening(world, booths=[world["booth"], world["other"]])
    sam = await listening(world, "Sam")
    ada, bob, cara = [await connected(world[n]) for n in ("Ada", "Bob", "Cara")]
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    call = (await staff.ok("call.accept", {"knock": knock}))["call"]
    bob_knock = (await bob.ok("call.knock", {"booth": world["booth"]}))["knock"]
    elsewhere = (await cara.ok("call.knock", {"booth": world["other"]}))["knock"]

    # A visitor in the call cannot add anyone; staff not in the call cannot add to it.
    assert await ada.error("call.accept", {"knock": bob_knock, "call": call}) == \
        "call.forbidden"
    assert await sam.error("call.accept", {"knock": bob_knock, "call": call}) == \
        "call.not_found"
    # A knock of another booth (the exhibitor staffs both) does not go into this call.
    assert await staff.error("call.accept", {"knock": elsewhere, "call": call}) == \
        "call.wrong_booth"
    assert await staff.error("call.accept", {"knock": bob_knock, "call": "nosuchcall"}) == \
        "call.not_found"
    assert await staff.error("call.accept", {"knock": "nosuchknock", "call": call}) == \
        "call.not_found"
    assert await staff.error("call.accept", {"knock": bob_knock, "call": 7}) == "frame.invalid"
    # Without "call" while in a call: busy, as before.
    assert await staff.error("call.accept", {"knock": bob_knock}) == "call.busy"
    # Every refusal left the knocks waiting.
    queue = await staff.ok("call.listen", {"booths": [world["booth"], world["other"]]})
    assert [[k["knock"] for k in q["knocks"]] for q in queue["queues"]] == [[bob_knock],
                                                                            [elsewhere]]
    await staff.ok("call.accept", {"knock": bob_knock, "call": call})
    await close_all(staff, sam, ada, bob, cara)


@db
async def test_a_visitor_busy_in_another_call_is_not_added(world):
    staff = await listening(world)
    olga = await listening(world, "Olga", booths=[world["other"]])
    ada = await connected(world["Ada"])
    bob_here, bob_there = await connected(world["Bob"]), await connected(world["Bob"])
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    call = (await staff.ok("call.accept", {"knock": knock}))["call"]
    # Bob knocks at both booths (two tabs); Olga takes him first.
    here = (await bob_here.ok("call.knock", {"booth": world["booth"]}))["knock"]
    there = (await bob_there.ok("call.knock", {"booth": world["other"]}))["knock"]
    await olga.ok("call.accept", {"knock": there})
    assert await staff.error("call.accept", {"knock": here, "call": call}) == "call.busy"
    queue = await staff.ok("call.listen", {"booths": [world["booth"]]})
    assert [k["knock"] for k in queue["queues"][0]["knocks"]] == [here]
    await close_all(staff, olga, ada, bob_here, bob_there)


# --- reconnects ------------------------------------------------------------------------------

@db
async def test_a_participant_resumes_or_is_gone_for_good(world, settings):
    # Reconnects well within the grace whatever the machine's speed; the last one, meant to
    # miss it, gets a short grace and waits for its end (the events), not a sleep.
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "RECONNECT_GRACE": 60.0}
    staff, ada, bob, call = await call_of_three(world)
    bob_id = world["Bob"].pk
    await bob.close()
    for c in (staff, ada):
        away = await c.event("call.peer_away")
        assert away == {"call": call, "grace": 60.0, "participant": me(world, "Bob")}
    bob = await connected(world["Bob"])
    resumed = await bob.ok("call.resume", {"call": call})
    assert resumed["role"] == "offerer" and resumed["away"] == []
    assert [p["id"] for p in resumed["participants"]] == [world["Ada"].pk,
                                                          world["exhibitor"].pk, bob_id]
    for c in (staff, ada):
        assert await c.event("call.peer_back") == {"call": call,
                                                   "participant": me(world, "Bob")}
    # The staff member's connection drops: the resume reply of the others says who is away.
    await staff.close()
    await ada.event("call.peer_away")
    staff = await connected(world["exhibitor"])
    await bob.ok("call.signal", {"call": call, "to": world["Ada"].pk, "type": "offer",
                                 "sdp": OFFER})
    assert (await ada.event("call.signal"))["from"] == bob_id
    resumed = await staff.ok("call.resume", {"call": call})
    assert resumed["role"] == "answerer" and resumed["away"] == []
    assert resumed["peer"]["name"] == "Ada"

    # Bob goes for good: the others are told he left; the call goes on between two.
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "RECONNECT_GRACE": 0.2}
    await bob.close()
    for c in (staff, ada):
        await c.event("call.peer_away")
        assert await c.event("call.participant_left", within=5) == {
            "call": call, "participant": me(world, "Bob"), "reason": "peer_gone"}
    await ada.ok("call.signal", {"call": call, "type": "offer", "sdp": OFFER})
    assert (await staff.event("call.signal"))["type"] == "offer"
    # Free again.
    bob = await connected(world["Bob"])
    assert await bob.error("call.resume", {"call": call}) == "call.not_found"
    await staff.ok("call.listen", {"booths": [world["booth"]]})
    assert (await bob.ok("call.knock", {"booth": world["booth"]}))["position"] == 1
    await close_all(staff, ada, bob)


# --- crashed processes and concurrent changes (unit level, memory and Redis stores) ----------

async def test_a_participant_of_a_dead_process_leaves_and_the_call_goes_on(
        kv, settings):  # noqa: F811
    # The live processes' keys outlive the test however slow it runs; the dead ones' are
    # deleted by crash().
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "PROCESS_TTL": 30.0}
    sent, (a, b, c) = await processes(kv, "proc-a", "proc-b", "proc-c")
    staff_addr, visitor_addr, third_addr = "proc-b|1", "proc-a|2", "proc-c|3"
    third = {"id": 3, "name": "Wes"}
    await b.listen(staff_addr, STAFF, BOOTH)
    knock = await a.knock(visitor_addr, VISITOR, BOOTH)
    call = await b.accept(staff_addr, STAFF, knock["knock"])
    knock = await c.knock(third_addr, third, BOOTH)
    await b.add(staff_addr, call["id"], knock["knock"])
    assert await kv.get(f"busy:{third['id']}") == call["id"]

    await a.crash()
    sent.clear()
    await asyncio.gather(b.sweep(), c.sweep(), b.sweep())
    # RECONNECT_GRACE (0.5 s) is shorter than PROCESS_TTL (30 s): the visitor leaves at once.
    left = {"call": call["id"], "participant": {"id": VISITOR["id"], "name": "Vic",
                                                "staff": False}, "reason": "peer_gone"}
    assert sorted(sent, key=lambda s: s[0]) == [(staff_addr, "call.participant_left", left),
                                                (third_addr, "call.participant_left", left)]
    record = await kv.get(f"call:{call['id']}")
    assert [p["user"] for p in record["parties"]] == [STAFF["id"], third["id"]]
    assert await kv.get(f"busy:{VISITOR['id']}") is None
    assert await kv.get(f"busy:{third['id']}") == call["id"]

    # The next one gone ends the call for the last one.
    await c.crash()
    sent.clear()
    await b.sweep()
    assert sent == [(staff_addr, "call.ended", {"call": call["id"], "reason": "peer_gone"})]
    assert await kv.zrange(CALL_INDEX) == []
    assert await kv.get(f"busy:{STAFF['id']}") is None
    assert await kv.get(f"busy:{third['id']}") is None


async def staff_in_a_call(kv, settings, limit: int):  # noqa: F811
    """One process; staff ("proc-a|1") in a call with the visitor ("proc-a|2"), calls of at
    most ``limit`` people: (events sent, the process, the call)."""
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "MAX_CALL_PARTICIPANTS": limit}
    sent, (a,) = await processes(kv, "proc-a")
    await a.listen("proc-a|1", STAFF, BOOTH)
    knock = await a.knock("proc-a|2", VISITOR, BOOTH)
    return sent, a, await a.accept("proc-a|1", STAFF, knock["knock"])


async def test_concurrent_leaves_lose_nobody(kv, settings):  # noqa: F811
    sent, a, call = await staff_in_a_call(kv, settings, 4)
    for n in (3, 4):
        knock = await a.knock(f"proc-a|{n}", {"id": n, "name": f"V{n}"}, BOOTH)
        await a.add("proc-a|1", call["id"], knock["knock"])
    # Two hang up at the same time, and the call's record is rewritten by both.
    sent.clear()
    await asyncio.gather(a.hangup("proc-a|2", call["id"]), a.hangup("proc-a|3", call["id"]))
    record = await kv.get(f"call:{call['id']}")
    assert [p["user"] for p in record["parties"]] == [STAFF["id"], 4]
    assert await kv.get(f"busy:{VISITOR['id']}") is None and await kv.get("busy:3") is None
    assert len(events(sent, "call.participant_left", "proc-a|4")) == 2
    # Two more at once: the call ends, once.
    sent.clear()
    results = await asyncio.gather(a.hangup("proc-a|1", call["id"]),
                                   a.hangup("proc-a|4", call["id"]), return_exceptions=True)
    # The second one finds the call ended already.
    assert [getattr(r, "code", r) for r in results] in ([None, "call.not_found"],
                                                        ["call.not_found", None])
    assert len(events(sent, "call.ended")) == 1
    assert await kv.get(f"call:{call['id']}") is None
    assert await kv.get(f"busy:{STAFF['id']}") is None and await kv.get("busy:4") is None


async def test_concurrent_additions_respect_the_limit(kv, settings):  # noqa: F811
    _, a, call = await staff_in_a_call(kv, settings, 3)
    knocks = [(await a.knock(f"proc-a|{n}", {"id": n, "name": f"V{n}"}, BOOTH))["knock"]
              for n in (3, 4)]
    results = await asyncio.gather(*(a.add("proc-a|1", call["id"], k) for k in knocks),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["CallError", "tuple"]
    assert next(r for r in results if isinstance(r, Exception)).code == "call.full"
    record = await kv.get(f"call:{call['id']}")
    assert len(record["parties"]) == 3
    assert len(await a.queue(BOOTH)) == 1  # the refused knock still waits
