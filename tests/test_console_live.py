"""The console over the WebSocket: "Now" with only the profiles visitors allow, refusals to
staff of other booths, inbox counts pushed live to every tab of the booth's staff, and the
bell's roadshow reminder sent by the processes' own sweeps, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.models import Account
from booths.models import Roadshow, Room
from console.models import Bookmark
from console.services import reminders
from recruitment.models import Notice
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


@database_sync_to_async
def bookmarked_roadshow(w) -> Roadshow:
    """A roadshow tomorrow (real time never makes it due in this test), bookmarked by Vera."""
    starts = timezone.now() + timedelta(days=1)
    show = Roadshow.objects.create(booth=w["booth_a"], title="Polymers tomorrow",
                                   starts_at=starts, ends_at=starts + timedelta(minutes=30))
    Bookmark.objects.create(user=w["vera"], roadshow=show)
    return show


@database_sync_to_async
def reminders_of(user) -> list[dict]:
    return list(Notice.objects.filter(user=user, kind="roadshow.soon").values_list("data",
                                                                                   flat=True))


def is_reminder(data: dict) -> bool:
    return data["kind"] == "roadshow.soon"


async def test_two_sweeps_at_once_ring_the_bell_once(monkeypatch):
    w = await world()
    show = await bookmarked_roadshow(w)
    clock = lambda: show.starts_at - timedelta(minutes=5)  # noqa: E731
    monkeypatch.setattr(reminders.loop, "_interval", 0)  # no background loop in this test
    vera = await WsClient(w["vera"]).connect()
    # Two processes' sweeps at the same moment.
    sent = await asyncio.gather(reminders.ReminderLoop(clock=clock).sweep(),
                                reminders.ReminderLoop(clock=clock).sweep())
    assert sorted(sent) == [0, 1]
    notice = await vera.event("recruit.notice", match=is_reminder)
    assert notice["data"]["roadshow"] == show.pk and notice["unread"]["notices"] == 1
    assert [d["roadshow"] for d in await reminders_of(w["vera"])] == [show.pk]
    # A later sweep finds it claimed; the management command is such a sweep too.
    assert await reminders.ReminderLoop(clock=clock).sweep() == 0
    await vera.close()


async def test_each_process_sweeps_by_itself_and_a_second_sweep_sends_nothing(monkeypatch):
    w = await world()
    show = await bookmarked_roadshow(w)
    clock = lambda: show.starts_at - timedelta(minutes=5)  # noqa: E731
    # This process's own loop, started by the first connection, on the injected clock.
    monkeypatch.setattr(reminders.loop, "clock", clock)
    monkeypatch.setattr(reminders.loop, "_interval", 0.01)
    vera = await WsClient(w["vera"]).connect()
    try:
        notice = await vera.event("recruit.notice", within=10, match=is_reminder)
        assert notice["data"]["roadshow"] == show.pk
        # Another process sweeping the same moment: nothing left to send.
        assert await reminders.ReminderLoop(clock=clock).sweep() == 0
        assert [d["roadshow"] for d in await reminders_of(w["vera"])] == [show.pk]
    finally:
        await reminders.loop.stop()
        await vera.close()
