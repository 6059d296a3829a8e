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


def test_autobahn_timings_still_print_as_text():
    timings = autobahn_protocol.Timings()
    timings.track("opened")
    assert isinstance(str(timings), str) and "opened" in str(timings)
