"""The upgrade guard for daphne/autobahn/Twisted internals, and uvicorn without any of daphne.

The guard (hallserver/realtime/internals.py) runs when ``hallserver serve`` starts daphne; here
it runs against the installed packages, so an upgrade that moves a name fails in CI with the
name, and a uvicorn process is checked to have imported neither daphne nor Twisted's reactor.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hallserver.realtime import internals
from tests.conftest import ROOT, free_port, server_env


def test_daphne_autobahn_twisted_are_the_pinned_versions_with_the_internals_we_use():
    assert internals.version_mismatches() == [], (
        "hallserver/realtime/server.py touches these packages' internals: re-check them, then "
        "update PINNED in hallserver/realtime/internals.py and pyproject.toml")
    assert internals.missing_names() == []
    internals.check_internals()  # what `hallserver serve` runs before daphne starts


def test_the_pins_agree_with_pyproject():
    text = (ROOT / "pyproject.toml").read_text()
    for dist, version in internals.PINNED.items():
        assert f'"{dist}=={version}"' in text


@pytest.mark.parametrize(("module", "owner", "name", "reported"), [
    ("daphne.server", "Server", "handle_reply", "daphne.server.Server.handle_reply"),
    ("autobahn.websocket.protocol", "WebSocketProtocol", "onMessageFrameBegin",
     "autobahn.websocket.protocol.WebSocketProtocol.onMessageFrameBegin"),
    ("autobahn.websocket.protocol", "", "hlval", "autobahn.websocket.protocol.hlval"),
])
def test_a_moved_name_stops_the_server_with_the_name(monkeypatch, module, owner, name, reported):
    target = __import__(module, fromlist=["_"])
    if owner:
        target = getattr(target, owner)
    monkeypatch.delattr(target, name)
    with pytest.raises(internals.InternalsMoved) as caught:
        internals.check_internals()
    assert reported in str(caught.value)


def test_a_moved_instance_attribute_and_option_are_named(monkeypatch):
    import inspect

    real = inspect.getsource

    def source(obj):
        text = real(obj)
        if getattr(obj, "__name__", "") == "twisted.internet.abstract":
            text = text.replace("self._tempDataLen", "self._pendingLength")
        return text

    monkeypatch.setattr(internals.inspect, "getsource", source)
    monkeypatch.setattr(internals, "FACTORY_OPTIONS", (*internals.FACTORY_OPTIONS, "noSuchOpt"))
    missing = internals.missing_names()
    assert missing == ["twisted.internet.abstract: self._tempDataLen",
                       "autobahn WebSocketServerProtocol option noSuchOpt"]


def test_another_version_is_reported(monkeypatch):
    monkeypatch.setitem(internals.PINNED, "autobahn", "0.0.1")
    assert internals.version_mismatches() == [
        f"autobahn is {internals.metadata.version('autobahn')}, Hallserver was checked "
        "against 0.0.1"]


# A uvicorn process: once it serves, a WebSocket connects and gets its session.ready, then the
# process prints which modules of daphne, of Twisted's reactor and networking, and of autobahn's
# Twisted side it has imported, and exits. (structlog imports twisted.python.log and
# twisted.logger when Twisted is installed; neither has a reactor.)
_UVICORN_PROBE = """
import asyncio, json, sys
import uvicorn
import websockets

port = int(sys.argv[1])
started = uvicorn.Server.startup

async def startup(self, sockets=None):
    await started(self, sockets)

    async def probe():
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/",
                                      origin=f"http://127.0.0.1:{port}") as ws:
            ready = json.loads(await ws.recv())
        loaded = sorted(m for m in sys.modules if m.split(".")[0] == "daphne"
                        or m.startswith(("twisted.internet", "autobahn.twisted")))
        print("PROBE", json.dumps({"ready": ready.get("event"), "loaded": loaded}), flush=True)
        self.should_exit = True

    asyncio.get_running_loop().create_task(probe())

uvicorn.Server.startup = startup
from hallserver.cli import main
main(["serve", "--server", "uvicorn", "--port", str(port)])
"""


@pytest.mark.system
def test_uvicorn_serves_without_importing_daphne_or_twisteds_reactor(tmp_path):
    env = server_env(tmp_path)
    env.pop("HALLSERVER_SERVER", None)
    subprocess.run([sys.executable, "-m", "hallserver", "manage", "migrate", "--noinput", "-v0"],
                   cwd=ROOT, env=env, check=True)
    done = subprocess.run([sys.executable, "-c", _UVICORN_PROBE, str(free_port())], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    assert lines, done.stdout + done.stderr
    report = json.loads(lines[0].removeprefix("PROBE "))
    assert report == {"ready": "session.ready", "loaded": []}
