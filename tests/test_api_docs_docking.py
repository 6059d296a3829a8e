"""docs/api.md names every project docking operation of the OpenAPI document, and the paths it
documents exist."""

from __future__ import annotations

from hallserver.api import api
from tests.test_api_docs_recruitment import documented


def test_every_docking_operation_is_documented_and_exists():
    schema = api.get_openapi_schema()
    operations = {(method.upper(), path) for path, ops in schema["paths"].items()
                  for method, op in ops.items() if "docking" in op.get("tags", [])}
    assert len(operations) > 20
    assert operations - documented() == set()
    known = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert {(m, p) for m, p in documented() if "{" in p} - known == set()
