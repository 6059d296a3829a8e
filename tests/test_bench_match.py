"""The matchmaking benchmark runs end to end in its small form: ``python -m bench match``.
It checks the report's shape and that every kind and method was measured, not the figures
(those are in docs/benchmarks.md, from the conference-size run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.matchgen import SIZES, Generator, good_job, good_project

ROOT = Path(__file__).resolve().parent.parent
KINDS = ["projects for an investor", "investors for a project", "jobs for a candidate",
         "candidates for a job"]


def test_generator_is_deterministic_and_plants_good_matches():
    one, two = Generator(7, SIZES["small"]).world(), Generator(7, SIZES["small"]).world()
    assert one.projects == two.projects and one.resumes == two.resumes
    assert Generator(8, SIZES["small"]).world().projects != one.projects
    assert len(one.projects) == SIZES["small"]["projects"]
    size = SIZES["small"]
    assert len(one.investors) == size["firms"] * size["partners"] + size["angels"]
    assert {i["kind"] for i in one.investors} == {"firm", "angel"}
    planted = [inv for inv in one.investors if inv.get("planted")]
    assert len(planted) == size["planted"]
    for inv in planted:
        good = [p for p in one.projects if good_project(inv, p)]
        assert len(good) >= 5  # the planted ones at least
        # The near misses: the investor's tags, but not a good match.
        assert any(set(inv["fields"]) & set(p["fields"]) and not good_project(inv, p)
                   for p in one.projects if p["sector"] == inv["sector"])
    assert any(good_job(r, j) for r in one.resumes[:50] for j in one.jobs)


def test_bench_match_small_runs_and_reports_every_kind(tmp_path):
    out = tmp_path / "match.json"
    proc = subprocess.run([sys.executable, "-m", "bench", "match", "--size", "small",
                           "--queries", "40", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "| projects for an investor | hallserver |" in proc.stdout
    rows = json.loads(out.read_text())["rows"]
    assert [(r["kind"], r["method"]) for r in rows] == [
        (k, m) for k in KINDS for m in ("hallserver", "tag overlap", "random")]
    for row in rows:
        assert row["queries"] > 0
        assert 0 <= row["precision@10"] <= row["precision@10 ceiling"] <= 1
        assert 0 <= row["recall@10"] <= 1
        if row["method"] == "hallserver":
            assert row["p95 ms"] >= row["p50 ms"] > 0
