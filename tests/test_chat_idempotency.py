"""Retried chat sends: a client message id makes them idempotent, and an error that means
"not stored" is only given when nothing was stored (docs/protocol.md, chat.send)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError

from booths import actions, runtime
from booths.models import ChatMessage
from booths.services import chat
from booths.services.identity import Visitor
from booths.services.rooms import directory
from tests.test_consumer import connected, make_user, make_world

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
async def world():
    return await make_world()


@database_sync_to_async
def stored(room: int) -> list[tuple[int, str, str]]:
    return list(ChatMessage.objects.filter(room_id=room).order_by("seq")
                .values_list("seq", "body", "client_id"))


async def test_a_retried_send_is_stored_and_delivered_once(world):
    room = world["rooms"]["booth"]
    dora, reader = await connected(await make_user("Dora")), await connected(await make_user("R"))
    for c in (dora, reader):
        await c.ok("room.join", {"room": room})
    first = await dora.ok("chat.send", {"room": room, "body": "hello", "client_id": "m-1"})
    again = await dora.ok("chat.send", {"room": room, "body": "hello", "client_id": "m-1"})
    assert again == first  # the original's reply: same seq, same id
    later = await dora.ok("chat.send", {"room": room, "body": "next", "client_id": "m-2"})
    assert later["seq"] == first["seq"] + 1
    await reader.event("chat.message", match=lambda d: d["seq"] == later["seq"])
    await reader.drain(0.3)
    # Delivered once each: the first message before the second, nothing after it.
    assert reader.chat_seqs(room) == [first["seq"]]
    assert await stored(room) == [(first["seq"], "hello", "m-1"), (later["seq"], "next", "m-2")]
    for c in (dora, reader):
        await c.close()


async def test_client_ids_are_per_sender_and_room(world):
    room, other = world["rooms"]["booth"], world["rooms"]["other"]
    a, b = await connected(await make_user("Ann")), await connected(await make_user("Ben"))
    for c in (a, b):
        await c.ok("room.join", {"room": room})
        await c.ok("room.join", {"room": other})
    seqs = {(await a.ok("chat.send", {"room": room, "body": "a", "client_id": "x"}))["seq"],
            (await b.ok("chat.send", {"room": room, "body": "b", "client_id": "x"}))["seq"]}
    assert len(seqs) == 2  # another sender's id is another message
    await a.ok("chat.send", {"room": other, "body": "a there", "client_id": "x"})
    assert [body for _, body, _ in await stored(other)] == ["a there"]
    # Sends without an id are never taken for repeats.
    plain = [await a.ok("chat.send", {"room": room, "body": "same"}) for _ in range(2)]
    assert plain[0]["seq"] != plain[1]["seq"]
    for c in (a, b):
        await c.close()


@pytest.mark.parametrize("client_id", ["", "x" * 65, "has space", "é", 12])
async def test_bad_client_ids_are_refused(world, client_id):
    room = world["rooms"]["booth"]
    c = await connected(await make_user("Dora"))
    await c.ok("room.join", {"room": room})
    code = await c.error("chat.send", {"room": room, "body": "hi", "client_id": client_id})
    assert code == "frame.invalid"
    assert await stored(room) == []
    await c.close()


async def test_a_rate_limit_store_failure_means_not_stored(world, monkeypatch):
    room = world["rooms"]["booth"]
    c = await connected(await make_user("Dora"))
    await c.ok("room.join", {"room": room})

    async def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(runtime.limits(), "content", unreachable)
    assert await c.error("chat.send", {"room": room, "body": "lost?",
                                       "client_id": "k"}) == "chat.not_stored"
    assert await stored(room) == []
    monkeypatch.undo()
    # The retry with the same id goes through, once.
    sent = await c.ok("chat.send", {"room": room, "body": "lost?", "client_id": "k"})
    assert await stored(room) == [(sent["seq"], "lost?", "k")]
    await c.close()


async def test_a_database_failure_before_the_commit_means_not_stored(world, monkeypatch):
    room = world["rooms"]["booth"]
    c = await connected(await make_user("Dora"))
    await c.ok("room.join", {"room": room})

    def broken(room_id):
        raise OperationalError("database is locked")

    monkeypatch.setattr(chat, "_next_seq", broken)
    assert await c.error("chat.send", {"room": room, "body": "x"}) == "chat.not_stored"
    monkeypatch.undo()
    assert await stored(room) == []
    assert (await c.ok("chat.send", {"room": room, "body": "x"}))["seq"] == 1
    await c.close()


async def test_a_stored_message_that_cannot_be_published_is_answered_ok(world, monkeypatch):
    """Stored but Redis refuses the publish: the send succeeded (the hubs' sweep delivers the
    message from the database), so the reply is ok and a retry changes nothing."""
    room = world["rooms"]["booth"]
    c = await connected(await make_user("Dora"))
    await c.ok("room.join", {"room": room})

    async def unreachable(room, row):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(actions, "publish_message", unreachable)
    sent = await c.ok("chat.send", {"room": room, "body": "kept", "client_id": "p"})
    monkeypatch.undo()
    again = await c.ok("chat.send", {"room": room, "body": "kept", "client_id": "p"})
    assert again == sent
    assert await stored(room) == [(sent["seq"], "kept", "p")]
    await c.close()


async def test_concurrent_sends_with_one_id_store_one_message(world):
    """Two sends of one id racing (e.g. a retry overtaking the original on another process)
    meet the unique constraint; the loser answers with the winner's message."""
    room = world["rooms"]["booth"]
    user = await make_user("Dora")
    info = await directory.get(room)
    visitor = Visitor(id=user.pk, name="Dora", kind="visitor", staff_of=frozenset(),
                      is_moderator=False)
    first = await chat.store_message(info, visitor, "once", client_id="c")
    # The lookup before the insert misses (as when both run at once): the insert conflicts.
    original = chat._sent_before
    calls = []

    def miss_first(*args):
        calls.append(args)
        return None if len(calls) == 1 else original(*args)

    chat._sent_before = miss_first
    try:
        second = await chat.store_message(info, visitor, "once", client_id="c")
    finally:
        chat._sent_before = original
    assert second["seq"] == first["seq"] and second["repeat"] is True
    assert len(await stored(room)) == 1
