"""The adjustments hallserver.realtime.server makes to autobahn keep its behaviour."""

from __future__ import annotations

import pprint

import autobahn.websocket.protocol as autobahn_protocol

import hallserver.realtime.server  # noqa: F401  (applies the adjustment on import)


def test_autobahn_debug_arguments_are_formatted_only_when_logged():
    value = [("autoPingInterval", 20, "WebSocketServerFactory"), ("utf8validateIncoming", True,
                                                                  "WebSocketServerFactory")]
    lazy = autobahn_protocol.pformat(value)
    assert not isinstance(lazy, str)  # nothing formatted yet
    # txaio formats log messages with str.format_map
    assert "\n{attrs}".format_map({"attrs": lazy}) == "\n" + pprint.pformat(value)
    assert str(lazy) == pprint.pformat(value)


def test_autobahn_highlighted_names_and_values_are_formatted_only_when_logged():
    import autobahn.twisted.websocket as autobahn_twisted
    from autobahn import util

    class Peer:
        def __init__(self) -> None:
            self.formatted = 0

        def __str__(self) -> str:
            self.formatted += 1
            return "tcp:127.0.0.1:5000"

    for module in (autobahn_protocol, autobahn_twisted):
        peer = Peer()
        value = module.hlval(peer)
        name = module.hltype(Peer.__str__)
        assert peer.formatted == 0  # nothing formatted yet
        assert "{v} {n}".format_map({"v": value, "n": name}) == (
            f"{util.hlval(peer)} {util.hltype(Peer.__str__)}")
        assert str(value) == util.hlval(peer)


def test_autobahn_timings_still_print_as_text():
    timings = autobahn_protocol.Timings()
    timings.track("opened")
    assert isinstance(str(timings), str) and "opened" in str(timings)


def test_serve_freezes_startup_objects_and_raises_the_gc_threshold():
    """Run in a child interpreter: freezing the test process's heap would leak into others."""
    import subprocess
    import sys

    code = ("import gc; from hallserver.cli import _tune_gc; before = gc.get_threshold(); "
            "_tune_gc(12345); after = gc.get_threshold(); "
            "print(after[0], after[1:] == before[1:], gc.get_freeze_count() > 1000); "
            "_tune_gc(0); print(gc.get_threshold()[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout.split()
    assert out == ["12345", "True", "True", "12345"]  # 0 leaves the threshold as it was
