"""docs/api.md names every accounts, recruitment and console operation of the OpenAPI
document."""

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
                  if set(op.get("tags", [])) & {"accounts", "recruitment", "console"}}
    assert len(operations) > 30
    assert operations - documented() == set()


def test_documented_recruitment_paths_exist():
    schema = api.get_openapi_schema()
    known = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    braced = {(m, p) for m, p in documented() if "{" in p}
    assert braced and braced - known == set()


def test_every_json_answer_has_a_schema_in_the_openapi_document():
    schema = api.get_openapi_schema()
    missing = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if not set(op.get("tags", [])) & {"accounts", "recruitment"}:
                continue
            if path.endswith("/pdf") and method == "get":
                continue  # a file download
            status, answer = next((s, r) for s, r in op["responses"].items() if int(s) < 300)
            if str(status) == "204":
                continue
            body = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" not in body:
                missing.append(f"{method.upper()} {path}")
    assert missing == []
