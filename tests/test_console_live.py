"""The console over the WebSocket: "Now" with only the profiles visitors allow, refusals to
staff of other booths, and inbox counts pushed live to every tab of the booth's staff."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from accounts.models import Account
from booths.models import Room
from tests.recruitment_world import make_world
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def world():
    w = make_world()
    Account.objects.create(user=w["vera"], headline="Polymer chemist",
                           visible_to_booth_staff=True)
    Account.objects.create(user=w["walt"], headline="Secret agent",
                           visible_to_booth_staff=False)
    w["room_a"] = Room.objects.get(kind="booth", booth=w["booth_a"]).pk
    return w


async def test_now_shows_visitors_with_only_the_profiles_they_allow():
    w = await world()
    a = w["booth_a"].pk
    vera = await WsClient(w["vera"]).connect()
    walt = await WsClient(w["walt"]).connect()
    staff = await WsClient(w["staff_a"]).connect()
    await vera.ok("room.join", {"room": w["room_a"]})
    await walt.ok("room.join", {"room": w["room_a"]})
    now = await staff.ok("console.now", {"booth": a})
    people = {p["name"]: p for p in now["people"]}
    assert set(people) == {"Vera Visitor", "Walt Visitor"}
    assert people["Vera Visitor"]["profile"]["headline"] == "Polymer chemist"
    assert people["Walt Visitor"]["profile"] is None
    assert "Secret agent" not in str(now)
    assert now["count"] == 2 and now["knocks"] == [] and now["calls"] == []
    for c in (vera, walt, staff):
        await c.close()


async def test_now_lists_the_knock_queue():
    w = await world()
    a = w["booth_a"].pk
    vera = await WsClient(w["vera"]).connect()
    staff = await WsClient(w["staff_a"]).connect()
    await staff.ok("call.listen", {"booths": [a]})
    knock = await vera.ok("call.knock", {"booth": a})
    now = await staff.ok("console.now", {"booth": a})
    assert [k["knock"] for k in now["knocks"]] == [knock["knock"]]
    await vera.close()
    await staff.close()


async def test_staff_of_another_booth_and_visitors_are_refused():
    w = await world()
    a = w["booth_a"].pk
    other = await WsClient(w["staff_b"]).connect()
    vera = await WsClient(w["vera"]).connect()
    anon = await WsClient().connect()
    for client in (other, vera):
        assert await client.error("console.now", {"booth": a}) == "console.forbidden"
        assert await client.error("console.inbox", {"booth": a}) == "console.forbidden"
    assert await anon.error("console.now", {"booth": a}) == "auth.required"
    assert await other.error("console.now", {"booth": 0}) == "frame.invalid"
    # The connection carries on.
    assert (await other.ok("console.inbox", {"booth": w["booth_b"].pk}))["total"] == 0
    for c in (other, vera, anon):
        await c.close()


async def test_a_new_lead_reaches_every_tab_of_every_staff_member():
    w = await world()
    a = w["booth_a"].pk
    tab1 = await WsClient(w["staff_a"]).connect()
    tab2 = await WsClient(w["staff_a"]).connect()
    colleague = await WsClient(w["staff_a2"]).connect()
    vera = await WsClient(w["vera"]).connect()
    assert (await tab1.ok("console.inbox", {"booth": a}))["total"] == 0
    await vera.ok("lead.create", {"booth": a, "contact": "vera@example.org", "message": "hi"})
    for client in (tab1, tab2, colleague):
        counts = await client.event("console.inbox", match=lambda d: d["total"] == 1)
        assert counts["sources"]["leads"] == 1 and counts["booth"] == a
        bell = await client.event("recruit.notice", match=lambda d: d["kind"] == "lead.new")
        assert bell["unread"]["notices"] == 1
    # A reconnecting tab asks and gets the same counts.
    tab3 = await WsClient(w["staff_a"]).connect()
    assert (await tab3.ok("console.inbox", {"booth": a}))["total"] == 1
    assert (await tab3.ok("recruit.sync", {"after": 0}))["unread"]["notices"] == 1
    for c in (tab1, tab2, tab3, colleague, vera):
        await c.close()
