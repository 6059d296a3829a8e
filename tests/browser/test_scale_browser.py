"""The lobby, a hall page and the moderator console on a 5,000-booth expo
(``seed_demo --scale large``): lists come in pages, scrolling loads the next one, and no HTTP
answer or WebSocket frame the page receives grows with the catalogue."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import api_get, visitors
from tests.conftest import ROOT, ServerProcess, server_env

pytestmark = pytest.mark.browser

# Larger than one page of 100 booth summaries, far smaller than a hall of 834 booths.
BOUND = 64 * 1024


@pytest.fixture(scope="module")
def large_server_url(tmp_path_factory) -> Iterator[str]:
    """One daphne process serving the large expo."""
    data_dir = tmp_path_factory.mktemp("large")
    env = server_env(data_dir)
    for args in (["migrate", "--noinput", "-v0"], ["seed_demo", "--scale", "large"]):
        subprocess.run([sys.executable, "-m", "hallserver", "manage", *args], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    server = ServerProcess(env, "large")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def large_visitor(chromium, large_server_url):
    yield from visitors(chromium, large_server_url)


def watch_sizes(page) -> list[tuple[str, int]]:
    """(what, bytes) of every API answer and WebSocket frame the page receives."""
    seen: list[tuple[str, int]] = []

    def on_response(response) -> None:
        if "/api/" in response.url:
            seen.append((response.url, len(response.body())))

    def on_socket(socket) -> None:
        socket.on("framereceived", lambda payload: seen.append(("ws", len(payload))))

    page.on("response", on_response)
    page.on("websocket", on_socket)
    return seen


def test_hall_page_of_a_large_expo_pages_and_scrolls(large_visitor, large_server_url):
    expo = api_get(large_server_url, "/api/expo")
    hall = expo["halls"][0]
    assert hall["booth_count"] >= 833
    v = large_visitor()
    sizes = watch_sizes(v.page)

    # The expo's page: the first booths of each hall, and a way to the rest.
    page = v.goto("/")
    expect(page.get_by_test_id("hall-card")).to_have_count(6)
    expect(page.get_by_test_id("booth-card")).to_have_count(6 * 12)
    expect(page.get_by_test_id("hall-more")).to_have_count(6)

    page.get_by_test_id("hall-more").first.click()
    page.wait_for_url(f"{large_server_url}/hall/{hall['id']}")
    cards = page.get_by_test_id("booth-card")
    expect(cards).to_have_count(48)
    shown = page.get_by_test_id("booths-shown")
    expect(shown).to_have_text(f"48 of {hall['booth_count']}")

    # "Show more" adds the next page; scrolling to the end of the list adds more by itself.
    page.get_by_test_id("booths-more").click()
    expect(shown).to_have_text(f"96 of {hall['booth_count']}")
    page.get_by_test_id("booths-more").scroll_into_view_if_needed()
    expect(shown).not_to_have_text(f"96 of {hall['booth_count']}")
    loaded = cards.count()
    assert loaded >= 144 and loaded % 48 == 0
    ids = [int(x) for x in cards.evaluate_all("els => els.map(e => e.dataset.boothId)")]
    first_page = api_get(large_server_url, f"/api/halls/{hall['id']}?limit=100")["booths"]
    assert ids[:100] == [b["id"] for b in first_page]
    assert len(set(ids)) == len(ids)

    # A visitor enters a booth far down the list: its live count on this page goes to 1.
    far = ids[-1]
    count = page.locator(f"[data-testid=booth-card][data-booth-id='{far}'] "
                         "[data-testid=booth-count]")
    expect(count).to_have_text("0")
    guest = large_visitor()
    guest.goto(f"/booth/{far}")
    expect(count).to_have_text("1")
    guest.page.goto(large_server_url + "/")
    expect(count).to_have_text("0")

    assert sizes, "the page made no API request or frame"
    too_big = [(what, n) for what, n in sizes if n > BOUND]
    assert not too_big, too_big


def test_console_rooms_of_a_large_expo_come_in_pages(large_visitor, large_server_url):
    mod = large_visitor()
    sizes = watch_sizes(mod.page)
    mod.login("moderator", "moderator-demo", "/moderate")
    page = mod.page
    rows = page.get_by_test_id("room-row")
    expect(rows).to_have_count(50)
    label = page.get_by_test_id("rooms-page")
    expect(label).to_contain_text("1\u201350 of ")
    total = int(label.inner_text().rsplit(" ", 1)[-1].replace(",", ""))
    assert total > 10_000
    first = rows.first.get_attribute("data-room")
    page.get_by_test_id("rooms-next").click()
    expect(label).to_contain_text("51\u2013100 of ")
    expect(rows).to_have_count(50)
    assert rows.first.get_attribute("data-room") != first

    # The search goes to the server: a booth far down the list is found among 10,000 rooms.
    page.get_by_test_id("rooms-search").fill("Zenith")
    expect(rows.first).to_contain_text("Zenith")
    for title in rows.locator(".mod-room-name").all_inner_texts():
        assert "zenith" in title.lower()

    too_big = [(what, n) for what, n in sizes if n > BOUND]
    assert not too_big, too_big
