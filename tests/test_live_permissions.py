"""Live video through the one permission module: every call.*, lead.* and roadshow.* action
has its row in docs/permissions.md, and each refusal is tried role by role through the
consumer (one process, in-memory channel layer and store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from booths import actions
from booths.models import Booth, BoothStaff, Profile, Roadshow
from booths.permissions import LIVE, MATRIX, markdown_table
from booths.seed import seed_demo
from streaming import store as store_module
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
LIVE_PREFIXES = ("call.", "lead.", "roadshow.")
OFFER = "\r\n".join([
    "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:0",
    "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 00:11:22", "a=setup:actpass", "a=rtpmap:96 VP8/90000", "",
])
#: Everyone who is not staff of the booth, with the role the booth sees in them.
OUTSIDERS = ["anonymous", "guest", "visitor", "other staff", "hall moderator", "moderator",
             "admin"]


def test_every_live_action_has_a_row_in_the_permission_module():
    live_actions = {name for name in actions.HANDLERS if name.startswith(LIVE_PREFIXES)}
    assert live_actions == set(LIVE) | {"roadshow.end"}
    assert "roadshow.end" in MATRIX and "roadshow.end" not in LIVE


def test_docs_permissions_has_the_live_table():
    doc = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert markdown_table(LIVE) in doc


@pytest.fixture(autouse=True)
def _fresh_live_state(settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "KNOCK_TIMEOUT": 30.0}
    store_module.store.cache_clear()
    yield
    store_module.store.cache_clear()


@database_sync_to_async
def make_world() -> dict:
    seed_demo()
    User = get_user_model()
    exhibitor = User.objects.get(username="exhibitor")
    booth = Booth.objects.get(boothstaff__user=exhibitor)

    def person(name: str, kind: str, **profile) -> object:
        user = User.objects.create_user(username=name.replace(" ", ""))
        Profile.objects.create(user=user, display_name=name, kind=kind, **profile)
        return user

    other_staff = person("other staff", "exhibitor")
    BoothStaff.objects.create(booth=Booth.objects.exclude(pk=booth.pk).first(), user=other_staff)
    admin = User.objects.get(username="admin")
    assert not BoothStaff.objects.filter(booth=booth, user=admin).exists()
    roadshow = Roadshow.objects.filter(booth=booth).first()
    Roadshow.objects.filter(pk=roadshow.pk).update(state=Roadshow.State.SCHEDULED)
    return {
        "booth": booth.pk, "roadshow": roadshow.pk, "exhibitor": exhibitor,
        "people": {
            "anonymous": None,
            "guest": person("a guest", "guest"),
            "visitor": person("a visitor", "visitor"),
            "other staff": other_staff,
            "hall moderator": person("hall moderator", "moderator", moderated_hall=booth.hall),
            "moderator": User.objects.get(username="moderator"),
            "admin": admin,
        },
        "ada": person("Ada", "visitor"),
        "bob": person("Bob", "visitor"),
    }


@database_sync_to_async
def roadshow_state(pk: int) -> str:
    return Roadshow.objects.get(pk=pk).state


async def clients(world: dict) -> dict[str, WsClient]:
    return {role: await WsClient(user).connect() for role, user in world["people"].items()}


async def test_booth_staff_actions_refuse_everyone_else():
    world = await make_world()
    booth = world["booth"]
    staff = await WsClient(world["exhibitor"]).connect()
    await staff.ok("call.listen", {"booths": [booth]})
    ada = await WsClient(world["ada"]).connect()
    await ada.ok("call.knock", {"booth": booth})
    knock = (await staff.event("call.knocks", match=lambda d: d["knocks"]))["knocks"][0]["knock"]
    call = (await staff.ok("call.accept", {"knock": knock}))["call"]
    bob = await WsClient(world["bob"]).connect()
    waiting = (await bob.ok("call.knock", {"booth": booth}))["knock"]
    others = await clients(world)
    cases = [
        ("call.listen", {"booths": [booth]}, "call.forbidden"),
        ("call.accept", {"knock": waiting}, "call.forbidden"),
        ("call.accept", {"knock": waiting, "call": call}, "call.forbidden"),
        ("call.decline", {"knock": waiting}, "call.forbidden"),
        ("call.join", {"call": call}, "call.forbidden"),
        ("lead.list", {"booth": booth}, "call.forbidden"),
        ("roadshow.start", {"roadshow": world["roadshow"]}, "roadshow.forbidden"),
        ("roadshow.publish", {"roadshow": world["roadshow"], "sdp": OFFER},
         "roadshow.forbidden"),
    ]
    for name, data, code in cases:
        for role in OUTSIDERS:
            expected = "auth.required" if role == "anonymous" else code
            assert await others[role].error(name, data) == expected, (name, role)
    # Nothing changed: Bob still waits, the call is Ada's and the staff member's, the
    # roadshow is still scheduled; the booth's staff may do each of them.
    queue = await staff.ok("call.listen", {"booths": [booth]})
    assert [k["knock"] for k in queue["queues"][0]["knocks"]] == [waiting]
    assert [len(c["participants"]) for c in queue["calls"]] == [2]
    assert await roadshow_state(world["roadshow"]) == "scheduled"
    assert (await staff.ok("lead.list", {"booth": booth}))["leads"] == []
    await staff.ok("call.decline", {"knock": waiting})
    assert (await staff.ok("roadshow.start", {"roadshow": world["roadshow"]}))["state"] == "live"
    for c in (staff, ada, bob, *others.values()):
        await c.close()


async def test_knocking_refuses_the_booths_own_staff_and_anonymous():
    world = await make_world()
    booth = world["booth"]
    staff = await WsClient(world["exhibitor"]).connect()
    await staff.ok("call.listen", {"booths": [booth]})
    assert await staff.error("call.knock", {"booth": booth}) == "call.forbidden"
    others = await clients(world)
    assert await others["anonymous"].error("call.knock", {"booth": booth}) == "auth.required"
    for role in OUTSIDERS[1:]:  # every person who does not staff the booth may knock
        assert "knock" in await others[role].ok("call.knock", {"booth": booth}), role
        await others[role].close()
    await staff.close()
    await others["anonymous"].close()


async def test_own_knock_and_call_actions_refuse_anonymous_and_strangers():
    world = await make_world()
    booth = world["booth"]
    staff = await WsClient(world["exhibitor"]).connect()
    await staff.ok("call.listen", {"booths": [booth]})
    ada = await WsClient(world["ada"]).connect()
    await ada.ok("call.knock", {"booth": booth})
    knock = (await staff.event("call.knocks", match=lambda d: d["knocks"]))["knocks"][0]["knock"]
    call = (await staff.ok("call.accept", {"knock": knock}))["call"]
    bob = await WsClient(world["bob"]).connect()
    waiting = (await bob.ok("call.knock", {"booth": booth}))["knock"]
    anonymous = await WsClient().connect()
    stranger = await WsClient(world["people"]["visitor"]).connect()
    signal = {"call": call, "type": "candidate", "candidate": None}
    cases = [
        ("call.cancel", {"knock": waiting}),
        ("call.signal", signal),
        ("call.hangup", {"call": call}),
        ("call.resume", {"call": call}),
    ]
    for name, data in cases:
        assert await anonymous.error(name, data) == "auth.required", name
        assert await stranger.error(name, data) == "call.not_found", name
    assert await anonymous.error("lead.create", {"booth": booth, "contact": "a@b.c"}) \
        == "auth.required"
    # Both still stand for their own parties.
    await ada.ok("call.signal", signal)
    await bob.ok("call.cancel", {"knock": waiting})
    for c in (staff, ada, bob, anonymous, stranger):
        await c.close()


async def test_roadshow_actions_open_to_everyone_are_not_refused_by_role():
    world = await make_world()
    rs = {"roadshow": world["roadshow"]}
    others = await clients(world)
    for role, c in others.items():
        await c.ok("call.config", {})
        assert (await c.ok("roadshow.recordings", rs))["recordings"] == []
        # What is left to refuse is the roadshow's state or the client's own doing.
        assert await c.error("roadshow.view", {**rs, "sdp": OFFER}) == "roadshow.not_live"
        assert await c.error("roadshow.leave", rs) == "roadshow.not_found"
        expected = "auth.required" if role == "anonymous" else "roadshow.not_live"
        assert await c.error("roadshow.react", {**rs, "emoji": "👏"}) == expected, role
        await c.close()
