"""docs/api.md names every accounts and recruitment operation of the OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path

from hallserver.api import api

DOC = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text(encoding="utf-8")


def documented() -> set[tuple[str, str]]:
    return set(re.findall(r"`(GET|POST|PUT|DELETE|PATCH) (/api/[^`?\s]*)", DOC))


def test_every_accounts_and_recruitment_operation_is_documented():
    schema = api.get_openapi_schema()
    operations = {(method.upper(), path) for path, ops in schema["paths"].items()
                  for method, op in ops.items()
                  if set(op.get("tags", [])) & {"accounts", "recruitment"}}
    assert len(operations) > 30
    assert operations - documented() == set()


def test_documented_recruitment_paths_exist():
    schema = api.get_openapi_schema()
    known = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    braced = {(m, p) for m, p in documented() if "{" in p}
    assert braced and braced - known == set()
