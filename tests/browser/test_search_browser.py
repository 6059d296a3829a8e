"""The header's catalogue search in Chromium: typing shows marked results and their count,
and a kind facet narrows them."""

from __future__ import annotations

import pytest
from playwright import sync_api

from tests.browser.conftest import api_get

pytestmark = pytest.mark.browser


def test_typing_in_the_search_box_shows_results_and_a_count(visitor, live_server_url):
    booth = api_get(live_server_url, "/api/booths?limit=1")["results"][0]
    word = booth["name"].split()[0]
    expected = api_get(live_server_url, f"/api/search?q={word}")["count"]
    assert expected >= 1
    v = visitor()
    page = v.page
    page.goto(live_server_url + "/")
    box = page.get_by_test_id("catalogue-search")
    box.press_sequentially(word, delay=30)
    count = page.get_by_test_id("catalogue-search-count")
    sync_api.expect(count).to_contain_text(str(expected))
    results = page.get_by_test_id("catalogue-search-results").locator("li")
    sync_api.expect(results.first).to_be_visible()
    sync_api.expect(results.first.locator("mark").first).to_be_visible()
    page.get_by_role("button", name="Booths (").click()
    sync_api.expect(results.first.locator(".badge")).to_have_text("Booths")
