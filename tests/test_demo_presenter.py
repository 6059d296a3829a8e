"""``hallserver demo`` runs a synthetic presenter on the demo's live roadshow: a viewer over a
real WebSocket (aiortc) receives its frames; a live roadshow nobody presents says so."""

from __future__ import annotations

import json
import urllib.request

import pytest

from streaming.synthetic import WsSession, view
from tests.conftest import ManagedProcess, free_port, server_env

pytestmark = pytest.mark.system


def _live_roadshow(url: str) -> dict:
    with urllib.request.urlopen(url + "/api/expo", timeout=10) as resp:
        roadshows = json.load(resp)["roadshows"]
    return next(r for r in roadshows if r["state"] == "live")


async def _wait_listening(proc: ManagedProcess, port: int) -> None:
    import asyncio

    async with asyncio.timeout(60):
        while True:
            if proc.proc.poll() is not None:
                raise RuntimeError(proc.output())
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.2)
                continue
            writer.close()
            return


@pytest.fixture
def demo(tmp_path):
    """``hallserver demo`` on a free port, with its own database; (url, process)."""
    def start(**extra: str):
        port = free_port()
        env = server_env(tmp_path, **extra)
        proc = ManagedProcess(["demo", "--port", str(port)], env, "demo")
        started.append(proc)
        return f"http://127.0.0.1:{port}", port, proc

    started: list[ManagedProcess] = []
    yield start
    for proc in started:
        proc.stop()


def recording(session: WsSession, replies: dict):
    """``session.call`` that also keeps each action's last reply in ``replies``."""
    async def call(action: str, data: dict) -> dict:
        replies[action] = await session.call(action, data)
        return replies[action]
    return call


async def test_the_demo_live_roadshow_has_a_presenter(demo):
    url, port, proc = demo()
    await _wait_listening(proc, port)
    roadshow = _live_roadshow(url)
    viewer = WsSession(url)
    await viewer.connect()
    await viewer.call("room.join", {"room": roadshow["room"]})
    replies: dict = {}
    pc, counter = await view(recording(viewer, replies), viewer.wait_answer, roadshow["id"])
    if not replies["roadshow.view"]["presenting"]:
        # The presenter logs in and publishes a moment after the server listens.
        started = await viewer.event("roadshow.presenter", within=60)
        assert started == {"roadshow": roadshow["id"], "presenting": True}
        await pc.close()
        pc, counter = await view(recording(viewer, replies), viewer.wait_answer,
                                 roadshow["id"])
        assert replies["roadshow.view"]["presenting"] is True
    frames = await counter
    assert await frames.wait_frames(15, within=30), "no frames from the demo presenter"
    assert frames.width > 0
    frames.stop()
    await pc.close()
    await viewer.close()
    assert "synthetic presenter" in proc.output()


async def test_without_the_demo_presenter_the_stage_waits(demo):
    url, port, proc = demo(HALLSERVER_DEMO_PRESENTER="false")
    await _wait_listening(proc, port)
    roadshow = _live_roadshow(url)
    viewer = WsSession(url)
    await viewer.connect()
    await viewer.call("room.join", {"room": roadshow["room"]})
    replies: dict = {}
    pc, _ = await view(recording(viewer, replies), viewer.wait_answer, roadshow["id"])
    assert replies["roadshow.view"] == {"roadshow": roadshow["id"], "presenting": False}
    await pc.close()
    await viewer.close()
