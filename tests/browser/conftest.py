"""Browser fixtures: the system Chromium driven by Playwright's sync API.

Playwright cannot download its own browser builds here, so the tests launch the system
Chromium (``/usr/bin/chromium``, or ``HALLSERVER_CHROMIUM``). The server under test comes
from the ``live_server_url`` fixture in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright import sync_api

CHROMIUM = os.environ.get("HALLSERVER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Generous for a loaded CI machine; every wait is for a condition, never a fixed sleep.
TIMEOUT_MS = 15_000

sync_api.expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="package")
def chromium() -> Iterator[sync_api.Browser]:
    """One headless system Chromium for the browser tests.

    Package-scoped, not session-scoped: while Playwright's sync API is running, its event
    loop counts as running in the main thread, and pytest-asyncio could not run the async
    tests collected after this package.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (set HALLSERVER_CHROMIUM)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Visitor:
    """One browser context (its own cookies, so its own session) with one page."""

    def __init__(self, context: sync_api.BrowserContext, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.page_errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        # Whatever the Content-Security-Policy refuses is a failure too (Chromium reports it
        # on the console: "Refused to ... because it violates the following Content Security
        # Policy directive ...").
        self.page.on("console", self._csp_violation)

    def _csp_violation(self, message: sync_api.ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.page_errors.append(message.text)

    def goto(self, path: str) -> sync_api.Page:
        self.page.goto(self.base_url + path)
        self.wait_ready(path)
        return self.page

    def wait_ready(self, path: str) -> None:
        """Connected, and on a booth page also in the booth's chat room."""
        self.wait_connected()
        if path.startswith("/booth/"):
            self.wait_joined()

    def wait_connected(self) -> None:
        """The UI's WebSocket is open and the server's session.ready has arrived."""
        self.page.wait_for_function("() => window.hallserver?.connected === true")

    def wait_joined(self) -> None:
        """The booth page's chat room has been joined (history and presence are shown)."""
        sync_api.expect(self.page.get_by_test_id("chat")).to_have_attribute("data-state", "joined")

    def login(self, username: str, password: str, next_path: str) -> None:
        """Log in through the login page and come back to ``next_path``."""
        page = self.page
        page.goto(f"{self.base_url}/login?next={urllib.parse.quote(next_path)}")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(password)
        page.get_by_test_id("login-submit").click()
        page.wait_for_url(self.base_url + next_path)
        sync_api.expect(page.get_by_test_id("user-name")).to_be_visible()
        self.wait_ready(next_path)

    def enter_as_guest(self, name: str, next_path: str) -> None:
        page = self.page
        page.goto(f"{self.base_url}/login?next={urllib.parse.quote(next_path)}")
        page.get_by_test_id("guest-name").fill(name)
        page.get_by_test_id("guest-submit").click()
        page.wait_for_url(self.base_url + next_path)
        sync_api.expect(page.get_by_test_id("user-name")).to_have_text(name)
        self.wait_ready(next_path)


def visitors(browser: sync_api.Browser, base_url: str,
             permissions: tuple[str, ...] = ()) -> Iterator[Callable[..., Visitor]]:
    """Body of a visitor-factory fixture: each visitor in a fresh context of ``browser``
    (granted ``permissions``), all closed after the test, which fails if any page raised an
    uncaught JavaScript error."""
    made: list[Visitor] = []

    def make(locale: str = "en-US") -> Visitor:
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        if permissions:
            context.grant_permissions(list(permissions))
        context.set_default_timeout(TIMEOUT_MS)
        v = Visitor(context, base_url)
        made.append(v)
        return v

    yield make
    errors = [e for v in made for e in v.page_errors]
    for v in made:
        v.context.close()
    assert not errors, f"uncaught JavaScript errors: {errors}"


@pytest.fixture
def visitor(chromium, live_server_url) -> Iterator[Callable[..., Visitor]]:
    """Factory of visitors, each in a fresh browser context; closed after the test."""
    yield from visitors(chromium, live_server_url)


def api_get(base_url: str, path: str) -> dict:
    """GET a JSON document from the HTTP API of the server under test."""
    with urllib.request.urlopen(base_url + path, timeout=10) as resp:
        return json.load(resp)


@pytest.fixture(scope="session")
def quiet_booths(live_server_url) -> list[dict]:
    """Booths without staff (nobody from the demo accounts goes there on their own),
    last first, so that each test can have a booth to itself."""
    booths = api_get(live_server_url, "/api/booths?limit=100")["results"]
    quiet = []
    for summary in reversed(booths):
        detail = api_get(live_server_url, f"/api/booths/{summary['id']}")
        if not detail["staff"]:
            quiet.append(detail)
        if len(quiet) == 4:
            break
    assert len(quiet) == 4, "the demo seed should have booths without staff"
    return quiet
