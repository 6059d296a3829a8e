"""Moderation, Q&A and automatic protection through the protocol (one process), and the
permission matrix enumerated role by role."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from booths.models import (
    AuditEntry,
    Booth,
    BoothStaff,
    ChatMessage,
    FilteredWord,
    Hall,
    Profile,
    Question,
    Roadshow,
    Room,
    Sanction,
)
from booths.permissions import MATRIX, ROLES, Role, allowed, markdown_table, role_of
from booths.seed import seed_demo
from booths.services.identity import Visitor
from booths.services.rooms import RoomInfo
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_world():
    seed_demo()
    exhibitor = get_user_model().objects.get(username="exhibitor")
    booth = Booth.objects.get(boothstaff__user=exhibitor)
    other_hall = Hall.objects.exclude(pk=booth.hall_id).first()
    hall_mod = get_user_model().objects.create_user("hallmod")
    Profile.objects.create(user=hall_mod, display_name="Hall Mod", kind="moderator",
                           moderated_hall=booth.hall)
    show = Roadshow.objects.filter(booth__hall=booth.hall).first()
    if show is None:
        from django.utils import timezone

        show = Roadshow.objects.create(booth=booth, title="Demo", starts_at=timezone.now(),
                                       ends_at=timezone.now(), state="live")
    Roadshow.objects.filter(pk=show.pk).update(state="live", presenter=exhibitor)
    return {
        "booth": booth,
        "exhibitor": exhibitor,
        "moderator": get_user_model().objects.get(username="moderator"),
        "admin": get_user_model().objects.get(username="admin"),
        "hall_mod": hall_mod,
        "rooms": {
            "booth": Room.objects.get(kind="booth", booth=booth).pk,
            "lobby": Room.objects.get(kind="lobby", hall=booth.hall).pk,
            "roadshow": Room.objects.get(roadshow=show).pk,
            "far": Room.objects.filter(kind="booth", hall=other_hall).first().pk,
            "mod": Room.objects.get(kind="moderation", hall=booth.hall).pk,
        },
        "roadshow": show.pk,
        "hall": booth.hall_id,
    }


@database_sync_to_async
def make_user(name: str, kind: str = "visitor"):
    user = get_user_model().objects.create_user(username=name.lower().replace(" ", ""))
    Profile.objects.create(user=user, display_name=name, kind=kind)
    return user


@pytest.fixture
async def world():
    return await make_world()


async def client(user=None) -> WsClient:
    return await WsClient(user).connect()


async def in_room(user, room: int) -> WsClient:
    c = await client(user)
    await c.ok("room.join", {"room": room})
    return c


# --- the matrix ----------------------------------------------------------------------------------

def test_docs_permissions_table_is_the_matrix():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "permissions.md").read_text()
    assert markdown_table() in doc


def _visitor(**kw) -> Visitor:
    base = {"id": 1, "name": "x", "kind": "visitor", "staff_of": frozenset(),
            "is_moderator": False, "is_admin": False, "moderated_hall": None}
    return Visitor(**{**base, **kw})


BOOTH_ROOM = RoomInfo(10, "booth", "Booth", hall_id=1, booth_id=5, roadshow_id=None,
                      read_only=False, staff_ids=frozenset({2}))
PEOPLE = {
    Role.ANONYMOUS: None,
    Role.GUEST: _visitor(kind="guest"),
    Role.VISITOR: _visitor(),
    Role.STAFF: _visitor(staff_of=frozenset({5})),
    Role.HALL_MODERATOR: _visitor(kind="moderator", is_moderator=True, moderated_hall=1),
    Role.MODERATOR: _visitor(kind="moderator", is_moderator=True),
    Role.ADMIN: _visitor(is_moderator=True, is_admin=True),
}


@pytest.mark.parametrize("role", ROLES)
def test_roles_are_judged_where_people_act(role):
    person = PEOPLE[role]
    assert role_of(person, BOOTH_ROOM) == role
    elsewhere = RoomInfo(11, "booth", "Other", hall_id=2, booth_id=6, roadshow_id=None,
                         read_only=False, staff_ids=frozenset())
    demoted = {Role.STAFF: Role.VISITOR, Role.HALL_MODERATOR: Role.VISITOR}
    assert role_of(person, elsewhere) == demoted.get(role, role)


@pytest.mark.parametrize("permission", list(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_every_role_and_permission(role, permission):
    expected = role in MATRIX[permission][0]
    assert allowed(permission, role) is expected
    # Nobody below a visitor moderates; every moderation power an admin has.
    if permission.startswith("mod.") or permission in ("chat.delete", "roadshow.end"):
        assert not allowed(permission, Role.VISITOR)
        assert not allowed(permission, Role.GUEST)
        assert not allowed(permission, Role.ANONYMOUS)
    assert allowed(permission, Role.ADMIN)


# Every protocol action that a permission guards, tried by each role in the booth room.
ACTION_CASES = [
    ("chat.delete", "chat.delete", lambda w, seq: {"room": w["rooms"]["booth"], "seq": seq}),
    ("mod.mute_room", "mod.mute",
     lambda w, seq: {"user": w["target"], "room": w["rooms"]["booth"], "minutes": 5}),
    ("mod.kick", "mod.kick", lambda w, seq: {"user": w["target"], "room": w["rooms"]["booth"]}),
    ("mod.slow_mode", "mod.slow_mode", lambda w, seq: {"room": w["rooms"]["booth"], "seconds": 0}),
    ("mod.pin", "mod.pin", lambda w, seq: {"room": w["rooms"]["booth"], "seq": seq}),
    ("mod.lock", "mod.lock", lambda w, seq: {"room": w["rooms"]["booth"], "read_only": False}),
    ("mod.announce_room", "mod.announce",
     lambda w, seq: {"scope": "room", "target": w["rooms"]["booth"], "text": "hello"}),
    ("mod.announce_hall", "mod.announce",
     lambda w, seq: {"scope": "hall", "target": w["hall"], "text": "hello"}),
    ("mod.announce_expo", "mod.announce", lambda w, seq: {"scope": "expo", "text": "hello"}),
    ("mod.mute_expo", "mod.mute",
     lambda w, seq: {"user": w["target"], "room": None, "minutes": 5}),
    ("mod.ban", "mod.unban", lambda w, seq: {"user": w["target"]}),
    ("mod.audit", "mod.audit", lambda w, seq: {}),
]


async def person_for(role: Role, world: dict):
    if role is Role.ANONYMOUS:
        return None
    if role is Role.GUEST:
        return await make_user("A Guest", "guest")
    if role is Role.VISITOR:
        return await make_user("A Visitor")
    return {Role.STAFF: world["exhibitor"], Role.HALL_MODERATOR: world["hall_mod"],
            Role.MODERATOR: world["moderator"], Role.ADMIN: world["admin"]}[role]


@pytest.mark.parametrize("role", ROLES)
async def test_guarded_actions_by_role(world, role):
    target = await make_user("Target")
    world["target"] = target.pk
    writer = await in_room(target, world["rooms"]["booth"])
    seq = (await writer.ok("chat.send", {"room": world["rooms"]["booth"], "body": "hi"}))["seq"]
    actor = await in_room(await person_for(role, world), world["rooms"]["booth"])
    for permission, name, make in ACTION_CASES:
        frame = await actor.call(name, make(world, seq))
        if allowed(permission, role):
            assert frame["ok"], (role, name, frame)
        else:
            assert frame["error"]["code"] in ("perm.denied", "auth.required"), (role, name, frame)
    await writer.close()
    await actor.close()


# --- actions and their effects -------------------------------------------------------------------

async def test_delete_leaves_a_tombstone_live_in_history_and_on_resume(world):
    room = world["rooms"]["booth"]
    author = await in_room(await make_user("Author"), room)
    reader = await in_room(await make_user("Reader"), room)
    staff = await in_room(world["exhibitor"], room)
    seq = (await author.ok("chat.send", {"room": room, "body": "rude words"}))["seq"]
    await reader.event("chat.message", match=lambda d: d["seq"] == seq)
    assert await staff.ok("chat.delete", {"room": room, "seq": seq, "reason": "rude"}) == {}
    assert await reader.event("chat.deleted") == {"room": room, "seq": seq}
    history = await reader.ok("chat.history", {"room": room})
    gone = next(m for m in history["messages"] if m["seq"] == seq)
    assert gone["deleted"] is True and gone["body"] == ""
    again = await client()
    data = await again.ok("room.join", {"room": room, "since": seq})
    assert data["deleted"] == [seq]
    assert await staff.error("chat.delete", {"room": room, "seq": 999}) == "message.not_found"
    entry = await database_sync_to_async(AuditEntry.objects.get)(action="chat.delete")
    assert entry.details["body"] == "rude words" and entry.reason == "rude"
    body = await database_sync_to_async(
        lambda: ChatMessage.objects.get(room_id=room, seq=seq).body)()
    assert body == ""
    for c in (author, reader, staff, again):
        await c.close()


async def test_mute_in_a_room_and_expo_wide(world):
    room, far = world["rooms"]["booth"], world["rooms"]["far"]
    user = await make_user("Loud")
    loud = await in_room(user, room)
    await loud.ok("room.join", {"room": far})
    staff = await in_room(world["exhibitor"], room)
    until = (await staff.ok("mod.mute", {"user": user.pk, "room": room, "minutes": 10,
                                         "reason": "spam"}))["until"]
    sanction = await loud.event("sanction")
    assert sanction["kind"] == "mute" and sanction["until"] == until
    frame = await loud.call("chat.send", {"room": room, "body": "hey"})
    assert frame["error"]["code"] == "chat.muted" and frame["error"]["until"] == until
    assert frame["error"]["reason"] == "spam" and frame["error"]["room"] == room
    await loud.ok("chat.send", {"room": far, "body": "still fine elsewhere"})
    mod = await client(world["moderator"])
    await mod.ok("mod.mute", {"user": user.pk, "room": None, "minutes": 5})
    assert await loud.error("chat.send", {"room": far, "body": "x"}) == "chat.muted"
    await mod.ok("mod.unmute", {"user": user.pk, "room": None})
    await staff.ok("mod.unmute", {"user": user.pk, "room": room})
    await loud.ok("chat.send", {"room": room, "body": "back"})
    assert await staff.error("mod.mute", {"user": 999999, "room": room, "minutes": 1}) \
        == "user.not_found"
    for c in (loud, staff, mod):
        await c.close()


async def test_kick_removes_the_user_from_the_room(world):
    room = world["rooms"]["booth"]
    user = await make_user("Kicked")
    kicked = await in_room(user, room)
    staff = await in_room(world["exhibitor"], room)
    await staff.ok("mod.kick", {"user": user.pk, "room": room, "reason": "off topic"})
    sanction = await kicked.event("sanction")
    assert sanction == {"kind": "kick", "room": room, "until": None, "reason": "off topic"}
    for _ in range(50):
        if await kicked.call("chat.send", {"room": room, "body": "x"}) and \
                (await kicked.call("presence.list", {"room": room}))["ok"] is False:
            break
        await asyncio.sleep(0.05)
    assert await kicked.error("chat.send", {"room": room, "body": "x"}) == "room.not_joined"
    await kicked.ok("room.join", {"room": room})  # a kick is not a ban
    for c in (kicked, staff):
        await c.close()


async def test_ban_closes_every_socket_and_refuses_reconnects(world):
    user = await make_user("Banned")
    tabs = [await in_room(user, world["rooms"]["lobby"]) for _ in range(2)]
    mod = await client(world["moderator"])
    await mod.ok("mod.ban", {"user": user.pk, "reason": "abuse", "minutes": None})
    for tab in tabs:
        closing = await tab.event("session.closing")
        assert closing == {"code": "banned", "message": "abuse", "reason": "abuse",
                           "until": None}
        assert (await tab.comm.receive_output(2))["code"] == 4003
    again = WsClient(user)
    from hallserver.asgi import application  # noqa: F401  (WsClient imports it too)

    comm_ok = await _connect_raw(again)
    assert comm_ok["event"] == "session.closing" and comm_ok["data"]["code"] == "banned"
    await mod.ok("mod.unban", {"user": user.pk})
    back = await client(user)
    assert back.ready["data"]["user"]["id"] == user.pk
    assert await mod.error("mod.ban", {"user": world["moderator"].pk}) == "perm.denied"
    await back.close()
    await mod.close()


async def _connect_raw(c: WsClient) -> dict:
    """Connect and return the first frame, whatever it is."""
    from channels.testing import WebsocketCommunicator

    from hallserver.asgi import application
    from tests.wsclient import ORIGIN, session_cookie_for

    headers = [*ORIGIN, (b"cookie", await session_cookie_for(c.user))]
    c.comm = WebsocketCommunicator(application, "/ws/", headers=headers)
    connected, _ = await c.comm.connect()
    assert connected
    return await c.next_frame()


async def test_slow_mode_lock_and_pin_reach_everyone(world):
    room = world["rooms"]["booth"]
    user = await make_user("Chatty")
    chatty = await in_room(user, room)
    staff = await in_room(world["exhibitor"], room)
    mod = await in_room(world["moderator"], room)
    await staff.ok("mod.slow_mode", {"room": room, "seconds": 30})
    update = await chatty.event("room.updated")
    assert update["slow_mode"] == 30 and update["read_only"] is False
    seq = (await chatty.ok("chat.send", {"room": room, "body": "one"}))["seq"]
    frame = await chatty.call("chat.send", {"room": room, "body": "two"})
    assert frame["error"]["code"] == "chat.slow_mode" and 0 < frame["error"]["retry_after"] <= 30
    # A refused message takes no sequence number: the next one follows without a gap.
    assert (await staff.ok("chat.send", {"room": room, "body": "staff are exempt"}))["seq"] \
        == seq + 1
    await staff.ok("chat.send", {"room": room, "body": "twice"})
    await staff.ok("mod.slow_mode", {"room": room, "seconds": 0})
    await mod.ok("mod.lock", {"room": room, "read_only": True})
    assert (await chatty.event("room.updated", match=lambda d: d["read_only"]))["read_only"]
    assert await chatty.error("chat.send", {"room": room, "body": "x"}) == "room.read_only"
    assert (await staff.ok("chat.send", {"room": room, "body": "staff can still talk"}))[
        "seq"] == seq + 3
    await mod.ok("mod.lock", {"room": room, "read_only": False})
    await staff.ok("mod.pin", {"room": room, "seq": seq})
    pinned = await chatty.event("room.updated", match=lambda d: d["pinned"] is not None)
    assert pinned["pinned"]["seq"] == seq and pinned["pinned"]["body"] == "one"
    newcomer = await client()
    data = await newcomer.ok("room.join", {"room": room})
    assert data["room"]["pinned"]["seq"] == seq
    assert await staff.error("mod.lock", {"room": room, "read_only": True}) == "perm.denied"
    for c in (chatty, staff, mod, newcomer):
        await c.close()


async def test_announcements_by_scope(world):
    room, far = world["rooms"]["booth"], world["rooms"]["far"]
    near = await in_room(await make_user("Near"), room)
    away = await in_room(await make_user("Away"), far)
    mod = await client(world["moderator"])
    hall_mod = await client(world["hall_mod"])
    await hall_mod.ok("mod.announce", {"scope": "hall", "target": world["hall"],
                                       "text": "Hall closes at six"})
    assert (await near.event("announcement"))["text"] == "Hall closes at six"
    assert await hall_mod.error("mod.announce", {"scope": "expo", "text": "x"}) == "perm.denied"
    await mod.ok("mod.announce", {"scope": "expo", "text": "Welcome all"})
    for c in (near, away):
        got = await c.event("announcement", match=lambda d: d["scope"] == "expo")
        assert got["text"] == "Welcome all" and got["by"]["id"] == world["moderator"].pk
    await away.drain(0.3)
    assert not [f for f in away.events if f.get("event") == "announcement"
                and f["data"]["scope"] == "hall"]
    for c in (near, away, mod, hall_mod):
        await c.close()


async def test_roadshow_end(world):
    room = world["rooms"]["roadshow"]
    viewer = await in_room(await make_user("Viewer"), room)
    mod = await client(world["moderator"])
    assert await mod.ok("roadshow.end", {"roadshow": world["roadshow"]}) == {
        "roadshow": world["roadshow"], "state": "ended"}
    state = await viewer.event("roadshow.state")
    assert state == {"roadshow": world["roadshow"], "room": room, "state": "ended"}
    assert await mod.error("roadshow.end", {"roadshow": world["roadshow"]}) == "roadshow.ended"
    assert await mod.error("roadshow.end", {"roadshow": 999999}) == "roadshow.not_found"
    (entry,) = await audit_actions("roadshow.end")
    assert entry["actor_id"] == world["moderator"].pk and entry["room_id"] == room
    await viewer.close()
    await mod.close()


@database_sync_to_async
def roadshow_state(pk: int) -> str:
    return Roadshow.objects.get(pk=pk).state


@database_sync_to_async
def make_presenter(world: dict):
    """A named presenter who is not staff of the roadshow's booth."""
    user = get_user_model().objects.create_user("guestspeaker")
    Profile.objects.create(user=user, display_name="Guest Speaker", kind="visitor")
    Roadshow.objects.filter(pk=world["roadshow"]).update(presenter=user)
    return user


@database_sync_to_async
def make_roadshow_staff(world: dict):
    """A staff member of the roadshow's booth (who is not its presenter)."""
    user = get_user_model().objects.create_user("showstaff")
    Profile.objects.create(user=user, display_name="Show Staff", kind="exhibitor")
    BoothStaff.objects.create(booth=Roadshow.objects.get(pk=world["roadshow"]).booth, user=user)
    return user


@database_sync_to_async
def make_far_hall_moderator(world: dict):
    user = get_user_model().objects.create_user("farmod")
    Profile.objects.create(user=user, display_name="Far Mod", kind="moderator",
                           moderated_hall=Hall.objects.exclude(pk=world["hall"]).first())
    return user


async def test_one_roadshow_end_for_presenters_and_moderators(world):
    """roadshow.end is the one way to end a roadshow: its presenter, its booth's staff and the
    moderators of its hall may; everyone else is refused and nothing changes."""
    show = {"roadshow": world["roadshow"]}
    refused = [
        (None, "auth.required"),
        (await make_user("A Guest", "guest"), "perm.denied"),
        (await make_user("A Visitor"), "perm.denied"),
        (await make_other_booth_staff(world), "perm.denied"),
        (await make_far_hall_moderator(world), "perm.denied"),
    ]
    for person, code in refused:
        c = await client(person)
        assert await c.error("roadshow.end", show) == code, person
        await c.close()
    assert await roadshow_state(world["roadshow"]) == "live"
    assert await audit_actions("roadshow.end") == []
    enders = [await make_roadshow_staff(world), await make_presenter(world), world["hall_mod"],
              world["moderator"], world["admin"]]
    for person in enders:
        await database_sync_to_async(
            Roadshow.objects.filter(pk=world["roadshow"]).update)(state="live")
        c = await client(person)
        assert (await c.ok("roadshow.end", show))["state"] == "ended", person
        await c.close()
        assert await roadshow_state(world["roadshow"]) == "ended"
    assert [e["actor_id"] for e in await audit_actions("roadshow.end")] == [
        p.pk for p in enders]


async def test_reports_feed_and_console(world):
    room = world["rooms"]["booth"]
    console = await in_room(world["moderator"], world["rooms"]["mod"])
    user = await make_user("Reporter")
    reporter = await in_room(user, room)
    author = await in_room(await make_user("Troll"), room)
    seq = (await author.ok("chat.send", {"room": room, "body": "nasty"}))["seq"]
    feed = await console.event("mod.feed", match=lambda d: d["seq"] == seq)
    assert feed["room"] == room and feed["body"] == "nasty"
    report_id = (await reporter.ok("chat.report", {"room": room, "seq": seq,
                                                   "reason": "insult"}))["report"]
    report = await console.event("mod.report")
    assert report["id"] == report_id and report["message"]["body"] == "nasty"
    listed = await console.ok("mod.reports", {"status": "open"})
    assert [r["id"] for r in listed["reports"]] == [report_id]
    await console.ok("mod.resolve", {"report": report_id, "delete": True})
    assert await reporter.event("chat.deleted") == {"room": room, "seq": seq}
    assert (await console.ok("mod.reports", {"status": "open"}))["reports"] == []
    rooms = (await console.ok("mod.rooms", {}))["rooms"]
    row = next(r for r in rooms if r["id"] == room)
    assert row["count"] == 2 and row["messages_5min"] == 1
    staff_rooms = (await (await client(world["exhibitor"])).ok("mod.rooms", {}))["rooms"]
    assert {r["booth"] for r in staff_rooms} == {world["booth"].pk}
    audit = await console.ok("mod.audit", {"action": "chat.delete"})
    assert audit["entries"][0]["actor"]["id"] == world["moderator"].pk
    assert await reporter.error("mod.reports", {}) == "perm.denied"
    assert await reporter.error("chat.report", {"room": room, "seq": 999}) == "message.not_found"
    visitor = await client(user)
    assert await visitor.error("room.join", {"room": world["rooms"]["mod"]}) == "room.forbidden"
    for c in (console, reporter, author, visitor):
        await c.close()


async def test_word_filter_blocks_or_holds(world):
    room = world["rooms"]["booth"]
    await database_sync_to_async(FilteredWord.objects.create)(word="BadWord", action="block")
    await database_sync_to_async(FilteredWord.objects.create)(word="spamlink", action="hold")
    console = await in_room(world["moderator"], world["rooms"]["mod"])
    user = await in_room(await make_user("Filtered"), room)
    reader = await in_room(await make_user("Reader2"), room)
    assert await user.error("chat.send", {"room": room, "body": "a badword here"}) \
        == "chat.blocked"
    assert await user.ok("chat.send", {"room": room, "body": "see SPAMLINK now"}) == {"held": True}
    held = await console.event("mod.held")
    assert held["word"] == "spamlink" and held["body"] == "see SPAMLINK now"
    assert [h["id"] for h in (await console.ok("mod.held", {}))["held"]] == [held["id"]]
    released = await console.ok("mod.release", {"held": held["id"], "approve": True})
    msg = await reader.event("chat.message", match=lambda d: d["seq"] == released["seq"])
    assert msg["body"] == "see SPAMLINK now" and msg["user"]["name"] == "Filtered"
    assert await console.error("mod.release", {"held": held["id"], "approve": True}) \
        == "held.not_found"
    for c in (console, user, reader):
        await c.close()


async def test_questions_wait_for_approval_then_rank_by_votes(world):
    room = world["rooms"]["roadshow"]
    asker = await in_room(await make_user("Asker"), room)
    voter = await in_room(await make_user("Voter"), room)
    presenter = await in_room(world["exhibitor"], room)
    q1 = (await asker.ok("qa.ask", {"room": room, "body": "How big is the market?"}))["question"]
    q2 = (await asker.ok("qa.ask", {"room": room, "body": "When do you ship?"}))["question"]
    assert q1["status"] == "pending"
    assert (await presenter.event("qa.question"))["id"] == q1["id"]
    assert (await voter.ok("qa.list", {"room": room}))["questions"] == []
    assert len((await presenter.ok("qa.list", {"room": room}))["questions"]) == 2
    assert await voter.error("qa.vote", {"question": q1["id"], "up": True}) \
        == "question.not_found"
    for q in (q1, q2):
        await presenter.ok("qa.moderate", {"question": q["id"], "status": "approved"})
    assert (await voter.event("qa.question"))["status"] == "approved"
    assert (await voter.ok("qa.vote", {"question": q2["id"], "up": True}))["votes"] == 1
    assert (await voter.ok("qa.vote", {"question": q2["id"], "up": True}))["votes"] == 1
    listing = (await voter.ok("qa.list", {"room": room}))["questions"]
    assert [q["id"] for q in listing] == [q2["id"], q1["id"]] and listing[0]["voted"] is True
    await presenter.ok("qa.moderate", {"question": q2["id"], "status": "answered"})
    assert await asker.error("qa.moderate", {"question": q1["id"], "status": "answered"}) \
        == "perm.denied"
    statuses = await database_sync_to_async(
        lambda: dict(Question.objects.values_list("pk", "status")))()
    assert statuses == {q1["id"]: "approved", q2["id"]: "answered"}
    assert await asker.error("qa.ask", {"room": world["rooms"]["booth"], "body": "x"}) \
        == "room.not_joined"
    for c in (asker, voter, presenter):
        await c.close()


# --- automatic protection ------------------------------------------------------------------------

async def test_rate_limits_per_user(world, settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "RATE_CHAT_USER": "3/minute"}
    room = world["rooms"]["booth"]
    c = await in_room(await make_user("Fast"), room)
    for i in range(3):
        await c.ok("chat.send", {"room": room, "body": f"m{i}"})
    frame = await c.call("chat.send", {"room": room, "body": "one too many"})
    assert frame["error"]["code"] == "rate.limited" and frame["error"]["retry_after"] > 0
    await c.ok("ping", {})  # the connection carries on
    other = await in_room(await make_user("Calm"), room)
    await other.ok("chat.send", {"room": room, "body": "others are not limited"})
    await c.close()
    await other.close()


async def test_rate_limits_per_address(world, settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "RATE_CHAT_ADDRESS": "2/minute"}
    room = world["rooms"]["booth"]
    same_place = []
    for name in ("Office A", "Office B"):
        c = WsClient(await make_user(name))
        await c.connect_from(("203.0.113.7", 40000 + len(same_place)))
        await c.ok("room.join", {"room": room})
        same_place.append(c)
    await same_place[0].ok("chat.send", {"room": room, "body": "one"})
    await same_place[1].ok("chat.send", {"room": room, "body": "two"})
    assert await same_place[1].error("chat.send", {"room": room, "body": "three"}) \
        == "rate.limited"
    elsewhere = WsClient(await make_user("Home"))
    await elsewhere.connect_from(("198.51.100.9", 5000))
    await elsewhere.ok("room.join", {"room": room})
    await elsewhere.ok("chat.send", {"room": room, "body": "another address"})
    for c in (*same_place, elsewhere):
        await c.close()


async def test_rate_limit_per_connection(world, settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "RATE_ACTIONS_CONNECTION": "5/minute"}
    c = await client()
    codes = [(await c.call("ping", {}))["ok"] for _ in range(7)]
    assert codes == [True] * 5 + [False] * 2
    await c.close()


async def test_connection_cap_per_user(world, settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "MAX_CONNECTIONS_PER_USER": 2}
    user = await make_user("Many tabs")
    first, second = await client(user), await client(user)
    third = WsClient(user)
    frame = await _connect_raw(third)
    assert frame == {"event": "session.closing", "data": {
        "code": "too_many_connections",
        "message": "Too many open connections for this user; close another tab."}}
    assert (await third.comm.receive_output(2))["code"] == 4009
    await first.close()  # returns once the server has run the disconnect
    fourth = await client(user)  # a slot is free again
    await second.close()
    await fourth.close()


async def test_oversize_inputs_are_refused(world):
    room = world["rooms"]["booth"]
    c = await in_room(await make_user("Verbose"), room)
    seq = (await c.ok("chat.send", {"room": room, "body": "ok"}))["seq"]
    assert await c.error("chat.report", {"room": room, "seq": seq, "reason": "x" * 501}) \
        == "frame.invalid"
    mod = await in_room(world["moderator"], room)
    assert await mod.error("mod.announce", {"scope": "expo", "text": "x" * 1001}) \
        == "frame.invalid"
    roadshow = await in_room(await make_user("Q"), world["rooms"]["roadshow"])
    assert await roadshow.error("qa.ask", {"room": world["rooms"]["roadshow"],
                                           "body": "x" * 501}) == "frame.invalid"
    for x in (c, mod, roadshow):
        await x.close()


async def test_staff_keep_only_their_own_booth(world):
    far = world["rooms"]["far"]
    staff = await in_room(world["exhibitor"], far)
    user = await make_user("Elsewhere")
    await (await in_room(user, far)).ok("chat.send", {"room": far, "body": "hi"})
    assert await staff.error("chat.delete", {"room": far, "seq": 1}) == "perm.denied"
    assert await staff.error("mod.kick", {"user": user.pk, "room": far}) == "perm.denied"
    other = await database_sync_to_async(Booth.objects.exclude(pk=world["booth"].pk).first)()
    await database_sync_to_async(BoothStaff.objects.create)(booth=other, user=user)
    await staff.close()


def test_sanctions_in_force_answers_what_active_answers_in_one_query(django_assert_num_queries):
    from datetime import timedelta

    from django.utils import timezone

    from booths.services import sanctions

    seed_demo()
    user = get_user_model().objects.create_user(username="sanctioned")
    here, there = Room.objects.order_by("pk").values_list("pk", flat=True)[:2]
    now = timezone.now()

    def check() -> None:
        with django_assert_num_queries(1):
            mute, ban = sanctions.in_force(user.pk, here, now)
        assert mute == sanctions.active(user.pk, Sanction.Kind.MUTE, here, now)
        assert ban == sanctions.active(user.pk, Sanction.Kind.BAN, None, now)

    check()  # nothing
    make = Sanction.objects.create
    make(kind="mute", user=user, room_id=there)  # another room's mute does not count
    make(kind="mute", user=user, room_id=here, lifted_at=now)  # lifted
    make(kind="ban", user=user, until=now - timedelta(minutes=1))  # expired
    check()
    assert sanctions.in_force(user.pk, here, now) == (None, None)
    make(kind="mute", user=user, room_id=here, until=now + timedelta(minutes=5))
    make(kind="mute", user=user, until=now + timedelta(minutes=9))  # expo-wide, longer
    check()
    assert sanctions.in_force(user.pk, here, now)[0].until == now + timedelta(minutes=9)
    make(kind="ban", user=user)
    check()
    assert sanctions.in_force(user.pk, there, now)[1] is not None


@database_sync_to_async
def make_other_booth_staff(world: dict):
    """A staff member of a booth other than the world's (booth staff keep only their own)."""
    user = get_user_model().objects.create_user("otherstaff")
    Profile.objects.create(user=user, display_name="Other Staff", kind="exhibitor")
    show_booth = Roadshow.objects.get(pk=world["roadshow"]).booth_id
    other = Booth.objects.exclude(pk__in=[world["booth"].pk, show_booth]).first()
    BoothStaff.objects.create(booth=other, user=user)
    return user


@database_sync_to_async
def held_ids() -> list[int]:
    from booths.models import HeldMessage

    return list(HeldMessage.objects.order_by("pk").values_list("pk", flat=True))


@database_sync_to_async
def audit_actions(action: str) -> list[dict]:
    return list(AuditEntry.objects.filter(action=action).order_by("pk")
                .values("actor_id", "room_id", "details"))


async def test_release_by_staff_of_another_booth_is_refused_and_changes_nothing(world):
    """mod.release checks the caller's right on the held message's room before touching it:
    a refused release neither posts nor drops the message, and writes no audit entry."""
    room = world["rooms"]["booth"]
    await database_sync_to_async(FilteredWord.objects.create)(word="spamlink", action="hold")
    author = await in_room(await make_user("Held Author"), room)
    assert await author.ok("chat.send", {"room": room, "body": "spamlink one"}) == {"held": True}
    assert await author.ok("chat.send", {"room": room, "body": "spamlink two"}) == {"held": True}
    first, second = await held_ids()
    outsiders = [await client(await make_other_booth_staff(world)),
                 await client(await make_far_hall_moderator(world)),
                 await client(await make_user("Plain Visitor"))]
    for outsider in outsiders:
        for approve in (False, True):
            for held in (first, second):
                assert await outsider.error("mod.release", {"held": held, "approve": approve}) \
                    == "perm.denied"
    assert await held_ids() == [first, second]
    assert await audit_actions("mod.release") == []
    # The booth's own staff may release and discard, and each is audited.
    staff = await client(world["exhibitor"])
    assert "seq" in await staff.ok("mod.release", {"held": first, "approve": True})
    assert await staff.ok("mod.release", {"held": second, "approve": False}) == {}
    assert await held_ids() == []
    entries = await audit_actions("mod.release")
    assert [(e["actor_id"], e["room_id"], e["details"]["approve"]) for e in entries] == [
        (world["exhibitor"].pk, room, True), (world["exhibitor"].pk, room, False)]
    assert await staff.error("mod.release", {"held": first, "approve": True}) == "held.not_found"
    for c in (author, staff, *outsiders):
        await c.close()


async def test_a_retried_held_send_is_queued_once_and_answered_as_decided(world):
    """A send the word filter holds, retried with its client_id (a lost reply): one entry in
    the queue and one mod.held; once released, a retry gets the stored message's seq; once
    dropped, a retry is not queued again."""
    room = world["rooms"]["booth"]
    await database_sync_to_async(FilteredWord.objects.create)(word="spamlink", action="hold")
    console = await in_room(world["moderator"], world["rooms"]["mod"])
    author = await in_room(await make_user("Retrier"), room)
    send = {"room": room, "body": "spamlink please", "client_id": "r-1"}
    assert await author.ok("chat.send", send) == {"held": True}
    held = await console.event("mod.held")
    assert await author.ok("chat.send", send) == {"held": True}
    assert await held_ids() == [held["id"]]
    # The retry announced nothing: the next mod.held the console sees is another message's.
    assert await author.ok("chat.send", {**send, "client_id": "r-2"}) == {"held": True}
    other = await console.event("mod.held")
    assert other["id"] != held["id"]
    assert [h["id"] for h in (await console.ok("mod.held", {}))["held"]] == [held["id"],
                                                                             other["id"]]
    released = await console.ok("mod.release", {"held": held["id"], "approve": True})
    again = await author.ok("chat.send", send)
    assert again["seq"] == released["seq"]
    assert await console.ok("mod.release", {"held": other["id"], "approve": False}) == {}
    assert await author.ok("chat.send", {**send, "client_id": "r-2"}) == {"held": True}
    assert (await console.ok("mod.held", {}))["held"] == []
    assert await console.error("mod.release", {"held": other["id"], "approve": True}) \
        == "held.not_found"
    for c in (console, author):
        await c.close()
