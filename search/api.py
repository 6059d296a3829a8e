"""``GET /api/search``: one search over booths, jobs, projects and (booth staff) résumés."""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from .services.query import search

router = Router(tags=["search"])


class SearchFilters(Schema):
    q: Annotated[str, Field(max_length=200)] = ""
    kind: Literal["booth", "job", "project", "resume", ""] = ""
    country: Annotated[str, Field(pattern=r"^([A-Za-z]{2})?$")] = ""
    tag: Annotated[str, Field(max_length=40)] = ""
    hall: Annotated[int, Field(ge=1)] | None = None
    job_type: Annotated[str, Field(max_length=20)] = ""
    stage: Annotated[str, Field(max_length=16)] = ""
    offset: Annotated[int, Field(ge=0, le=10_000)] = 0
    limit: Annotated[int, Field(ge=1, le=50)] = 20


class Hit(Schema):
    kind: str
    id: int
    title: str
    title_html: str
    snippet_html: str
    country: str
    tags: list
    hall: int | None
    booth: int | None
    job_type: str
    stage: str


class SearchPage(Schema):
    q: str
    count: int
    typo: bool
    facets: dict[str, dict[str, int]]
    results: list[Hit]
    offset: int
    limit: int


@router.get("/search", response=SearchPage)
def search_catalogue(request: HttpRequest, filters: Query[SearchFilters]):
    """Ranked matches of ``q`` with filters, facet counts and marked snippets."""
    return search(request.user, **filters.dict())
