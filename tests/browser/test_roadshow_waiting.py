"""A live roadshow nobody presents says that it waits for a presenter, then shows the video
once one starts (and waits again when they stop)."""

from __future__ import annotations

import pytest
from playwright import sync_api

from tests.browser.conftest import api_get
from tests.browser.test_video import assert_video_flows, media_browser, person  # noqa: F401

pytestmark = pytest.mark.browser


def test_live_roadshow_waits_for_its_presenter(person, live_server_url):  # noqa: F811
    live = next(r for r in api_get(live_server_url, "/api/expo")["roadshows"]
                if r["state"] == "live")
    path = f"/booth/{live['booth']}?roadshow={live['id']}"

    viewer = person()
    viewer.enter_as_guest("Wanda Waiting", path)
    page = viewer.page
    waiting = page.get_by_test_id("roadshow-waiting")
    sync_api.expect(waiting).to_be_visible()
    sync_api.expect(waiting).to_have_text(
        "Waiting for the presenter: the video starts as soon as they begin.")
    sync_api.expect(page.get_by_test_id("roadshow-video")).to_have_count(0)

    # The roadshow's presenter (a booth's staff in the demo) starts sending.
    assert api_get(live_server_url, f"/api/booths/{live['booth']}")["staff"]
    presenter = person()
    presenter.login(*_staff_account(live_server_url, live["booth"]), path)
    presenter.page.get_by_test_id("roadshow-present").click()

    sync_api.expect(waiting).to_have_count(0)
    assert_video_flows(page, "roadshow-video", "hallserver.roadshow.pc")

    # The presenter goes away: the stage waits again.
    presenter.context.close()
    sync_api.expect(page.get_by_test_id("roadshow-waiting")).to_be_visible()


def _staff_account(base_url: str, booth: int) -> tuple[str, str]:
    """The demo account staffing ``booth``: ``exhibitor`` the first booth of the first hall,
    staff1..staff5 the first booth of each further hall (in hall order)."""
    halls = api_get(base_url, "/api/expo")["halls"]
    for n, hall in enumerate(halls):
        if api_get(base_url, f"/api/halls/{hall['id']}?limit=1")["booths"][0]["id"] == booth:
            return ("exhibitor", "exhibitor-demo") if n == 0 else (f"staff{n}", "staff-demo")
    raise AssertionError(f"booth {booth} is staffed by no demo account")
