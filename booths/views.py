"""The pages of the browser UI. The HTTP JSON API (docs/api.md) is in booths/api.py."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def page(request: HttpRequest, **kwargs) -> Any:
    """Every UI route serves the single-page app; it routes on the client."""
    return render(request, "index.html")
