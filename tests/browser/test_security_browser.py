"""The Content-Security-Policy in a real browser: the UI and the API's Swagger UI work under
it, and it does refuse what it should (an injected inline script)."""

from __future__ import annotations

import re
import urllib.parse

import pytest
from playwright import sync_api

pytestmark = [pytest.mark.browser]


def test_the_ui_runs_under_the_policy(visitor, live_server_url, quiet_booths):
    guest = visitor()
    # The visitor fixture fails the test on any CSP report or uncaught error.
    guest.enter_as_guest("Policy Pat", f"/booth/{quiet_booths[0]['id']}")
    page = guest.page
    page.get_by_test_id("chat-input").fill("within the policy")
    page.get_by_test_id("chat-send").click()
    sync_api.expect(page.get_by_test_id("chat-body").filter(has_text="within the policy")) \
        .to_have_count(1)
    # The WebSocket went to this origin and is open.
    assert page.evaluate("() => window.hallserver.connected") is True


def test_the_policy_refuses_an_injected_inline_script(visitor, live_server_url):
    reader = visitor()
    page = reader.page
    page.goto(live_server_url + "/")
    reader.wait_connected()
    page.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "window.injected = true";
        document.body.append(s);
    }""")
    assert page.evaluate("() => window.injected === undefined") is True
    # The refusal was reported; it is expected here, so it is not a failure of this test.
    refused = [e for e in reader.page_errors if "Content Security Policy" in e]
    assert refused, "the inline script was not reported as refused"
    reader.page_errors.clear()


def test_the_swagger_ui_works_from_this_server_under_the_policy(visitor, live_server_url):
    reader = visitor()
    page = reader.page
    origin = urllib.parse.urlsplit(live_server_url).netloc
    elsewhere: list[str] = []
    page.on("request", lambda request: None if urllib.parse.urlsplit(request.url).netloc
            in (origin, "") else elsewhere.append(request.url))
    page.goto(live_server_url + "/api/docs")
    operations = page.locator(".opblock")
    sync_api.expect(operations.first).to_be_visible()
    # Exactly this path: other operations' paths start with it (/api/booths/{booth_id}/jobs).
    booth_path = page.locator(".opblock-summary-path").filter(
        has_text=re.compile(r"^/api/booths/\{booth_id\}$"))
    sync_api.expect(booth_path).to_have_count(1)
    sync_api.expect(booth_path).to_be_visible()
    assert operations.count() >= 8
    assert elsewhere == [], f"requests to other sites: {elsewhere}"


def test_the_admin_works_under_the_policy(visitor, live_server_url):
    organiser = visitor()
    page = organiser.page
    page.goto(live_server_url + "/admin/login/?next=/admin/booths/booth/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "admin-demo")
    page.click("input[type=submit]")
    page.wait_for_url(live_server_url + "/admin/booths/booth/")
    page.locator("#result_list tbody a").first.click()
    sync_api.expect(page.locator("#booth_form")).to_be_visible()
    # The visitor fixture fails the test on any Content-Security-Policy report.
