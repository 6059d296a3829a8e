"""Operations: /metrics after scripted traffic, who may read it, and the structured log lines
(connection close, refused actions and requests, moderator actions), in one process through
Channels' WebsocketCommunicator; and /metrics of a real daphne process over a real Redis."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from urllib.request import Request, urlopen

import pytest
import redis.asyncio as aioredis
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from booths.models import Booth, Profile, Room
from booths.seed import seed_demo
from hallserver import logs, metrics
from hallserver.realtime.connection import QueuedConnection
from hallserver.realtime.frames import OutFrame
from streaming import store as store_module
from tests.conftest import free_port, server_cluster
from tests.wsclient import ORIGIN, WsClient, session_cookie_for

pytestmark = [pytest.mark.django_db(transaction=True)]


# --- helpers -------------------------------------------------------------------------------------

def samples(text: str) -> dict[tuple, float]:
    """``{(sample name, ((label, value), ...)): value}`` of a Prometheus text page."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


class Scrape:
    def __init__(self, text: str) -> None:
        self.values = samples(text)

    def __call__(self, name: str, **labels: str) -> float:
        return self.values.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(client: AsyncClient | None = None) -> Scrape:
    response = await (client or AsyncClient()).get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return Scrape(response.content.decode())


class ClientAt(AsyncClient):
    """Django's async test client, as if connecting from ``address``."""

    def __init__(self, address: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.address = address

    def _base_scope(self, **request):
        return {**super()._base_scope(**request), "client": [self.address, 1234]}


@database_sync_to_async
def make_world():
    seed_demo()
    User = get_user_model()
    exhibitor = User.objects.get(username="exhibitor")
    booth = Booth.objects.get(boothstaff__user=exhibitor)
    users = {}
    for name in ("Alice", "Bob"):
        user = User.objects.create_user(username=name.lower(), password=None)
        Profile.objects.create(user=user, display_name=name, kind=Profile.Kind.VISITOR)
        users[name] = user
    return {"booth": booth.pk, "room": Room.objects.get(kind="booth", booth=booth).pk,
            "exhibitor": exhibitor, **users}


@pytest.fixture
async def world():
    return await make_world()


@pytest.fixture
def quiet_presence(settings):
    """No coalesced presence or count broadcasts during the test (they would be deliveries
    too): their timers fire an hour later, long after the test."""
    settings.HALLSERVER = {**settings.HALLSERVER, "PRESENCE_INTERVAL": 3600.0,
                           "COUNTS_INTERVAL": 3600.0}


@pytest.fixture
def json_log():
    """Lines logged meanwhile, rendered by the JSON formatter and parsed back."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    root = logging.getLogger()
    root.addHandler(handler)

    def lines(event: str | None = None) -> list[dict]:
        parsed = [json.loads(line) for line in stream.getvalue().splitlines() if line]
        return [p for p in parsed if event is None or p["event"] == event]

    yield lines
    root.removeHandler(handler)


# --- metrics -------------------------------------------------------------------------------------

async def test_metrics_count_scripted_traffic(world, quiet_presence):
    room = world["room"]
    before = await scrape()
    alice = await WsClient(world["Alice"]).connect()
    bob = await WsClient(world["Bob"]).connect()
    anon = await WsClient().connect()
    during = await scrape()
    assert during("hallserver_connections") == 3
    assert during("hallserver_handshake_seconds_count") == \
        before("hallserver_handshake_seconds_count") + 3

    for c in (alice, bob, anon):
        await c.ok("room.join", {"room": room})
    for i in range(4):
        await alice.ok("chat.send", {"room": room, "body": f"message {i}"})
    for c in (alice, bob, anon):
        for i in range(4):
            assert (await c.event("chat.message"))["body"] == f"message {i}"
    assert await anon.error("chat.send", {"room": room, "body": "hi"}) == "auth.required"
    assert await bob.error("chat.send", {"room": 999999, "body": "hi"}) == "room.not_joined"
    await bob.send_raw(json.dumps({"action": "no.such.action", "id": 7}))
    assert (await bob.reply(7))["error"]["code"] == "action.unknown"
    await bob.send_raw("not json")
    assert (await bob.next_frame())["error"]["code"] == "frame.malformed"

    after = await scrape()
    assert after("hallserver_rooms") == 1
    # Four messages to a room of three: twelve deliveries, counted once per fan-out.
    assert after("hallserver_deliveries_total") == before("hallserver_deliveries_total") + 12

    def moved(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    assert moved("hallserver_frames_received_total", action="room.join") == 3
    assert moved("hallserver_frames_received_total", action="chat.send") == 6
    assert moved("hallserver_frames_received_total", action="unknown") == 2
    assert moved("hallserver_action_seconds_count", action="chat.send") == 6
    assert moved("hallserver_action_seconds_count", action="room.join") == 3
    assert moved("hallserver_error_replies_total", code="auth.required") == 1
    assert moved("hallserver_error_replies_total", code="room.not_joined") == 1
    assert moved("hallserver_error_replies_total", code="action.unknown") == 1
    assert moved("hallserver_error_replies_total", code="frame.malformed") == 1
    assert after("process_resident_memory_bytes") > 0

    for c in (alice, bob, anon):
        await c.close()
    closed = await scrape()
    assert closed("hallserver_connections") == 0
    assert closed("hallserver_rooms") == 0


async def test_presence_flushes_are_counted(world):
    before = await scrape()
    alice = await WsClient(world["Alice"]).connect()
    await alice.ok("room.join", {"room": world["room"]})
    await alice.event("presence.update")  # the room's flush went out
    after = await scrape()
    assert after("hallserver_presence_flushes_total", kind="room") >= \
        before("hallserver_presence_flushes_total", kind="room") + 1
    await alice.close()


async def test_slow_client_closes_are_counted():
    before = await scrape()
    stuck = asyncio.Event()

    async def send(message):
        await stuck.wait()  # the client never takes anything

    conn = QueuedConnection(send, max_frames=2)
    for _ in range(3):
        conn.write(OutFrame('{"event":"x"}'))
    assert conn.closed
    after = await scrape()
    assert after("hallserver_slow_client_closes_total") == \
        before("hallserver_slow_client_closes_total") + 1
    conn.stop()


async def test_calls_gauge_follows_a_call(world, settings):
    settings.LIVE_VIDEO = {**settings.LIVE_VIDEO, "KNOCK_TIMEOUT": 30.0}
    store_module.store.cache_clear()
    staff = await WsClient(world["exhibitor"]).connect()
    ada = await WsClient(world["Alice"]).connect()
    await staff.ok("call.listen", {"booths": [world["booth"]]})
    knock = (await ada.ok("call.knock", {"booth": world["booth"]}))["knock"]
    assert (await scrape())("hallserver_calls") == 0
    call = (await staff.ok("call.accept", {"knock": knock}))["call"]
    assert (await scrape())("hallserver_calls") == 1
    await ada.ok("call.hangup", {"call": call})
    assert (await scrape())("hallserver_calls") == 0
    await staff.close()
    await ada.close()
    store_module.store.cache_clear()


async def test_roadshow_gauges_read_the_process_state():
    from streaming import roadshows

    roadshows._local["hub.x|1"] = {1: "presenter"}
    roadshows._local["hub.x|2"] = {1: "viewer", 2: "viewer"}
    try:
        now = await scrape()
        assert now("hallserver_roadshow_viewers") == 2
        assert now("hallserver_roadshow_presenters") == 1
    finally:
        roadshows._local.pop("hub.x|1")
        roadshows._local.pop("hub.x|2")


async def test_redis_round_trips_and_failures_are_counted(redis_url):
    before = await scrape()
    client = aioredis.Redis.from_url(redis_url)
    await client.ping()
    async with client.pipeline(transaction=False) as pipe:
        pipe.set("hallserver-test:metrics", 1).get("hallserver-test:metrics")
        assert (await pipe.execute())[1] == b"1"
    await client.delete("hallserver-test:metrics")
    await client.aclose()
    dead = aioredis.Redis(port=free_port(), retry=None, socket_connect_timeout=1)
    with pytest.raises(aioredis.ConnectionError):
        await dead.ping()
    await dead.aclose()
    after = await scrape()
    assert after("hallserver_redis_round_trips_total", kind="command") - \
        before("hallserver_redis_round_trips_total", kind="command") == 3
    assert after("hallserver_redis_round_trips_total", kind="pipeline") - \
        before("hallserver_redis_round_trips_total", kind="pipeline") == 1
    assert after("hallserver_redis_failures_total", error="connection") - \
        before("hallserver_redis_failures_total", error="connection") == 1


async def test_unregistered_actions_share_one_label():
    assert metrics.label_of("chat.send") == "chat.send"
    assert metrics.label_of("x" * 40) == "unknown"
    assert metrics.label_of(None) == "unknown"


# --- who may read /metrics -----------------------------------------------------------------------

@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.9", "::1"])
async def test_metrics_are_served_to_loopback_and_private_networks(address):
    response = await ClientAt(address).get("/metrics")
    assert response.status_code == 200
    assert b"hallserver_connections" in response.content


@pytest.mark.parametrize("address", ["203.0.113.7", "2001:db8::1", "not-an-address"])
async def test_metrics_are_refused_to_other_addresses(address):
    response = await ClientAt(address).get("/metrics")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "metrics.forbidden"
    assert b"hallserver_" not in response.content


async def test_metrics_allow_list_is_a_setting(settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "METRICS_ALLOW": ["203.0.113.0/24"]}
    assert (await ClientAt("203.0.113.7").get("/metrics")).status_code == 200
    assert (await AsyncClient().get("/metrics")).status_code == 403  # loopback not listed
    settings.HALLSERVER = {**settings.HALLSERVER, "METRICS_ALLOW": []}
    assert (await AsyncClient().get("/metrics")).status_code == 403


async def test_metrics_token_is_required_when_set(settings):
    settings.HALLSERVER = {**settings.HALLSERVER, "METRICS_TOKEN": "s3cret"}
    client = AsyncClient()
    assert (await client.get("/metrics")).status_code == 403
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert right.status_code == 200
    # The token does not open the door to addresses outside the allow list.
    outside = ClientAt("203.0.113.7")
    refused = await outside.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert refused.status_code == 403


async def test_metrics_answer_get_only():
    response = await AsyncClient().post("/metrics")
    assert response.status_code == 405


# --- logs ----------------------------------------------------------------------------------------

async def raw_connect(user=None) -> tuple[WebsocketCommunicator, str]:
    from hallserver.asgi import application

    headers = list(ORIGIN)
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    comm = WebsocketCommunicator(application, "/ws/", headers=headers)
    assert (await comm.connect())[0]
    return comm, await comm.receive_from()


async def test_connection_close_line_has_its_counts(world, quiet_presence, json_log):
    room = world["room"]
    alice = await WsClient(world["Alice"]).connect()
    await alice.ok("room.join", {"room": room})
    bob, ready = await raw_connect(world["Bob"])
    join = json.dumps({"action": "room.join", "id": 1, "data": {"room": room}})
    await bob.send_to(join)
    reply = await bob.receive_from()
    assert json.loads(reply)["ok"]
    await alice.ok("chat.send", {"room": room, "body": "héllo, Bob"})
    message = await bob.receive_from()
    assert json.loads(message)["event"] == "chat.message"
    await bob.disconnect(code=1000)
    await alice.close()

    closes = json_log("connection closed")
    bob_id = json.loads(ready)["data"]["user"]["id"]
    line = next(c for c in closes if c["user_id"] == bob_id)
    assert line["level"] == "info" and line["logger"] == "booths.consumers"
    assert line["timestamp"].endswith("Z")
    assert isinstance(line["conn_id"], int)
    assert line["code"] == 1000
    assert line["duration"] >= 0
    assert (line["frames_in"], line["bytes_in"]) == (1, len(join.encode()))
    # session.ready, the join reply and the chat message (a room frame, credited on leaving).
    assert line["frames_out"] == 3
    assert line["bytes_out"] == sum(len(t.encode()) for t in (ready, reply, message))
    alice_line = next(c for c in closes if c["user_id"] == alice.ready["data"]["user"]["id"])
    assert alice_line["conn_id"] != line["conn_id"]


async def test_refused_action_line(world, json_log):
    bob = await WsClient(world["Bob"]).connect()
    await bob.send_raw(json.dumps({"action": "chat.send", "id": "r-1",
                                   "data": {"room": 424242, "body": "x"}}))
    await bob.reply("r-1")
    await bob.close()
    refused = json_log("request refused")
    assert len(refused) == 1
    line = refused[0]
    assert (line["action"], line["code"], line["request"]) == ("chat.send", "room.not_joined",
                                                               "r-1")
    assert line["user_id"] == world["Bob"].pk and isinstance(line["conn_id"], int)
    closed = json_log("connection closed")[0]
    assert closed["conn_id"] == line["conn_id"]


async def test_refused_connection_line(world, settings, json_log):
    settings.HALLSERVER = {**settings.HALLSERVER, "MAX_CONNECTIONS_PER_USER": 1}
    first = await WsClient(world["Bob"]).connect()
    second, closing = await raw_connect(world["Bob"])
    assert json.loads(closing)["data"]["code"] == "too_many_connections"
    assert (await second.receive_output())["code"] == 4009
    await first.close()
    [line] = json_log("connection refused")
    assert (line["code"], line["close_code"]) == ("too_many_connections", 4009)
    assert line["user_id"] == world["Bob"].pk


async def test_moderator_action_line(world, json_log):
    staff = await WsClient(world["exhibitor"]).connect()
    await staff.ok("mod.slow_mode", {"room": world["room"], "seconds": 10})
    await staff.close()
    [line] = json_log("moderator action")
    assert line["action"] == "mod.slow_mode"
    assert line["actor"] == world["exhibitor"].pk and line["room"] == world["room"]
    assert line["logger"] == "booths.services.moderation"
    # Logged in the database thread on behalf of the connection: its fields came along.
    assert line["user_id"] == world["exhibitor"].pk
    assert line["conn_id"] == json_log("connection closed")[0]["conn_id"]


async def test_refused_http_request_line(world, json_log):
    client = AsyncClient()
    response = await client.get("/api/booths/987654")
    assert response.status_code == 404
    csrf = await AsyncClient(enforce_csrf_checks=True).post("/api/logout")
    assert csrf.status_code == 403
    ok = await client.get("/api/expo")
    assert ok.status_code == 200
    lines = json_log("http refused")
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("GET", "/api/booths/987654", 404), ("POST", "/api/logout", 403)]
    assert lines[0]["code"] == response.json()["error"]["code"]
    # CSRF refusals under /api/ answer the API's error shape too (hallserver.api.csrf_failure).
    assert lines[1]["code"] == csrf.json()["error"]["code"] == "csrf.failed"
    # One line per refusal: not Django's own warning beside ours.
    assert [x for x in json_log() if x.get("logger") == "django.request"] == []


async def test_stdlib_lines_are_structured_too(json_log):
    logging.getLogger("hallserver.test").warning("disk at %d%%", 93)
    [line] = json_log("disk at 93%")
    assert (line["level"], line["logger"]) == ("warning", "hallserver.test")
    assert line["timestamp"]


async def test_connection_fields_stay_with_the_connections_task(json_log):
    log = logs.get_logger("hallserver.test")

    async def connection_task():
        logs.bind_connection(41, 7)
        log.info("in the task")
        await asyncio.to_thread(lambda: log.info("in its database thread"))
        # Background work started from here inherits the context, but is not about it.
        await asyncio.get_running_loop().create_task(background())
        log.info("explicit", conn_id=5)

    async def background():
        log.info("in a background task")
        logging.getLogger("hallserver.test").info("stdlib in a background task")

    await asyncio.create_task(connection_task())
    log.info("outside")
    by_event = {line["event"]: line for line in json_log()}
    assert by_event["in the task"]["conn_id"] == 41 and by_event["in the task"]["user_id"] == 7
    assert by_event["in its database thread"]["conn_id"] == 41
    for event in ("in a background task", "stdlib in a background task", "outside"):
        assert "conn_id" not in by_event[event] and "user_id" not in by_event[event]
    assert by_event["explicit"]["conn_id"] == 5


def test_console_format_is_readable():
    record = logging.LogRecord("hallserver.test", logging.INFO, __file__, 1,
                               "room %s ready", (12,), None)
    line = logs.formatter("console").format(record)
    assert "room 12 ready" in line and "info" in line and "hallserver.test" in line
    assert not line.startswith("{")


def test_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="HALLSERVER_LOG_FORMAT"):
        logs.logging_config("xml", "INFO")


# --- a real daphne process -----------------------------------------------------------------------

def output_has(proc, text: str, times: int, within: float = 10) -> bool:
    """Wait until ``text`` appears ``times`` times in the process's output (the event
    itself; ``within`` is only a safety net)."""
    deadline = time.monotonic() + within
    while proc.output().count(text) < times:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def http_get(url: str) -> str:
    with urlopen(Request(url), timeout=10) as resp:
        return resp.read().decode()


@pytest.mark.system
async def test_metrics_of_a_real_process(tmp_path_factory, redis_url):
    from tests.test_system import Client, guest_cookie, rooms_of

    with server_cluster(tmp_path_factory, redis_url, ("web1", "daphne")) as (web,):
        room = rooms_of(web)["booth"]
        cookie = guest_cookie(web.url, "Metered")
        before = Scrape(http_get(f"{web.url}/metrics"))
        async with Client(web, cookie) as sender, Client(web) as listener:
            await sender.call("room.join", {"room": room})
            await listener.call("room.join", {"room": room})
            for i in range(3):
                await sender.call("chat.send", {"room": room, "body": f"m{i}"})
            for i in range(3):
                await listener.wait_event("chat.message", match=lambda d, i=i:
                                          d["body"] == f"m{i}")
            await sender.wait_event("chat.message", match=lambda d: d["body"] == "m2")
            during = Scrape(http_get(f"{web.url}/metrics"))
        assert during("hallserver_connections") == 2
        assert during("hallserver_rooms") == 1

        def moved(name: str, **labels: str) -> float:
            return during(name, **labels) - before(name, **labels)

        assert moved("hallserver_frames_received_total", action="chat.send") == 3
        assert moved("hallserver_frames_received_total", action="room.join") == 2
        assert moved("hallserver_action_seconds_count", action="chat.send") == 3
        assert moved("hallserver_handshake_seconds_count") == 2
        # Three messages to two members; presence updates of the room are fan-outs too.
        assert moved("hallserver_deliveries_total") >= 6
        assert moved("hallserver_redis_round_trips_total", kind="command") >= 3  # publishes
        assert during("hallserver_redis_failures_total", error="connection") == 0
        # Each connection's close is one log line of the process (console format here).
        assert await asyncio.to_thread(output_has, web, "connection closed", 2)

