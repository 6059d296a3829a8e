"""Live video across processes: two daphne processes, a real Redis and a `hallserver
media-worker` process; clients on real WebSockets, media on aiortc over loopback.

- a booth call whose visitor and staff member are on different processes: knocks, the accept
  and the signalling reach exactly the peer's connection on the other process;
- a roadshow presented through one web process and viewed through the other, its media going
  through the separate media worker process.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from urllib.request import Request, urlopen

import pytest

from streaming.synthetic import present, view
from tests.conftest import ManagedProcess, ServerProcess, prepare_database, server_env
from tests.test_streaming_calls import OFFER
from tests.test_system import Client, _read, guest_cookie, http_json

pytestmark = pytest.mark.system


class WorkerProcess(ManagedProcess):
    """``hallserver media-worker`` in a subprocess, ready once it says so."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(["media-worker", "--name", "test-media"], env, "media")
        deadline = time.monotonic() + 30
        while "media worker test-media ready" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"media worker did not start:\n{self.output()}")
            time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis_url):
    data_dir = tmp_path_factory.mktemp("live-cluster")
    prefix = f"tl{os.getpid()}-{time.monotonic_ns()}:"
    env = server_env(data_dir, REDIS_URL=redis_url, HALLSERVER_REDIS_PREFIX=prefix,
                     HALLSERVER_MEDIA_WORKER_MODE="external")
    prepare_database(env)
    started = []
    try:
        for name in ("web1", "web2"):
            started.append(ServerProcess(env, name))
        started.append(WorkerProcess(env))
        yield started
    finally:
        for process in started:
            process.stop()


def login_cookie(base: str, username: str, password: str) -> str:
    _, cookie = http_json(f"{base}/api/session")
    token = dict(c.split("=", 1) for c in cookie.split("; "))["csrftoken"]
    req = Request(f"{base}/api/login", data=json.dumps(
        {"username": username, "password": password}).encode(), headers={
        "Cookie": cookie, "Content-Type": "application/json", "X-CSRFToken": token,
        "Referer": base + "/"})
    with urlopen(req, timeout=10) as resp:
        for c in resp.headers.get_all("Set-Cookie"):
            k, v = c.split(";", 1)[0].split("=", 1)
            if k == "sessionid":
                return f"sessionid={v}"
    raise AssertionError("no session cookie")


async def test_booth_call_between_processes(cluster):
    web1, web2, _ = cluster
    staff_cookie = login_cookie(web2.url, "exhibitor", "exhibitor-demo")
    async with Client(web2, staff_cookie) as staff, \
            Client(web1, guest_cookie(web1.url, "Gus")) as guest:
        booth = staff.user["staff_of"][0]
        await staff.call("call.listen", {"booths": [booth]})
        knock = await guest.call("call.knock", {"booth": booth})
        assert knock["position"] == 1
        queue = await staff.wait_event("call.knocks", match=lambda d: d["knocks"])
        assert queue["knocks"][0]["user"]["name"] == "Gus"
        accepted = await staff.call("call.accept", {"knock": knock["knock"]})
        call = accepted["call"]
        assert (await guest.wait_event("call.accepted"))["call"] == call
        await staff.call("call.signal", {"call": call, "type": "offer", "sdp": OFFER})
        assert (await guest.wait_event("call.signal"))["sdp"] == OFFER
        await guest.call("call.signal", {"call": call, "type": "answer", "sdp": OFFER})
        assert (await staff.wait_event("call.signal"))["type"] == "answer"
        candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host", "sdpMid": "0",
                     "sdpMLineIndex": 0, "usernameFragment": None}
        await guest.call("call.signal", {"call": call, "type": "candidate",
                                         "candidate": candidate})
        assert (await staff.wait_event("call.signal"))["candidate"] == candidate
        await guest.call("call.hangup", {"call": call})
        assert await staff.wait_event("call.ended") == {"call": call, "reason": "hangup"}


async def test_group_call_between_processes(cluster):
    """Staff on web2 takes a visitor of web1 and then one of web2 into one call: the joins, the
    signals (by ``to``, with ``from``) and the leaves cross the processes."""
    web1, web2, _ = cluster
    staff_cookie = login_cookie(web2.url, "exhibitor", "exhibitor-demo")
    async with Client(web2, staff_cookie) as staff, \
            Client(web1, guest_cookie(web1.url, "Gia")) as gia, \
            Client(web2, guest_cookie(web2.url, "Hugo")) as hugo:
        booth = staff.user["staff_of"][0]
        await staff.call("call.listen", {"booths": [booth]})
        knock = await gia.call("call.knock", {"booth": booth})
        call = (await staff.call("call.accept", {"knock": knock["knock"]}))["call"]
        await gia.wait_event("call.accepted")
        knock = await hugo.call("call.knock", {"booth": booth})
        added = await staff.call("call.accept", {"knock": knock["knock"], "call": call})
        assert [p["name"] for p in added["participants"]] == ["Gia", "Erik Exhibitor", "Hugo"]
        accepted = await hugo.wait_event("call.accepted")
        assert (accepted["call"], accepted["role"]) == (call, "offerer")
        for client in (gia, staff):
            joined = await client.wait_event("call.participant_joined")
            assert joined["participant"]["id"] == hugo.user["id"]

        # The newcomer offers to each participant, on either process; each answers to him.
        for client in (gia, staff):
            await hugo.call("call.signal", {"call": call, "to": client.user["id"],
                                            "type": "offer", "sdp": OFFER})
            got = await client.wait_event("call.signal")
            assert (got["from"], got["sdp"]) == (hugo.user["id"], OFFER)
            await client.call("call.signal", {"call": call, "to": hugo.user["id"],
                                              "type": "answer", "sdp": OFFER})
            got = await hugo.wait_event("call.signal")
            assert (got["from"], got["type"]) == (client.user["id"], "answer")

        # Gia (web1) leaves; the call goes on between the two on web2 until one hangs up.
        await gia.call("call.hangup", {"call": call})
        for client in (staff, hugo):
            left = await client.wait_event("call.participant_left")
            assert (left["participant"]["id"], left["reason"]) == (gia.user["id"], "hangup")
        await hugo.call("call.hangup", {"call": call})
        assert await staff.wait_event("call.ended") == {"call": call, "reason": "hangup"}


async def test_roadshow_through_the_media_worker_process(cluster):
    web1, web2, _ = cluster
    cookie = login_cookie(web1.url, "exhibitor", "exhibitor-demo")
    async with Client(web1, cookie) as presenter:
        booth = _read(Request(f"{web1.url}/api/booths/{presenter.user['staff_of'][0]}"))
        roadshow = next(r for r in booth["roadshows"] if r["state"] != "ended")["id"]
        await presenter.call("roadshow.start", {"roadshow": roadshow})

        async def answer_of(client: Client):
            return await client.wait_event("roadshow.answer", within=20)

        pc, _ = await present(presenter.call, lambda: answer_of(presenter), roadshow)
        pcs = [pc]
        try:
            async with Client(web2, guest_cookie(web2.url, "Vi")) as v1, \
                    Client(web2, guest_cookie(web2.url, "Va")) as v2:
                counters = []
                for client in (v1, v2):
                    vpc, counter = await view(client.call, lambda c=client: answer_of(c),
                                              roadshow)
                    pcs.append(vpc)
                    counters.append(await asyncio.wait_for(counter, 20))
                for counter in counters:
                    assert await counter.wait_frames(20, within=30), counter.frames
        finally:
            for p in pcs:
                await p.close()
            await presenter.call("roadshow.end", {"roadshow": roadshow})
