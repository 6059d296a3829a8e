"""The process-wide services of the booths app, wired to the hub on first use."""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from django.db import DatabaseError

from hallserver.realtime.connection import Connection
from hallserver.realtime.hub import hub, spawn

from .services import chat
from .services.moderation import WordFilter
from .services.presence import MemoryPresence, PresenceService, RedisPresence
from .services.ratelimit import RateLimits
from .services.rooms import directory

log = logging.getLogger(__name__)


def install() -> None:
    """Let the hub fill chat gaps from the chat store, and teach it the booths app's
    control messages (kick a socket out of a room) and process messages (a room changed)."""
    hub.gap_fetcher = chat.frames_between
    hub.seq_loader = chat.last_seqs
    hub.control_handlers["kick"] = _kick
    hub.process_handlers["room.changed"] = _room_changed


def warm() -> None:
    """Before a web process serves: fill the room directory (``HALLSERVER_PRELOAD_ROOMS``).
    A database that cannot answer yet (not migrated) only costs the head start."""
    try:
        directory.preload(settings.HALLSERVER["PRELOAD_ROOMS"])
    except DatabaseError as exc:
        log.warning("room directory not preloaded: %s", exc)


def _room_changed(data: dict) -> None:
    """A moderator changed a room (or deleted a message in it): forget cached facts."""
    directory.invalidate(data["room"])
    chat.history_cache.forget(data["room"])


def _kick(conn: Connection, data: dict) -> None:
    session = conn.meta
    if session is not None and data["room"] in session.rooms:
        spawn(session.leave_room(data["room"]))


@cache
def limits() -> RateLimits:
    return RateLimits()


@cache
def word_filter() -> WordFilter:
    return WordFilter(settings.HALLSERVER["WORD_FILTER_CACHE"])


@cache
def presence() -> PresenceService:
    if settings.REDIS_URL:
        store = RedisPresence(
            settings.REDIS_URL,
            prefix=settings.HALLSERVER["REDIS_PREFIX"],
            process_id=hub.process_id,
            pool_size=settings.REDIS_POOL_SIZE,
        )
    else:
        store = MemoryPresence()
    return PresenceService(store, hub, directory)
