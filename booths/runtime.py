"""The process-wide services of the booths app, wired to the hub on first use."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from hallserver.realtime.hub import hub

from .services import chat
from .services.presence import MemoryPresence, PresenceService, RedisPresence
from .services.rooms import directory


def install() -> None:
    """Let the hub fill chat gaps and read sequence counters from the chat store."""
    hub.gap_fetcher = chat.frames_between
    hub.seq_loader = chat.last_seqs


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
