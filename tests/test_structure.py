"""The layers' convention (docs/architecture.md): services raise domain errors and know
nothing of the protocol; the action layer turns a domain error into the error reply, in one
place."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from booths import actions
from booths.errors import ChatError
from booths.protocol import ProtocolError, RoomRef
from hallserver.errors import DomainError
from streaming.errors import CallError, RoadshowError

ROOT = Path(__file__).resolve().parent.parent
#: Domain logic: these modules may not import a protocol (schemas, error replies) module.
SERVICES = [*sorted((ROOT / "booths" / "services").glob("*.py")),
            ROOT / "streaming" / "calls.py", ROOT / "streaming" / "store.py",
            *sorted((ROOT / "recruitment" / "services").glob("*.py")),
            *sorted((ROOT / "accounts" / "services").glob("*.py")),
            *sorted((ROOT / "docking" / "services").glob("*.py"))]
PROTOCOL_MODULES = {"booths.protocol", "streaming.protocol", "booths.actions",
                    "streaming.actions", "booths.consumers", "recruitment.actions",
                    "recruitment.api", "accounts.api", "hallserver.api", "docking.actions",
                    "docking.api"}


def imported_modules(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_import_reader_sees_relative_and_absolute_imports():
    names = imported_modules(ROOT / "booths" / "moderation.py")
    assert "booths.protocol" in names and "hallserver.realtime.hub" in names


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_services_do_not_import_the_protocol(path):
    assert imported_modules(path) & PROTOCOL_MODULES == set()


@pytest.mark.parametrize("error", [
    ChatError("chat.muted", "You are muted here.", {"until": None, "room": 4}),
    CallError("call.busy", "You are already in a call."),
    RoadshowError("roadshow.ended", "This roadshow has ended."),
    DomainError("some.code", "A future app's refusal.", {"retry_after": 2.5}),
])
async def test_a_domain_error_becomes_the_error_reply_unchanged(error):
    async def refuse(session, data):
        raise error

    actions.HANDLERS["test.refuse"] = refuse
    session = SimpleNamespace(budget=SimpleNamespace(take=lambda: None))
    try:
        with pytest.raises(ProtocolError) as caught:
            await actions.Session.handle(session, "test.refuse", RoomRef(room=1))
    finally:
        del actions.HANDLERS["test.refuse"]
    assert (caught.value.code, caught.value.message, caught.value.extra) == (
        error.code, error.message, error.extra)
