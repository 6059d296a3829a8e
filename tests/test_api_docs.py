"""docs/api.md and the OpenAPI document of the django-ninja API agree, and the API's own
documents (the schema and the Swagger UI) are served from this server."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
API_DOC = ROOT / "docs" / "api.md"
PERMISSIONS_DOC = ROOT / "docs" / "permissions.md"

# `GET /api/halls/<id>`: a method and an /api/ path in backticks (a query string may follow).
DOCUMENTED = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/api/[^`?\s]*)")
# Served by ninja beside the operations, not operations themselves.
API_DOCUMENTS = {("GET", "/api/openapi.json"), ("GET", "/api/docs")}


def normalise(path: str) -> str:
    """`/api/halls/<id>` and `/api/halls/{hall_id}` are the same path."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def documented(text: str) -> set[tuple[str, str]]:
    return {(method, normalise(path)) for method, path in DOCUMENTED.findall(text)}


@pytest.fixture(scope="module")
def openapi() -> dict:
    return Client().get("/api/openapi.json").json()


def schema_operations(openapi: dict) -> set[tuple[str, str]]:
    return {(method.upper(), normalise(path))
            for path, operations in openapi["paths"].items() for method in operations}


def test_every_operation_of_the_schema_is_in_api_md_and_back(openapi):
    in_schema = schema_operations(openapi)
    in_doc = documented(API_DOC.read_text(encoding="utf-8")) - API_DOCUMENTS
    assert in_schema, "the OpenAPI document lists no operations"
    assert sorted(in_schema - in_doc) == [], "in the OpenAPI document, not in docs/api.md"
    assert sorted(in_doc - in_schema) == [], "in docs/api.md, not in the OpenAPI document"


def test_every_operation_has_a_row_in_permissions_md(openapi):
    rows = documented(PERMISSIONS_DOC.read_text(encoding="utf-8")) - API_DOCUMENTS
    assert sorted(schema_operations(openapi) ^ rows) == []


def is_file(content_type: str, media: dict) -> bool:
    """A download: not JSON, and its body declared as binary."""
    return ("json" not in content_type
            and media.get("schema", {}).get("format") == "binary")


def test_every_json_answer_has_a_schema(openapi):
    """Every operation's success answer names its schema (a file download or a 204 has no
    JSON body), so the document tells a client what comes back, in every app."""
    missing = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if path.endswith("/pdf") and method == "get":
                continue  # a file download
            status, answer = min((int(s), r) for s, r in operation["responses"].items())
            if status == 204:
                continue
            content = answer.get("content", {})
            if content and all(is_file(kind, media) for kind, media in content.items()):
                continue  # a file download, declared by its content types (CSV, XLSX, PNG)
            body = content.get("application/json", {}).get("schema", {})
            if "$ref" not in body:
                missing.append(f"{method.upper()} {path}")
    assert missing == []


@pytest.mark.parametrize(("method", "path"), sorted(API_DOCUMENTS))
def test_the_api_documents_are_served(method, path):
    response = Client().generic(method, path)
    assert response.status_code == 200


def test_the_schema_describes_bodies_answers_and_errors(openapi):
    assert openapi["openapi"].startswith("3.")
    schemas = openapi["components"]["schemas"]
    assert {"Me", "SessionOut", "LoginIn", "GuestIn", "ExpoOut", "HallBooths", "BoothSearch",
            "BoothDetail", "ErrorOut"} <= set(schemas)
    login = openapi["paths"]["/api/login"]["post"]
    body = login["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/LoginIn")
    assert {"200", "400", "403", "422", "429"} <= set(login["responses"])
    error = login["responses"]["429"]["content"]["application/json"]["schema"]
    assert error["$ref"].endswith("/ErrorOut")
    booths = openapi["paths"]["/api/booths"]["get"]
    params = {p["name"]: p for p in booths["parameters"]}
    assert set(params) == {"q", "hall", "country", "kind", "offset", "limit"}
    assert all(p["in"] == "query" and not p["required"] for p in params.values())
    detail = openapi["paths"]["/api/booths/{booth_id}"]["get"]
    assert detail["parameters"][0]["schema"]["type"] == "integer"
    assert schemas["RoadshowOut"]["properties"]["state"]["enum"] == ["scheduled", "live", "ended"]


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(found["src"] or "")
        elif tag == "script" and found.get("type") != "application/json":
            self.inline_scripts += 1
        if tag == "link" and found.get("href"):
            self.urls.append(found["href"] or "")


def test_swagger_ui_comes_from_this_server_not_a_cdn():
    response = Client().get("/api/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assets = _Assets()
    assets.feed(html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in assets.urls)
    for url in assets.urls:
        assert url.startswith("/static/"), f"{url} is not served by this server"
        assert finders.find(url.removeprefix("/static/")), f"{url} is not a static file"
    # Nothing for the Content-Security-Policy to refuse: no inline script.
    assert assets.inline_scripts == 0
    assert "cdn" not in html.lower()
    # The UI sends the CSRF token with the POSTs it tries.
    assert 'data-api-csrf="true"' in html
