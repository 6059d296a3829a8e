"""Booth video calls and leads through the consumer: every live-video call action, event and
error code, in one process (in-memory channel layer and store)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from booths.models import Booth, Profile
from booths.seed import seed_demo
from streaming import store as store_module
from streaming.turn import ice_servers, turn_credentials
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]

OFFER = "\r\n".join([
    "v=0", "o=- 1 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=mid:0",
    "a=ice-ufrag:abcd", "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    "a=fingerprint:sha-256 00:11:22", "a=setup:actpass", "a=rtpmap:96 VP8/90000", "",
])


@pytest.fixture(autouse=True)
def _fresh_live_state(settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "KNOCK_TIMEOUT": 30.0, "RECONNECT_GRACE": 0.5}
    store_module.store.cache_clear()
    yield
    store_module.store.cache_clear()


@database_sync_to_async
def make_world():
    seed_demo()
    User = get_user_model()
    exhibitor = User.objects.get(username="exhibitor")
    booth = Booth.objects.get(boothstaff__user=exhibitor)
    other = Booth.objects.exclude(pk=booth.pk).filter(boothstaff__isnull=True).first()
    users = {}
    for name in ("Ada", "Bob"):
        user = User.objects.create_user(username=name.lower(), password=None)
        Profile.objects.create(user=user, display_name=name, kind=Profile.Kind.VISITOR)
        users[name] = user
    return {"booth": booth.pk, "other": other.pk, "exhibitor": exhibitor, **users}


@pytest.fixture
async def world():
    return await make_world()


async def connected(user=None) -> WsClient:
    return await WsClient(user).connect()


async def staff_listening(world) -> WsClient:
    staff = await connected(world["exhibitor"])
    data = await staff.ok("call.listen", {"booths": [world["booth"]]})
    assert data["queues"] == [{"booth": world["booth"], "knocks": []}]
    return staff


# --- TURN and ICE ------------------------------------------------------------------------------

def test_turn_credentials_follow_coturn_rest_scheme():
    username, password = turn_credentials("s3cret", 42, ttl=3600, now=1_700_000_000)
    assert username == "1700003600:42"
    expected = base64.b64encode(
        hmac.new(b"s3cret", b"1700003600:42", hashlib.sha1).digest()).decode()
    assert password == expected


def test_ice_servers_come_from_settings(settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "ICE_SERVERS": [{"urls": ["stun:s:3478"]}],
                           "TURN_URLS": ["turn:t:3478?transport=udp"], "TURN_SECRET": "x"}
    stun, turn = ice_servers(7)
    assert stun == {"urls": ["stun:s:3478"]}
    assert turn["urls"] == ["turn:t:3478?transport=udp"]
    assert turn["username"].endswith(":7") and turn["credential"]
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "ICE_SERVERS": [], "TURN_URLS": []}
    assert ice_servers(7) == []


async def test_call_config_hands_out_ice_servers(world, settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "TURN_URLS": ["turn:t:3478"],
                           "TURN_SECRET": "x"}
    ada = await connected(world["Ada"])
    (turn,) = (await ada.ok("call.config", {}))["ice_servers"]
    assert turn["username"].split(":")[1] == str(world["Ada"].pk)
    await ada.close()


# --- knocking ------------------------------------------------------------------------------------

async def test_knock_queue_accept_signal_hangup(world):
    staff = await staff_listening(world)
    ada, bob = await connected(world["Ada"]), await connected(world["Bob"])

    first = await ada.ok("call.knock", {"booth": world["booth"]})
    assert first["position"] == 1 and first["timeout"] == 30.0
    queue = await staff.event("call.knocks", match=lambda d: len(d["knocks"]) == 1)
    assert queue["knocks"][0]["user"]["name"] == "Ada"
    second = await bob.ok("call.knock", {"booth": world["booth"]})
    assert second["position"] == 2
    # Knocking again from the same connection gives the same knock.
    again = await ada.ok("call.knock", {"booth": world["booth"]})
    assert again["knock"] == first["knock"] and again["position"] == 1

    accepted = await staff.ok("call.accept", {"knock": first["knock"]})
    assert accepted["role"] == "offerer" and accepted["peer"]["name"] == "Ada"
    call = accepted["call"]
    event = await ada.event("call.accepted")
    assert event == {"call": call, "booth": world["booth"], "role": "answerer",
                     "peer": {"id": world["exhibitor"].pk, "name": "Erik Exhibitor"}}
    # Bob moves up.
    assert (await bob.event("call.queue", match=lambda d: d["position"] == 1))["knock"] == \
        second["knock"]

    await staff.ok("call.signal", {"call": call, "type": "offer", "sdp": OFFER})
    got = await ada.event("call.signal")
    assert got == {"call": call, "type": "offer", "sdp": OFFER}
    await ada.ok("call.signal", {"call": call, "type": "answer", "sdp": OFFER})
    assert (await staff.event("call.signal"))["type"] == "answer"
    candidate = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host",
                 "sdpMid": "0", "sdpMLineIndex": 0}
    await ada.ok("call.signal", {"call": call, "type": "candidate", "candidate": candidate})
    got = await staff.event("call.signal", match=lambda d: d["type"] == "candidate")
    assert got["candidate"] == {**candidate, "usernameFragment": None}
    await ada.ok("call.signal", {"call": call, "type": "candidate", "candidate": None})
    assert (await staff.event("call.signal"))["candidate"] is None

    # The staff member is busy, Ada too.
    assert await staff.error("call.accept", {"knock": second["knock"]}) == "call.busy"
    assert await ada.error("call.knock", {"booth": world["booth"]}) == "call.busy"

    await ada.ok("call.hangup", {"call": call})
    assert await staff.event("call.ended") == {"call": call, "reason": "hangup"}
    assert await ada.error("call.signal", {"call": call, "type": "offer", "sdp": OFFER}) == \
        "call.not_found"
    # Free again: the next knock can be taken.
    assert (await staff.ok("call.accept", {"knock": second["knock"]}))["peer"]["name"] == "Bob"
    for c in (staff, ada, bob):
        await c.close()


async def test_decline_cancel_and_timeout(world, settings):
    staff = await staff_listening(world)
    ada, bob = await connected(world["Ada"]), await connected(world["Bob"])
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    await staff.ok("call.decline", {"knock": knock})
    assert await ada.event("call.knock_closed") == {"knock": knock, "booth": world["booth"],
                                                     "reason": "declined"}
    assert await staff.error("call.decline", {"knock": knock}) == "call.not_found"

    knock = (await bob.ok("call.knock", {"booth": world["booth"]}))["knock"]
    assert await ada.error("call.cancel", {"knock": knock}) == "call.not_found"
    await bob.ok("call.cancel", {"knock": knock})
    await staff.event("call.knocks", match=lambda d: d["knocks"] == [])
    assert await staff.error("call.accept", {"knock": knock}) == "call.not_found"

    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "KNOCK_TIMEOUT": 0.3}
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    closed = await ada.event("call.knock_closed", within=5)
    assert closed == {"knock": knock, "booth": world["booth"], "reason": "timeout"}
    for c in (staff, ada, bob):
        await c.close()


async def test_knock_errors(world):
    anon = await connected()
    assert await anon.error("call.knock", {"booth": world["booth"]}) == "auth.required"
    ada = await connected(world["Ada"])
    assert await ada.error("call.knock", {"booth": 999999}) == "call.booth_not_found"
    # Nobody listens for the booth: leave a lead instead.
    assert await ada.error("call.knock", {"booth": world["booth"]}) == "call.no_staff"
    staff = await staff_listening(world)
    assert await staff.error("call.knock", {"booth": world["booth"]}) == "call.forbidden"
    assert await ada.error("call.listen", {"booths": [world["booth"]]}) == "call.forbidden"
    assert await ada.error("call.accept", {"knock": "nope"}) == "call.not_found"
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    # Only staff of the booth accept or decline.
    bob = await connected(world["Bob"])
    assert await bob.error("call.accept", {"knock": knock}) == "call.forbidden"
    assert await bob.error("call.decline", {"knock": knock}) == "call.forbidden"
    assert await ada.error("call.knock", {"booth": 0}) == "frame.invalid"
    for c in (anon, ada, bob, staff):
        await c.close()


async def test_bad_signalling_is_refused(world):
    staff = await staff_listening(world)
    ada, bob = await connected(world["Ada"]), await connected(world["Bob"])
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    call = (await staff.ok("call.accept", {"knock": knock}))["call"]
    for sdp in ("hello", "v=0\r\nnot sdp\r\n", "v=0\r\ns=-\r\n",
                OFFER.replace("a=fingerprint", "a=finger"), "v=0\r\na=" + "x" * 14400):
        assert await staff.error("call.signal", {"call": call, "type": "offer", "sdp": sdp}) \
            == "sdp.invalid"
    assert await staff.error("call.signal", {"call": call, "type": "offer"}) == "frame.invalid"
    assert await staff.error("call.signal", {"call": call, "type": "rollback", "sdp": OFFER}) \
        == "frame.invalid"
    # Not a party of the call, or no such call.
    assert await bob.error("call.signal", {"call": call, "type": "offer", "sdp": OFFER}) == \
        "call.not_found"
    assert await bob.error("call.hangup", {"call": call}) == "call.not_found"
    assert await bob.error("call.resume", {"call": call}) == "call.not_found"
    assert await ada.error("call.signal", {"call": "x" * 33, "type": "offer", "sdp": OFFER}) \
        == "frame.invalid"
    for c in (staff, ada, bob):
        await c.close()


async def test_peer_gone_and_reconnect(world, settings):
    # The reconnect is well within the grace whatever the machine's speed; the second drop,
    # meant to outlast it, gets a short grace and waits for its end (the event).
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "RECONNECT_GRACE": 60.0}
    staff = await staff_listening(world)
    ada = await connected(world["Ada"])
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    call = (await staff.ok("call.accept", {"knock": knock}))["call"]
    await ada.event("call.accepted")

    # Ada's socket drops; she comes back within the grace period on a new connection.
    await ada.close()
    assert (await staff.event("call.peer_away"))["call"] == call
    ada = await connected(world["Ada"])
    resumed = await ada.ok("call.resume", {"call": call})
    assert resumed["role"] == "answerer" and resumed["peer"]["name"] == "Erik Exhibitor"
    assert await staff.event("call.peer_back") == {"call": call}
    await staff.ok("call.signal", {"call": call, "type": "offer", "sdp": OFFER})
    assert (await ada.event("call.signal"))["type"] == "offer"

    # This time she does not come back: the call ends for the staff member.
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "RECONNECT_GRACE": 0.2}
    await ada.close()
    await staff.event("call.peer_away")
    assert await staff.event("call.ended", within=5) == {"call": call, "reason": "peer_gone"}
    # The staff member is free again.
    bob = await connected(world["Bob"])
    knock = (await bob.ok("call.knock", {"booth": world["booth"]}))["knock"]
    await staff.ok("call.accept", {"knock": knock})
    await bob.close()
    await staff.close()


async def test_closing_removes_knocks_and_listening(world):
    staff = await staff_listening(world)
    ada, bob = await connected(world["Ada"]), await connected(world["Bob"])
    await ada.ok("call.knock", {"booth": world["booth"]})
    second = await bob.ok("call.knock", {"booth": world["booth"]})
    assert second["position"] == 2
    await ada.close()
    assert (await bob.event("call.queue", match=lambda d: d["position"] == 1))["knock"] == \
        second["knock"]
    await staff.close()  # returns once the server has run the disconnect
    carol = await connected(world["Ada"])
    assert await carol.error("call.knock", {"booth": world["booth"]}) == "call.no_staff"
    await bob.close()
    await carol.close()


async def test_two_staff_race_for_one_knock(world):
    first, second = await staff_listening(world), await staff_listening(world)
    ada = await connected(world["Ada"])
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    results = await asyncio.gather(first.call("call.accept", {"knock": knock}),
                                   second.call("call.accept", {"knock": knock}))
    oks = [r for r in results if r["ok"]]
    errors = [r["error"]["code"] for r in results if not r["ok"]]
    assert len(oks) == 1 and errors in (["call.not_found"], ["call.busy"])
    for c in (first, second, ada):
        await c.close()


# --- leads ------------------------------------------------------------------------------------

async def test_leads_reach_the_booth_staff(world):
    staff = await staff_listening(world)
    ada = await connected(world["Ada"])
    lead = await ada.ok("lead.create", {"booth": world["booth"], "contact": "ada@example.org",
                                        "message": "Call me back about the robot arm."})
    new = await staff.event("lead.new")
    assert new["id"] == lead["lead"] and new["contact"] == "ada@example.org"
    assert new["name"] == "Ada" and new["user"] == world["Ada"].pk
    leads = (await staff.ok("lead.list", {"booth": world["booth"]}))["leads"]
    assert [x["id"] for x in leads] == [lead["lead"]]
    assert await ada.error("lead.list", {"booth": world["booth"]}) == "call.forbidden"
    assert await ada.error("lead.create", {"booth": world["booth"], "contact": "  "}) == \
        "lead.invalid"
    assert await ada.error("lead.create", {"booth": world["booth"], "contact": "x",
                                           "message": "m" * 2001}) == "lead.invalid"
    assert await ada.error("lead.create", {"booth": 999999, "contact": "x"}) == \
        "call.booth_not_found"
    anon = await connected()
    assert await anon.error("lead.create", {"booth": world["booth"], "contact": "x"}) == \
        "auth.required"
    for c in (staff, ada, anon):
        await c.close()
