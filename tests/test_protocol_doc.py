"""docs/protocol.md is the contract: its actions, events, error codes and examples must match
what the code accepts and emits."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings

from booths import actions
from booths.protocol import ACTIONS, ALL_ERROR_CODES, ChatHistoryData, parse_frame
from hallserver.realtime.connection import CLOSE_SLOW_CONSUMER

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
SOURCE_DIRS = [ROOT / "booths", ROOT / "hallserver", ROOT / "streaming", ROOT / "recruitment",
               ROOT / "console", ROOT / "docking"]

# event("name", ...) builds a frame; tell_moderators(room, "name", ...) sends one to moderators.
EVENT_CALL = re.compile(
    r"""(?:\bevent\(|\btell_moderators\([^,()]+(?:\([^()]*\))?,)\s*["']([a-z_.]+)["']""")


def section(title: str) -> str:
    """The text under ``## title``, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert match, f"protocol.md has no section {title!r}"
    return match.group(1)


def headings(text: str) -> list[str]:
    return re.findall(r"^### `([^`]+)`\s*$", text, re.M)


def subsections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of every ``### `` subsection of ``text``."""
    return re.findall(r"^### ([^\n]+)\n(.*?)(?=^### |\Z)", text, re.M | re.S)


def documented_actions() -> list[str]:
    """Actions: backticked names in ``### `` headings outside "Events" (``### `a` / `b` ``),
    and list items ``- `name` `data`: ...`` (e.g. the Q&A actions)."""
    text = re.sub(r"^## Events\n.*?(?=^## )", "", DOC, flags=re.M | re.S)
    names = []
    for heading, body in subsections(text):
        if "event" in heading.lower():
            continue
        names += re.findall(r"`([a-z_]+(?:\.[a-z_]+)?)`", heading)
        names += re.findall(r"^- `([a-z_]+(?:\.[a-z_]+)?)` `data`", body, re.M)
    return names


#: The end of an action heading: `` · [booths/actions.py](../booths/actions.py)``.
HANDLER_LINK = re.compile(r" · \[([a-z_/]+\.py)\]\(\.\./([a-z_/]+\.py)\)\s*$")


def documented_handlers() -> dict[str, str]:
    """Action → the module file its heading names (list items under a heading: the
    heading's). Every heading that documents an action must name one."""
    text = re.sub(r"^## Events\n.*?(?=^## )", "", DOC, flags=re.M | re.S)
    found: dict[str, str] = {}
    for heading, body in subsections(text):
        if "event" in heading.lower():
            continue
        names = re.findall(r"`([a-z_]+(?:\.[a-z_]+)?)`", heading)
        names += re.findall(r"^- `([a-z_]+(?:\.[a-z_]+)?)` `data`", body, re.M)
        if not names:
            continue
        link = HANDLER_LINK.search(heading)
        assert link, f"the heading {heading!r} does not name its handler's module"
        assert link.group(1) == link.group(2), f"the link of {heading!r} goes elsewhere"
        found.update(dict.fromkeys(names, link.group(1)))
    return found


def module_file(module: str) -> str:
    return module.replace(".", "/") + ".py"


def misnamed_handlers(documented: dict[str, str], handlers: dict) -> dict[str, tuple]:
    """Actions whose documented module is not their handler's: name → (doc, code)."""
    return {name: (path, module_file(handlers[name].__module__))
            for name, path in documented.items()
            if name in handlers and path != module_file(handlers[name].__module__)}


def documented_events() -> set[str]:
    """Events: ``### `` headings under "## Events", and list items ``- `name` ...`` of every
    subsection whose heading says "events"."""
    names = set(headings(section("Events")))
    for heading, body in subsections(DOC):
        if "events" in heading.lower():
            names.update(re.findall(r"^- `([a-z_]+\.[a-z_]+|[a-z_]+)`", body, re.M))
    return names


def table_codes(text: str) -> list[str]:
    """First-column values of a Markdown table: | `code` | ... |"""
    return re.findall(r"^\|\s*`([^`]+)`\s*\|", text, re.M)


def json_blocks() -> list[str]:
    return re.findall(r"^```json\n(.*?)^```", DOC, re.M | re.S)


def json_examples() -> list[tuple[str, object]]:
    """Every JSON value in the examples: whole blocks, or one value per line."""
    found = []
    for block in json_blocks():
        try:
            found.append((block, json.loads(block)))
            continue
        except ValueError:
            pass
        for line in block.splitlines():
            try:
                found.append((line, json.loads(line)))
            except ValueError:
                continue  # placeholders such as {...} or <message>
    return found


def emitted_events() -> set[str]:
    names: set[str] = set()
    for directory in SOURCE_DIRS:
        for path in directory.rglob("*.py"):
            if "migrations" in path.parts:
                continue
            names.update(EVENT_CALL.findall(path.read_text(encoding="utf-8")))
    return names


def test_error_code_table_lists_exactly_the_codes_of_the_code():
    codes = table_codes(section("Error codes"))
    assert len(codes) == len(set(codes)), "a code is listed twice"
    assert set(codes) == ALL_ERROR_CODES


def test_errors_named_under_actions_are_known_codes():
    named = re.findall(r"`([a-z_]+\.[a-z_]+)`", " ".join(
        re.findall(r"Errors:[^\n]*(?:\n[^\n#]+)*", section("Actions"))))
    assert named
    assert set(named) <= ALL_ERROR_CODES


def test_action_headings_are_exactly_the_actions_and_their_handlers():
    documented = documented_actions()
    assert len(documented) == len(set(documented))
    assert set(documented) == set(ACTIONS) == set(actions.HANDLERS)


def test_each_action_names_the_module_of_its_handler():
    documented = documented_handlers()
    assert set(documented) == set(actions.HANDLERS), "an action's heading names no module"
    assert misnamed_handlers(documented, actions.HANDLERS) == {}
    for path in set(documented.values()):
        assert (ROOT / path).is_file(), path


def test_a_moved_handler_is_caught():
    """The check above compares with each handler's real module, so moving a handler without
    its line in protocol.md fails."""
    documented = documented_handlers()

    async def moved(session, data):
        return {}

    moved.__module__ = "booths.somewhere_else"
    handlers = {**actions.HANDLERS, "chat.send": moved}
    assert misnamed_handlers(documented, handlers) == {
        "chat.send": ("booths/actions.py", "booths/somewhere_else.py")}


def test_event_headings_are_exactly_the_events_the_server_emits():
    documented = documented_events()
    emitted = emitted_events()
    assert {"chat.message", "presence.update", "session.ready"} <= emitted  # the regex works
    assert emitted - documented == set(), "emitted but not documented"
    assert documented - emitted == set(), "documented but never emitted"


def test_there_are_examples_of_actions():
    frames = [value for _, value in json_examples()
              if isinstance(value, dict) and "action" in value]
    assert frames, "protocol.md shows no action frame"


@pytest.mark.parametrize("text", [text for text, value in json_examples()
                                  if isinstance(value, dict) and "action" in value])
def test_every_action_example_is_a_valid_frame(text):
    frame = parse_frame(text)
    assert frame.action in ACTIONS


def test_no_action_example_is_broken_json():
    for block in json_blocks():
        for line in block.splitlines():
            if '"action"' in line:
                json.loads(line)


def test_event_examples_name_documented_events():
    documented = documented_events()
    events = [value["event"] for _, value in json_examples()
              if isinstance(value, dict) and "event" in value]
    assert "session.ready" in events
    assert set(events) <= documented


def test_session_ready_example_has_the_fields_the_server_sends():
    example = next(value for _, value in json_examples()
                   if isinstance(value, dict) and value.get("event") == "session.ready")
    sent = actions.Session.ready_event(SimpleNamespace(visitor=None, limits=settings.HALLSERVER))
    assert set(example["data"]) == set(sent)
    assert set(example["data"]["limits"]) == set(sent["limits"])


def test_close_code_table_names_the_slow_consumer_code():
    rows = re.findall(r"^\|\s*(\d{4})\s*\|\s*`?([a-z_]+)`?", section("Close codes"), re.M)
    assert (str(CLOSE_SLOW_CONSUMER), "slow_consumer") in rows
    assert '{"code": "slow_consumer"}' in section("Events")


def test_chat_history_limits_match_the_schema():
    text = section("Actions")
    limit = ChatHistoryData.model_fields["limit"]
    bounds = {type(m).__name__: m for m in limit.metadata}
    assert limit.default == 50 and bounds["Ge"].ge == 1 and bounds["Le"].le == 200
    assert '"limit": <1..200, default 50>' in text


def test_message_example_has_the_fields_the_server_sends():
    from datetime import UTC, datetime

    from booths.services.chat import message_data

    example = next(value for _, value in json_examples()
                   if isinstance(value, dict) and {"seq", "body", "ts"} <= set(value))
    row = {"pk": 1, "seq": 2, "body": "hi", "created_at": datetime.now(UTC), "author_id": 3,
           "author_name": "Ada", "author_staff": False}
    sent = message_data(41, row)
    assert set(example) == set(sent)
    assert set(example["user"]) == set(sent["user"])
