"""Meetings over the WebSocket (docs/protocol.md, "Meetings"): requests, answers, cancellations
and reminders reach both sides live; at the meeting's time (the test clock) the two join a
call of exactly those two, with the time left; every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from docking.models import Meeting
from docking.services import meetings
from recruitment.models import ClockOffset
from streaming import store as store_module
from tests.docking_world import make_docking_world
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


@pytest.fixture(autouse=True)
def _fresh_live_state(settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "RECONNECT_GRACE": 0.5}
    settings.RECRUITMENT = {**settings.RECRUITMENT, "TEST_CLOCK": True}
    settings.DOCKING = {**settings.DOCKING, "SWEEP_INTERVAL": 0}
    store_module.store.cache_clear()
    yield
    store_module.store.cache_clear()


@pytest.fixture
async def world():
    return await db(make_docking_world)()


async def connected(user) -> WsClient:
    return await WsClient(user).connect()


@db
def set_clock(seconds: float) -> None:
    ClockOffset.objects.all().delete()
    ClockOffset.objects.create(seconds=seconds)


def kind(name):
    return lambda d: d["kind"] == name


async def test_request_answer_cancel_and_reminder_reach_both_sides_live(world):
    ida, alice = await connected(world["ida"]), await connected(world["staff_a"])
    arno, walt = await connected(world["staff_a2"]), await connected(world["walt"])
    m = await db(meetings.request)(world["ida"], project_id=world["robot"].pk, message="Hi")
    for client in (ida, alice, arno):
        told = await client.event("recruit.notice", match=kind("meeting.requested"))
        assert told["data"]["id"] == m.pk and told["data"]["message"] == "Hi"
        assert told["data"]["by"]["name"] == "Ida Investor"
    start = world["day"]
    await db(meetings.accept)(world["staff_a"], m.pk, timezone.now(), start, 30)
    for client in (ida, alice):
        told = await client.event("recruit.notice", match=kind("meeting.accepted"))
        assert told["data"]["starts_at"] == start.isoformat()
    # The reminder, by the sweep at a moved clock: both sides, once.
    await db(meetings.sweep)(start - timedelta(minutes=4))
    for client in (ida, alice):
        told = await client.event("recruit.notice", match=kind("meeting.reminder"))
        assert told["data"]["in_seconds"] == 240
    await db(meetings.cancel)(world["ida"], m.pk)
    for client in (ida, alice):
        await client.event("recruit.notice", match=kind("meeting.cancelled"))
    # A stranger heard nothing; Arno (the other staff) only of the request.
    await walt.drain(0.3)
    assert not [e for e in walt.events if e.get("event") == "recruit.notice"]
    await arno.drain(0.3)
    later = [e["data"]["kind"] for e in arno.events if e.get("event") == "recruit.notice"]
    assert "meeting.accepted" not in later
    # Catching up after a reconnect: the feed has every step.
    caught = await ida.ok("recruit.sync", {"after": 0})
    assert [n["kind"] for n in caught["notices"]] == [
        "meeting.requested", "meeting.accepted", "meeting.reminder", "meeting.cancelled"]
    for client in (ida, alice, arno, walt):
        await client.close()


async def test_join_at_the_time_calls_exactly_the_two_with_the_time_left(world):
    start = (timezone.now() + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    m = await db(meetings.request)(world["walt"], user_id=world["vera"].pk)
    await db(meetings.accept)(world["vera"], m.pk, timezone.now(), start, 30)
    walt, vera, ida = (await connected(world["walt"]), await connected(world["vera"]),
                       await connected(world["ida"]))
    frame = await walt.call("meeting.join", {"meeting": m.pk})
    assert frame["error"]["code"] == "meeting.not_now"
    assert frame["error"]["starts_at"] == start.isoformat()
    assert await ida.error("meeting.join", {"meeting": m.pk}) == "meeting.not_found"
    assert await ida.error("meeting.join", {"meeting": "1"}) == "frame.invalid"
    anonymous = await WsClient().connect()
    assert await anonymous.error("meeting.join", {"meeting": m.pk}) == "auth.required"

    offset = (start - timezone.now()).total_seconds() + 60  # one minute in
    await set_clock(offset)
    waiting = await walt.ok("meeting.join", {"meeting": m.pk})
    assert waiting["waiting"] is True and waiting["ends_at"] == (
        start + timedelta(minutes=30)).isoformat()
    assert 28 * 60 <= waiting["left"] <= 29 * 60 + 1
    told = await vera.event("meeting.waiting")
    assert told["user"] == {"id": world["walt"].pk, "name": "Walt Visitor"}
    joined = await vera.ok("meeting.join", {"meeting": m.pk})
    assert joined["waiting"] is False and joined["role"] == "offerer"
    assert joined["peer"] == {"id": world["walt"].pk, "name": "Walt Visitor"}
    accepted = await walt.event("call.accepted")
    assert accepted["call"] == joined["call"] and accepted["role"] == "answerer"
    await vera.ok("call.signal", {"call": joined["call"], "type": "candidate",
                                  "candidate": None})
    assert (await walt.event("call.signal"))["call"] == joined["call"]
    assert await ida.error("call.join", {"call": joined["call"]}) == "call.forbidden"
    await vera.ok("call.hangup", {"call": joined["call"]})
    await walt.event("call.ended")
    stamped = await db(Meeting.objects.get)(pk=m.pk)
    assert stamped.requester_joined_at and stamped.recipient_joined_at
    # After its end the meeting is done (someone joined), and it cannot be joined.
    await set_clock(offset + 31 * 60)
    assert await walt.error("meeting.join", {"meeting": m.pk}) == "meeting.not_now"
    for client in (walt, vera, ida, anonymous):
        await client.close()


async def test_the_process_sweep_sends_the_reminder_by_itself(world, settings):
    """The sweep each process runs (docking/sweeper.py), started with the first connection;
    the test waits for the reminder event itself."""
    settings.DOCKING = {**settings.DOCKING, "SWEEP_INTERVAL": 0.05}
    now = timezone.now()
    step = 300 - int(now.timestamp()) % 300
    start = (now + timedelta(seconds=step)).replace(microsecond=0)  # the next 5-minute step
    m = await db(meetings.request)(world["walt"], user_id=world["vera"].pk)
    await db(meetings.accept)(world["vera"], m.pk, timezone.now(), start, 30)
    vera = await connected(world["vera"])
    told = await vera.event("recruit.notice", within=10, match=kind("meeting.reminder"))
    assert told["data"]["id"] == m.pk
    await vera.close()
