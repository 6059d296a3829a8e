"""tests/test_seed_conference.py again, on PostgreSQL (the bulk loader's COPY and id
sequences, the trigram indexes dropped and rebuilt), in a child pytest whose ``DATABASE_URL``
names a database made for this run. Skipped, saying why, when no PostgreSQL answers (see
tests/test_postgres.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_postgres import postgres_url  # noqa: F401  (the fixture)

pytestmark = pytest.mark.system


def test_conference_seed_module_passes_on_postgres(postgres_url):  # noqa: F811
    env = {**os.environ, "DATABASE_URL": postgres_url}
    env.pop("PYTEST_ADDOPTS", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_seed_conference.py", "-q",
         "-p", "no:cacheprovider"],
        cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True,
        timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout
