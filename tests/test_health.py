"""/healthz and /readyz (hallserver/health.py), through the real ASGI application."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from channels.testing import HttpCommunicator
from django.db import OperationalError

from hallserver import health
from hallserver.asgi import application
from tests.conftest import free_port

# Generous, for a loaded machine: a wait for an answer, never a measure of speed.
ANSWER_TIMEOUT = 20


async def get(path: str, method: str = "GET", host: str = "127.0.0.1") -> tuple[int, dict, dict]:
    communicator = HttpCommunicator(application, method, path,
                                    headers=[(b"host", host.encode())])
    response = await communicator.get_response(timeout=ANSWER_TIMEOUT)
    headers = {k.decode().lower(): v.decode() for k, v in response["headers"]}
    body = json.loads(response["body"]) if response["body"] else {}
    return response["status"], headers, body


def pubsub_layer(url: str) -> dict:
    return {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                        "CONFIG": {"hosts": [{"address": url}], "prefix": "health-test:"}}}


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A TCP port that accepts connections (the kernel completes the handshake) and never
    answers: a Redis that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


# --- /healthz --------------------------------------------------------------------------------

async def test_healthz_is_ok():
    status, headers, body = await get("/healthz")
    assert status == 200 and body == {"status": "ok"}
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"


async def test_healthz_answers_while_djangos_sync_thread_is_busy():
    """Alive means the event loop answers: /healthz does not queue behind the thread Django
    runs its synchronous code (views, middleware, signals) in."""
    release = threading.Event()
    busy = asyncio.ensure_future(sync_to_async(release.wait)())
    try:
        status, _, body = await get("/healthz")
        assert status == 200 and body == {"status": "ok"}
        assert not busy.done()
    finally:
        release.set()
        await busy


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_probes_by_ip_address_pass_without_allowed_hosts(settings, path):
    # (The application is imported at the top of this module: its WebSocket origin check
    # takes ALLOWED_HOSTS when it is built, and must not take this test's.)
    settings.ALLOWED_HOSTS = ["expo.example.org"]
    status, _, _ = await get(path, host="10.20.30.40:8000")
    assert status == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_probes_answer_get_and_head_only(path):
    status, headers, body = await get(path, method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert body["error"]["code"] == "method.not_allowed"
    status, _, body = await get("/healthz", method="HEAD")
    assert status == 200 and body == {}


# --- /readyz ---------------------------------------------------------------------------------

def assert_check(result: dict, ok: bool) -> None:
    assert result["ok"] is ok
    assert isinstance(result["ms"], float) and result["ms"] >= 0
    if not ok:
        assert result["error"]


@pytest.mark.django_db(transaction=True)
async def test_readyz_without_redis_checks_the_database_and_the_in_memory_layer(settings):
    settings.REDIS_URL = ""
    status, _, body = await get("/readyz")
    assert status == 200
    assert body["status"] == "ok" and "failing" not in body
    checks = body["checks"]
    assert set(checks) == {"database", "redis", "channel_layer"}
    for result in checks.values():
        assert_check(result, True)
    assert "REDIS_URL" in checks["redis"]["skipped"]


@pytest.mark.django_db(transaction=True)
async def test_readyz_with_a_real_redis(settings, redis_url):
    settings.REDIS_URL = redis_url
    settings.CHANNEL_LAYERS = pubsub_layer(redis_url)
    status, _, body = await get("/readyz")
    assert status == 200, body
    assert body["status"] == "ok"
    for name in ("database", "redis", "channel_layer"):
        assert_check(body["checks"][name], True)
        assert "skipped" not in body["checks"][name]


@pytest.mark.django_db(transaction=True)
async def test_readyz_is_503_naming_redis_when_nothing_listens(settings):
    url = f"redis://127.0.0.1:{free_port()}/0"  # closed: connections are refused
    settings.REDIS_URL = url
    settings.CHANNEL_LAYERS = pubsub_layer(url)
    status, _, body = await get("/readyz")
    assert status == 503
    assert body["status"] == "failing"
    assert body["failing"] == ["redis", "channel_layer"]
    assert_check(body["checks"]["database"], True)
    assert_check(body["checks"]["redis"], False)
    assert_check(body["checks"]["channel_layer"], False)
    # Only the exception's type: the public body does not name internal addresses.
    assert "127.0.0.1" not in json.dumps(body)


@pytest.mark.django_db(transaction=True)
async def test_readyz_gives_up_on_a_redis_that_hangs(settings, silent_redis):
    settings.REDIS_URL = silent_redis
    settings.CHANNEL_LAYERS = pubsub_layer(silent_redis)
    settings.HALLSERVER = {**settings.HALLSERVER, "READY_TIMEOUT": 0.5}
    status, _, body = await get("/readyz")
    assert status == 503
    assert body["failing"] == ["redis", "channel_layer"]
    for name in body["failing"]:
        assert body["checks"][name]["error"] in ("no answer within 0.5 s", "TimeoutError")


@pytest.mark.django_db(transaction=True)
async def test_readyz_is_503_naming_the_database_when_it_fails(settings, monkeypatch):
    settings.REDIS_URL = ""

    def refused() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_select_one", refused)
    status, _, body = await get("/readyz")
    assert status == 503
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert_check(body["checks"]["channel_layer"], True)
