"""Who sees a visitor's profile (`GET /api/users/{id}/profile`, docs/permissions.md): booth
staff only while the visitor is in one of their booth's rooms (if the visitor allows it), or
when the visitor has applied to their booth; nobody else. Presence is read where every
process writes it (Redis), so the check holds whichever process the visitor is on."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from booths.models import Room
from booths.services.presence import RedisPresence
from recruitment.models import Job, Resume
from recruitment.services import applications
from tests.conftest import free_port
from tests.recruitment_world import make_world
from tests.test_presence import delete_prefix, stop_redis_presence
from tests.wsclient import WsClient

db = database_sync_to_async


def profile_of(viewer, user) -> tuple[int, dict]:
    client = Client()
    client.force_login(viewer)
    response = client.get(f"/api/users/{user.pk}/profile")
    return response.status_code, response.json()


def visible_to(viewer, user) -> bool:
    status, body = profile_of(viewer, user)
    if status == 404:
        assert body["error"]["code"] == "profile.not_found"
        return False
    assert status == 200, body
    assert body["id"] == user.pk and "talent_search" not in body  # not the owner's view
    return True


def allow_booth_staff(user, allowed: bool) -> None:
    client = Client()
    client.force_login(user)
    response = client.put("/api/profile", {"display_name": "Vera Visitor",
                                           "visible_to_booth_staff": allowed},
                          content_type="application/json")
    assert response.status_code == 200, response.content


def apply_at_booth_a(world):
    job = Job.objects.create(booth=world["booth_a"], title="Chemist", job_type="full_time")
    Resume.objects.create(user=world["vera"], data={"skills": ["catalysis"]})
    return applications.apply(world["vera"], job.pk, "")


def booth_room(booth) -> int:
    return Room.objects.get(booth=booth, kind=Room.Kind.BOOTH).pk


async def until_true(check, within: float = 5.0) -> None:
    """Wait for ``check()`` (a coroutine function) to hold; ``within`` is a safety net."""
    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(0.01)


# --- in one process (presence in memory) ----------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_staff_see_a_profile_only_while_the_visitor_is_in_their_booth():
    world = await db(make_world)()
    vera, staff_a, staff_b = world["vera"], world["staff_a"], world["staff_b"]
    seen = db(visible_to)
    room_a, room_b = await db(booth_room)(world["booth_a"]), await db(booth_room)(world["booth_b"])

    # Not in any booth: nobody but Vera sees her profile.
    assert not await seen(staff_a, vera)
    status, own = await db(profile_of)(vera, vera)
    assert status == 200 and "talent_search" in own  # the owner's own view

    visitor = await WsClient(vera).connect()
    await visitor.ok("room.join", {"room": room_a})
    assert await seen(staff_a, vera)
    assert await seen(world["staff_a2"], vera)  # a colleague at the same booth
    assert not await seen(staff_b, vera)  # staff of another booth
    assert not await seen(world["walt"], vera)  # another visitor

    # She walks on to booth B: its staff see her, booth A's no longer do.
    await visitor.ok("room.leave", {"room": room_a})
    assert not await seen(staff_a, vera)
    await visitor.ok("room.join", {"room": room_b})
    assert await seen(staff_b, vera)
    assert not await seen(staff_a, vera)

    # Her choice holds while she is there.
    await db(allow_booth_staff)(vera, False)
    assert not await seen(staff_b, vera)
    await db(allow_booth_staff)(vera, True)
    assert await seen(staff_b, vera)

    # She closes the page: refused again once her connection's presence is gone.
    await visitor.close()

    async def refused() -> bool:
        return not await seen(staff_b, vera)
    await until_true(refused)


@pytest.mark.django_db
def test_an_application_shares_the_profile_with_that_booth_only():
    world = make_world()
    vera = world["vera"]
    allow_booth_staff(vera, False)  # applying shares it whatever the choice for visits
    app = apply_at_booth_a(world)
    assert visible_to(world["staff_a"], vera)
    assert not visible_to(world["staff_b"], vera)
    assert not visible_to(world["walt"], vera)
    # Withdrawn: the booth no longer sees the application, nor the profile through it.
    applications.withdraw(vera, app.pk)
    assert not visible_to(world["staff_a"], vera)


@pytest.mark.django_db
def test_unknown_users_and_anonymous_callers(client):
    world = make_world()
    assert profile_of(world["staff_a"], type(world["vera"])(pk=999_999))[0] == 404
    response = client.get(f"/api/users/{world['vera'].pk}/profile")
    assert response.status_code == 401 and response.json()["error"]["code"] == "auth.required"


# --- across processes (presence in Redis) ---------------------------------------------------------

@pytest.fixture
def shared_presence(settings, redis_url):
    prefix = f"t-{uuid.uuid4().hex[:10]}:"
    settings.REDIS_URL = redis_url
    settings.HALLSERVER = {**settings.HALLSERVER, "REDIS_PREFIX": prefix}
    return redis_url, prefix


@pytest.mark.django_db(transaction=True)
async def test_presence_on_another_process_counts_and_its_end_too(shared_presence):
    """Vera's connection is on another process: that process writes her presence to Redis;
    this process's HTTP view reads it there."""
    url, prefix = shared_presence
    world = await db(make_world)()
    vera, staff_a = world["vera"], world["staff_a"]
    room_a = await db(booth_room)(world["booth_a"])
    other = RedisPresence(url, prefix=prefix, process_id="proc-other", pool_size=2)
    seen = db(visible_to)
    try:
        assert not await seen(staff_a, vera)
        await other.add(room_a, f"u{vera.pk}", {"id": vera.pk, "name": "Vera Visitor"})
        assert await seen(staff_a, vera)
        assert not await seen(world["staff_b"], vera)
        await other.remove(room_a, f"u{vera.pk}")
        assert not await seen(staff_a, vera)
    finally:
        await stop_redis_presence(other)
        await delete_prefix(url, prefix)


@pytest.mark.django_db
def test_without_redis_the_visit_check_refuses_rather_than_guesses(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    world = make_world()
    status, body = profile_of(world["staff_a"], world["vera"])
    assert status == 503 and body["error"]["code"] == "server.unavailable"
    # An application needs no presence: still answered.
    apply_at_booth_a(world)
    assert visible_to(world["staff_a"], world["vera"])
