"""Recruitment over the WebSocket (docs/protocol.md, "Recruitment"): live notices to both
sides, catching up after a reconnect, unread counts, and interview calls at the slot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from recruitment.models import ClockOffset, Job, Resume, Slot
from recruitment.services import applications, slots
from streaming import store as store_module
from tests.recruitment_world import make_world
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_live_state(settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "RECONNECT_GRACE": 0.5}
    settings.RECRUITMENT = {**settings.RECRUITMENT, "TEST_CLOCK": True}
    store_module.store.cache_clear()
    yield
    store_module.store.cache_clear()


@database_sync_to_async
def make_applied_world() -> dict:
    world = make_world()
    job = Job.objects.create(booth=world["booth_a"], title="Chemist", job_type="full_time")
    Resume.objects.create(user=world["vera"], data={"skills": ["x"]})
    world["job"] = job
    return world


@pytest.fixture
async def world():
    return await make_applied_world()


db = database_sync_to_async


async def connected(user) -> WsClient:
    return await WsClient(user).connect()


async def test_both_sides_see_changes_live_and_catch_up_after_a_reconnect(world):
    staff, staff2 = await connected(world["staff_a"]), await connected(world["staff_a2"])
    other_booth = await connected(world["staff_b"])
    vera = await connected(world["vera"])
    booth = str(world["booth_a"].pk)

    app = await db(applications.apply)(world["vera"], world["job"].pk, "hi")
    for client in (staff, staff2):
        new = await client.event("recruit.notice", match=lambda d: d["kind"] == "application.new")
        assert new["data"]["application"] == app.pk
        assert new["data"]["candidate"]["name"] == "Vera Visitor"
        assert new["unread"]["booths"] == {booth: 1} and new["unread"]["notices"] == 1
    await other_booth.drain(0.3)
    assert not [e for e in other_booth.events if e.get("event") == "recruit.notice"]

    # Staff open it and shortlist it: the candidate sees both changes live.
    await db(applications.open_as_staff)(world["staff_a"], app.pk)
    viewed = await vera.event("recruit.notice", match=lambda d: d["data"]["status"] == "viewed")
    assert viewed["kind"] == "application.status" and viewed["data"]["from"] == "submitted"
    await staff.event("recruit.notice", match=lambda d: d["data"]["status"] == "viewed")
    last_seen = viewed["id"]

    # Vera's connection drops; meanwhile she is shortlisted; she reconnects and catches up.
    await vera.close()
    await db(applications.move)(world["staff_a"], app.pk, "shortlisted", "good")
    vera = await connected(world["vera"])
    caught = await vera.ok("recruit.sync", {"after": last_seen})
    assert [(n["kind"], n["data"]["status"]) for n in caught["notices"]] == [
        ("application.status", "shortlisted")]
    assert caught["unread"]["notices"] == 2 and caught["more"] is False
    assert caught["last"] == caught["notices"][-1]["id"]
    read = await vera.ok("recruit.read", {"upto": caught["last"]})
    assert read["unread"]["notices"] == 0
    assert (await vera.ok("recruit.sync", {"after": caught["last"]}))["notices"] == []

    # The staff's unread count survives their reconnect too (nobody opened... it was opened).
    await staff.close()
    staff = await connected(world["staff_a"])
    assert (await staff.ok("recruit.sync", {}))["unread"]["booths"] == {booth: 0}
    for client in (staff, staff2, other_booth, vera):
        await client.close()


async def test_sync_and_read_refusals(world):
    anonymous = await WsClient().connect()
    assert await anonymous.error("recruit.sync", {"after": 0}) == "auth.required"
    assert await anonymous.error("recruit.read", {"upto": 1}) == "auth.required"
    assert await anonymous.error("interview.join", {"slot": 1}) == "auth.required"
    assert await anonymous.error("recruit.sync", {"after": -1}) == "frame.invalid"
    assert await anonymous.error("interview.join", {"slot": "1"}) == "frame.invalid"
    await anonymous.close()


@database_sync_to_async
def booked_slot(world, starts_in: timedelta) -> Slot:
    app = applications.apply(world["vera"], world["job"].pk, "")
    start = timezone.now() + starts_in
    slot = slots.create(world["staff_a"], world["booth_a"].pk, start, start + timedelta(minutes=30))
    slots.offer(world["staff_a"], slot.pk, app.pk)
    return slots.book(world["vera"], slot.pk)


@database_sync_to_async
def set_clock(seconds: float) -> None:
    ClockOffset.objects.all().delete()
    ClockOffset.objects.create(seconds=seconds)


async def test_interview_join_at_the_slot_sets_up_a_call_of_exactly_the_two(world):
    slot = await booked_slot(world, timedelta(hours=3))
    staff, vera = await connected(world["staff_a"]), await connected(world["vera"])
    staff2, walt = await connected(world["staff_a2"]), await connected(world["walt"])

    # Too early (the real clock): refused with the slot's times.
    frame = await vera.call("interview.join", {"slot": slot.pk})
    assert frame["error"]["code"] == "interview.not_now" and frame["error"]["starts_at"]
    # Neither host nor candidate: as if there were no such interview.
    assert await walt.error("interview.join", {"slot": slot.pk}) == "slot.not_found"
    assert await staff2.error("interview.join", {"slot": slot.pk}) == "slot.not_found"

    await set_clock(3 * 3600 + 60)  # the test clock: one minute into the slot
    waiting = await vera.ok("interview.join", {"slot": slot.pk})
    assert waiting == {"slot": slot.pk, "waiting": True}
    told = await staff.event("interview.waiting")
    assert told == {"slot": slot.pk, "user": {"id": world["vera"].pk, "name": "Vera Visitor"}}

    joined = await staff.ok("interview.join", {"slot": slot.pk})
    assert joined["waiting"] is False and joined["role"] == "offerer"
    assert joined["peer"] == {"id": world["vera"].pk, "name": "Vera Visitor"}
    assert [p["id"] for p in joined["participants"]] == [world["vera"].pk, world["staff_a"].pk]
    accepted = await vera.event("call.accepted")
    assert accepted["call"] == joined["call"] and accepted["role"] == "answerer"

    # Signalling flows between the two; nobody else may join the call.
    await staff.ok("call.signal", {"call": joined["call"], "type": "candidate",
                                   "candidate": None})
    assert (await vera.event("call.signal"))["call"] == joined["call"]
    assert await staff2.error("call.join", {"call": joined["call"]}) == "call.forbidden"
    await staff.ok("call.hangup", {"call": joined["call"]})
    assert (await vera.event("call.ended"))["call"] == joined["call"]

    # After the slot's end: refused again.
    await set_clock(3 * 3600 + 31 * 60)
    assert await vera.error("interview.join", {"slot": slot.pk}) == "interview.not_now"
    for client in (staff, vera, staff2, walt):
        await client.close()


async def test_a_closed_socket_stops_waiting(world):
    slot = await booked_slot(world, timedelta(minutes=2))  # joinable now (5 minutes early)
    vera = await connected(world["vera"])
    assert (await vera.ok("interview.join", {"slot": slot.pk}))["waiting"] is True
    await vera.close()
    staff = await connected(world["staff_a"])
    # Vera's socket is gone: the host waits instead of calling a closed connection.
    assert (await staff.ok("interview.join", {"slot": slot.pk}))["waiting"] is True
    vera = await connected(world["vera"])
    joined = await vera.ok("interview.join", {"slot": slot.pk})
    assert joined["waiting"] is False and joined["peer"]["id"] == world["staff_a"].pk
    await staff.event("call.accepted")
    for client in (staff, vera):
        await client.close()


@database_sync_to_async
def many_notices(user, n: int) -> None:
    from recruitment.models import Notice

    Notice.objects.bulk_create([Notice(user=user, kind="application.status",
                                       data={"n": i}) for i in range(n)])


async def test_sync_pages_through_a_long_absence(world):
    await many_notices(world["walt"], 205)
    walt = await connected(world["walt"])
    first = await walt.ok("recruit.sync", {"after": 0})
    assert len(first["notices"]) == 200 and first["more"] is True
    rest = await walt.ok("recruit.sync", {"after": first["last"]})
    assert [n["data"]["n"] for n in rest["notices"]] == [200, 201, 202, 203, 204]
    assert rest["more"] is False and rest["unread"]["notices"] == 205
    await walt.close()
