"""Analytics recording: what the real-time path records, written in batches off that path."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth import get_user_model

from analytics.models import Event
from analytics.recorder import Recorder, recorder
from booths.models import Booth, Profile, Roadshow, Room
from booths.seed import seed_demo
from tests.wsclient import WsClient

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def make_world():
    seed_demo()
    exhibitor = get_user_model().objects.get(username="exhibitor")
    booth = Booth.objects.get(boothstaff__user=exhibitor)
    ada = get_user_model().objects.create_user(username="ada", password=None)
    Profile.objects.create(user=ada, display_name="Ada", kind=Profile.Kind.VISITOR)
    show = Roadshow.objects.filter(booth=booth).first()
    return {"booth": booth, "exhibitor": exhibitor, "ada": ada,
            "room": Room.objects.get(kind="booth", booth=booth).pk,
            "lobby": Room.objects.get(kind="lobby", hall=booth.hall).pk,
            "show": show, "show_room": Room.objects.get(roadshow=show).pk}


@database_sync_to_async
def events(**filters) -> list[Event]:
    return list(Event.objects.filter(**filters).order_by("id"))


async def test_a_visit_chat_and_leave_are_recorded_in_one_batch():
    world = await make_world()
    ada = await WsClient(world["ada"]).connect()
    staff = await WsClient(world["exhibitor"]).connect()
    await ada.ok("room.join", {"room": world["room"]})
    await ada.ok("room.join", {"room": world["lobby"]})  # not a booth: not a visit
    await staff.ok("room.join", {"room": world["room"]})  # the booth's own staff: not a visit
    await ada.ok("chat.send", {"room": world["room"], "body": "hello"})
    await staff.ok("chat.send", {"room": world["room"], "body": "welcome"})
    await ada.ok("room.leave", {"room": world["room"]})
    assert await events() == []  # nothing is written on the delivery path
    assert await recorder.flush() == 3
    rows = await events()
    booth = world["booth"]
    assert [(e.kind, e.booth_id, e.user_id) for e in rows] == [
        ("enter", booth.pk, world["ada"].pk), ("chat", booth.pk, world["ada"].pk),
        ("leave", booth.pk, world["ada"].pk)]
    assert all(e.hall_id == booth.hall_id for e in rows)
    assert rows[2].seconds >= 0 and rows[2].roadshow_id is None
    await ada.close()
    await staff.close()


async def test_closing_the_socket_ends_the_visit_and_roadshow_viewers_get_the_booth():
    world = await make_world()
    ada = await WsClient(world["ada"]).connect()
    await ada.ok("room.join", {"room": world["show_room"]})
    await ada.close()
    await recorder.flush()
    rows = await events()
    assert [(e.kind, e.roadshow_id, e.booth_id) for e in rows] == [
        ("enter", world["show"].pk, world["booth"].pk),
        ("leave", world["show"].pk, world["booth"].pk)]


async def test_the_presenting_booths_staff_are_not_its_roadshows_audience():
    world = await make_world()
    ada = await WsClient(world["ada"]).connect()
    staff = await WsClient(world["exhibitor"]).connect()
    for c in (ada, staff):
        await c.ok("room.join", {"room": world["show_room"]})
    for c in (ada, staff):
        await c.close()
    await recorder.flush()
    rows = await events(roadshow_id=world["show"].pk)
    assert [(e.kind, e.user_id) for e in rows] == [("enter", world["ada"].pk),
                                                   ("leave", world["ada"].pk)]


async def test_knocks_and_ended_calls_are_recorded_with_the_call_length():
    world = await make_world()
    ada = await WsClient(world["ada"]).connect()
    staff = await WsClient(world["exhibitor"]).connect()
    booth = world["booth"].pk
    await staff.ok("call.listen", {"booths": [booth]})
    knock = await ada.ok("call.knock", {"booth": booth})
    call = await staff.ok("call.accept", {"knock": knock["knock"]})
    await staff.ok("call.hangup", {"call": call["call"]})
    await recorder.flush()
    rows = await events()
    assert [(e.kind, e.user_id) for e in rows] == [
        ("knock", world["ada"].pk), ("call", world["ada"].pk)]
    assert rows[1].seconds >= 0 and rows[1].booth_id == booth
    await ada.close()
    await staff.close()


async def test_the_background_task_writes_a_full_batch_without_being_asked(settings):
    """The batch threshold wakes the writer; the test waits on the rows, not on a clock."""
    world = await make_world()
    settings.ANALYTICS = {**settings.ANALYTICS, "BATCH": 3, "FLUSH_SECONDS": 3600}
    for _ in range(3):
        recorder.record("chat", booth=world["booth"].pk, user=world["ada"].pk)
    for _ in range(500):
        if len(await events()) == 3:
            break
        await asyncio.sleep(0.01)
    assert len(await events(kind="chat")) == 3
    assert not recorder.buffer


def test_the_buffer_is_bounded_and_counts_what_it_drops(settings):
    settings.ANALYTICS = {**settings.ANALYTICS, "BUFFER": 5}
    mine = Recorder()
    for _ in range(8):
        mine.record("chat", booth=1, user=1)
    assert len(mine.buffer) == 5 and mine.dropped == 3


def test_shutdown_flush_writes_what_is_left():
    seed_demo()
    booth = Booth.objects.first()
    mine = Recorder()
    mine.record("knock", booth=booth.pk, user=None)
    assert mine.flush_sync() == 1
    assert Event.objects.get().hall_id == booth.hall_id
