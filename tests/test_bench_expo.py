"""The expo-day benchmark still runs end to end and delivers everything: ``bench expo --smoke``.

A few hundred visitors over ~50 booth rooms and the six hall lobbies of the demo expo, on two
daphne processes sharing one Redis: they move from room to room, some chat, roadshow viewers
ask questions that the moderator approves, searches run over HTTP. The checks are about
delivery only, never timing (bench/README.md has the real runs): every chat message reached
every member of its room, every approved question every viewer, every lobby watcher's count
converged to the true count once the moves stopped, every search answered 200, no errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.system


def test_bench_expo_smoke(redis_url, tmp_path):
    result_file = tmp_path / "expo.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "expo", "--smoke", "--redis-url", redis_url,
         "--json", str(result_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    output = f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-6000:]}"
    assert result_file.exists(), output
    result = json.loads(result_file.read_text())["result"]
    failed = [name for name, ok in result["checks"].items() if not ok]
    assert not failed, f"{failed}\n{output}"
    # The same facts, spelled out.
    assert result["connected"] == result["clients"] > 300, output
    assert result["error_count"] == 0, result["errors"]
    assert result["chats_accepted"] == result["chats_sent"] > 0
    assert result["chat_expected"] > 0 and result["chat_missing"] == 0, output
    assert result["questions_approved"] > 0
    assert result["qa_expected"] > 0 and result["qa_missing"] == 0, output
    assert result["lobbies_converged_s"] is not None, result["lobby_mismatches"]
    phases = {p["phase"]: p for p in result["phases"]}
    assert set(phases) == {"idle", "moves", "chat", "day"}
    assert phases["moves"]["moves"] > 0 and phases["day"]["moves"] > 0
    assert phases["idle"]["moves"] == 0 and phases["idle"]["chats"] == 0
    for p in phases.values():
        assert p["searches"] > 0 and set(p["search_status"]) == {"200"}, p["search_status"]
        assert p["counts_unseen"] == 0, output  # every probe move showed in every lobby
    assert sum(p["counts_samples"] for p in phases.values()) > 0, output
    assert proc.returncode == 0, output
    assert "| lobby count shows a move, p50 / p99 / max ms |" in proc.stdout, output
