"""The upgrade guard for the daphne, autobahn and Twisted internals Hallserver relies on.

:mod:`hallserver.realtime.server` subclasses and patches daphne's server and WebSocket
protocol, :mod:`hallserver.realtime.connection` reads Twisted's transport buffers and
:mod:`hallserver.realtime.frames` uses autobahn's frame encoder. None of that is public API;
the versions are pinned in pyproject.toml. :func:`check_internals` looks up every name used on
the real objects: ``hallserver serve`` runs it before it starts daphne and refuses to start
when a name moved, and tests/test_server_internals.py runs it (and checks the pins) in CI,
so an upgrade fails with a message that says what moved rather than with a reset connection.

Under uvicorn nothing here is imported.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
from importlib import metadata

log = logging.getLogger(__name__)

#: The distributions whose internals are used, at the versions they were checked against.
PINNED = {"daphne": "4.2.3", "autobahn": "26.10.2", "Twisted": "26.10.0"}

#: Names looked up as attributes: module → {object path ("" for the module) → names}.
ATTRIBUTES: dict[str, dict[str, tuple[str, ...]]] = {
    "daphne.server": {
        "Server": ("run", "protocol_disconnected", "application_checker", "create_application",
                   "handle_reply", "stop"),
    },
    "daphne.ws_protocol": {
        "WebSocketProtocol": ("onConnect", "onOpen", "onMessage", "onClose", "muted",
                              "handle_exception", "serverClose", "applicationCreateWorked"),
        "WebSocketFactory": ("protocol", "setProtocolOptions"),
    },
    "autobahn.websocket.protocol": {
        "": ("pformat", "hltype", "hlval", "Timings", "PreparedMessage"),
        "Timings": ("__str__",),
        "PreparedMessage": ("__init__",),
        "WebSocketProtocol": ("_connectionMade", "onOpen", "onMessageBegin",
                              "onMessageFrameBegin", "onMessageFrameData", "onMessageFrameEnd",
                              "onMessageEnd", "sendData", "sendClose", "dropConnection",
                              "onCloseFrame", "STATE_OPEN",
                              "STATE_CLOSING", "CONFIG_ATTRS_COMMON"),
        "WebSocketServerProtocol": ("CONFIG_ATTRS",),
        "WebSocketServerFactory": ("setProtocolOptions",),
    },
    "autobahn.twisted.websocket": {"": ("hltype", "hlval")},
    "twisted.internet.tcp": {"Server": ("write", "unregisterProducer")},
    "twisted.internet.abstract": {"FileDescriptor": ("dataBuffer", "offset", "producer")},
    "twisted.internet.protocol": {"Protocol": ("factory", "makeConnection")},
    "twisted.web.http": {"": ("HTTPChannel",)},
}

#: Attributes that only instances have: module → names the module's source must assign
#: (``self.<name> =``).
INSTANCE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "daphne.server": ("connections", "application", "application_close_timeout", "ws_factory"),
    "daphne.ws_protocol": ("application_queue", "last_ping", "request", "client_addr"),
    "autobahn.websocket.protocol": (
        "state", "send_queue", "message_data",
        "message_data_total_length", "frame_length", "frame_data", "payloadHybi", "_timings",
        "trackedTimings", "utf8validateIncomingCurrentMessage", "wasClean",
    ),
    "twisted.internet.abstract": ("_tempDataLen",),
    "twisted.internet.tcp": ("socket",),
    "twisted.internet.protocol": ("transport",),
}

#: Options set on daphne's WebSocket factory that autobahn must still accept.
FACTORY_OPTIONS = ("utf8validateIncoming", "closeHandshakeTimeout", "maxMessagePayloadSize",
                   "maxFramePayloadSize", "autoPingTimeout", "openHandshakeTimeout")


class InternalsMoved(RuntimeError):
    """A daphne/autobahn/Twisted internal Hallserver relies on is not where it was."""


def version_mismatches() -> list[str]:
    """What is installed at another version than :data:`PINNED`, one line each."""
    found = []
    for dist, pinned in PINNED.items():
        try:
            installed = metadata.version(dist)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            found.append(f"{dist} is {installed}, Hallserver was checked against {pinned}")
    return found


def missing_names() -> list[str]:
    """Every name of :data:`ATTRIBUTES`, :data:`INSTANCE_ATTRIBUTES` and
    :data:`FACTORY_OPTIONS` that the installed packages lack, as ``module.object.name``."""
    missing = []
    for module_name, objects in ATTRIBUTES.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            missing.append(f"{module_name} (cannot import: {exc})")
            continue
        for path, names in objects.items():
            target = module
            for part in filter(None, path.split(".")):
                target = getattr(target, part, None)
            where = f"{module_name}.{path}" if path else module_name
            if target is None:
                missing.append(where)
                continue
            missing += [f"{where}.{name}" for name in names if not hasattr(target, name)]
    for module_name, names in INSTANCE_ATTRIBUTES.items():
        try:
            source = inspect.getsource(importlib.import_module(module_name))
        except (ImportError, OSError) as exc:
            missing.append(f"{module_name} (cannot read: {exc})")
            continue
        missing += [f"{module_name}: self.{name}" for name in names
                    if not re.search(rf"self\.{re.escape(name)}\s*(:[^=\n]*)?=", source)]
    try:
        from autobahn.websocket.protocol import WebSocketServerProtocol

        options = set(WebSocketServerProtocol.CONFIG_ATTRS)
        missing += [f"autobahn WebSocketServerProtocol option {name}"
                    for name in FACTORY_OPTIONS if name not in options]
    except (ImportError, AttributeError):
        pass  # reported above
    return missing


def check_internals() -> None:
    """Raise :class:`InternalsMoved` naming every internal that is gone; log a warning for
    packages at other versions than the pins (their internals are all there)."""
    missing = missing_names()
    versions = version_mismatches()
    if missing:
        raise InternalsMoved(
            "hallserver.realtime (server.py, connection.py, frames.py) relies on daphne, "
            "autobahn and Twisted internals that moved: " + "; ".join(missing)
            + (". Installed: " + "; ".join(versions) if versions else "")
            + ". Re-check hallserver/realtime/server.py against the new versions, or install "
            "the pinned ones (pyproject.toml).")
    for line in versions:
        log.warning("%s; its internals used by hallserver.realtime.server are all present",
                    line)
