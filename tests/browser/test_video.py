"""Live video in real browsers: a booth call between two Chromium contexts, and a roadshow from
a Chromium presenter through the media worker to several Chromium viewers.

Chromium runs with a fake camera and microphone. Each test asserts that video really flows:
the receiving <video> has a size and `framesDecoded` in `getStats()` grows between two reads
(for the HLS player: the video element's decoded frame count). ICE stays on loopback (the
server hands out no ICE servers by default).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright import sync_api

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Visitor, api_get, visitors

pytestmark = pytest.mark.browser

MEDIA_ARGS = [
    *CHROMIUM_ARGS,
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]

# framesDecoded of the first inbound video stream of a peer connection.
FRAMES_DECODED = """async (path) => {
  const pc = path.split('.').reduce((o, k) => o && o[k], window);
  if (!pc) return -1;
  const stats = await pc.getStats();
  let frames = -1;
  stats.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'video') frames = r.framesDecoded || 0;
  });
  return frames;
}"""

VIDEO_SIZE = """(testid) => {
  const v = document.querySelector(`[data-testid="${testid}"]`);
  return v ? v.videoWidth : 0;
}"""


@pytest.fixture(scope="module")
def media_browser(chromium) -> Iterator[sync_api.Browser]:
    """A second Chromium, from the package's Playwright, with a fake camera."""
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                           args=MEDIA_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def person(media_browser, live_server_url) -> Iterator[Callable[[], Visitor]]:
    yield from visitors(media_browser, live_server_url, ("camera", "microphone"))


def assert_video_flows(page: sync_api.Page, video_testid: str, pc_path: str) -> None:
    """The video has a picture and more frames are decoded a moment later."""
    page.wait_for_function(VIDEO_SIZE, arg=video_testid)
    page.wait_for_function(f"async (p) => ({FRAMES_DECODED})(p).then((n) => n > 0)", arg=pc_path)
    first = page.evaluate(FRAMES_DECODED, pc_path)
    page.wait_for_function(
        f"async ([p, n]) => ({FRAMES_DECODED})(p).then((m) => m > n + 10)", arg=[pc_path, first])


# Frames the <video> element itself decoded (HLS playback has no peer connection).
ELEMENT_FRAMES = """(testid) => {
  const v = document.querySelector(`[data-testid="${testid}"]`);
  return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : -1;
}"""


def assert_hls_plays(page: sync_api.Page) -> None:
    """The page switched to the HLS player, which shows a picture and keeps decoding."""
    video = page.locator('[data-testid="roadshow-video"][data-source="hls"]')
    sync_api.expect(video).to_be_visible()
    sync_api.expect(page.get_by_test_id("roadshow-hls-notice")).to_be_visible()
    page.wait_for_function(VIDEO_SIZE, arg="roadshow-video")
    page.wait_for_function(f"(t) => ({ELEMENT_FRAMES})(t) > 0", arg="roadshow-video")
    first = page.evaluate(ELEMENT_FRAMES, "roadshow-video")
    page.wait_for_function(f"([t, n]) => ({ELEMENT_FRAMES})(t) > n + 10",
                           arg=["roadshow-video", first])
    assert page.evaluate("window.hallserver.roadshow.pc") is None  # no WebRTC for this one


def exhibitor(person) -> tuple[Visitor, int]:
    staff = person()
    staff.login("exhibitor", "exhibitor-demo", "/")
    booth = staff.page.evaluate("window.hallserver.user.staff_of[0]")
    return staff, booth


def test_booth_video_call_between_two_browsers(person):
    staff, booth = exhibitor(person)
    staff.goto(f"/booth/{booth}")
    sync_api.expect(staff.page.get_by_test_id("call-queue")).to_have_attribute("data-count", "0")

    guest = person()
    guest.enter_as_guest("Greta", f"/booth/{booth}")
    guest.page.get_by_test_id("call-knock").click()
    sync_api.expect(guest.page.get_by_test_id("call-position")).to_have_attribute(
        "data-position", "1")

    item = staff.page.get_by_test_id("call-queue-item")
    sync_api.expect(item).to_contain_text("Greta")
    item.get_by_test_id("call-accept").click()

    for side in (staff, guest):
        sync_api.expect(side.page.get_by_test_id("call-view")).to_have_attribute(
            "data-status", "live")
        assert_video_flows(side.page, "call-remote-video", "hallserver.rtc.pc")

    guest.page.get_by_test_id("call-hangup").click()
    sync_api.expect(staff.page.get_by_test_id("call-status")).to_have_text(
        "The call has ended.")


# The width of the video tile of one participant, in a group call.
PARTICIPANT_VIDEO_SIZE = """(id) => {
  const v = document.querySelector(`[data-testid="call-remote-video"][data-participant="${id}"]`);
  return v ? v.videoWidth : 0;
}"""


def assert_video_flows_from(page: sync_api.Page, participant: int) -> None:
    """In a group call: the tile of ``participant`` has a picture, and the peer connection to
    them (``hallserver.rtc.peers[id]``) decodes more frames a moment later."""
    page.wait_for_function(f"(id) => ({PARTICIPANT_VIDEO_SIZE})(id) > 0", arg=participant)
    path = f"hallserver.rtc.peers.{participant}"
    page.wait_for_function(f"async (p) => ({FRAMES_DECODED})(p).then((n) => n > 0)", arg=path)
    first = page.evaluate(FRAMES_DECODED, path)
    page.wait_for_function(
        f"async ([p, n]) => ({FRAMES_DECODED})(p).then((m) => m > n + 10)", arg=[path, first])


def test_group_call_of_staff_and_two_visitors(person):
    staff, booth = exhibitor(person)
    staff.goto(f"/booth/{booth}")
    gina, hanna = person(), person()
    gina.enter_as_guest("Gina", f"/booth/{booth}")
    hanna.enter_as_guest("Hanna", f"/booth/{booth}")
    everyone = (staff, gina, hanna)
    ids = {side: side.page.evaluate("window.hallserver.user.id") for side in everyone}

    # A call of two first.
    gina.page.get_by_test_id("call-knock").click()
    staff.page.get_by_test_id("call-queue-item").filter(has_text="Gina").get_by_test_id(
        "call-accept").click()
    for side in (staff, gina):
        sync_api.expect(side.page.get_by_test_id("call-view")).to_have_attribute(
            "data-status", "live")

    # Hanna knocks; the staff member, in the call, adds her to it.
    hanna.page.get_by_test_id("call-knock").click()
    sync_api.expect(hanna.page.get_by_test_id("call-position")).to_have_attribute(
        "data-position", "1")
    item = staff.page.get_by_test_id("call-queue-item").filter(has_text="Hanna")
    sync_api.expect(item.get_by_test_id("call-accept")).to_have_count(0)
    item.get_by_test_id("call-add").click()

    # Everybody has one tile per other participant, with their name, and video from each.
    for side in everyone:
        view = side.page.get_by_test_id("call-view")
        sync_api.expect(view).to_have_attribute("data-participants", "3")
        sync_api.expect(side.page.get_by_test_id("call-tile")).to_have_count(2)
        for other in everyone:
            if other is side:
                continue
            tile = side.page.locator(f'[data-testid="call-tile"][data-participant="{ids[other]}"]')
            name = "Erik Exhibitor" if other is staff else ("Gina" if other is gina else "Hanna")
            sync_api.expect(tile.get_by_test_id("call-tile-name")).to_have_text(name)
    for side in everyone:
        for other in everyone:
            if other is not side:
                assert_video_flows_from(side.page, ids[other])
        assert side.page.evaluate("Object.keys(window.hallserver.rtc.peers).length") == 2

    # Hanna leaves: the others keep their call, with one tile each.
    sync_api.expect(hanna.page.get_by_test_id("call-hangup")).to_have_text("Leave the call")
    hanna.page.get_by_test_id("call-hangup").click()
    sync_api.expect(hanna.page.get_by_test_id("call-status")).to_have_text("The call has ended.")
    for side in (staff, gina):
        sync_api.expect(side.page.get_by_test_id("call-tile")).to_have_count(1)
        sync_api.expect(side.page.get_by_test_id("call-view")).to_have_attribute(
            "data-status", "live")
    assert_video_flows_from(gina.page, ids[staff])

    # The last two: hanging up ends it.
    gina.page.get_by_test_id("call-hangup").click()
    sync_api.expect(staff.page.get_by_test_id("call-status")).to_have_text(
        "The call has ended.")


def test_declined_visitor_leaves_a_lead(person):
    staff, booth = exhibitor(person)
    staff.goto(f"/booth/{booth}")
    guest = person()
    guest.enter_as_guest("Lena", f"/booth/{booth}")
    guest.page.get_by_test_id("call-knock").click()
    staff.page.get_by_test_id("call-queue-item").get_by_test_id("call-decline").click()
    sync_api.expect(guest.page.get_by_test_id("call-closed")).to_have_attribute(
        "data-reason", "declined")
    guest.page.get_by_test_id("lead-contact").fill("lena@example.org")
    guest.page.get_by_test_id("lead-message").fill("Please call me back.")
    guest.page.get_by_test_id("lead-submit").click()
    sync_api.expect(guest.page.get_by_test_id("lead-sent")).to_be_visible()
    sync_api.expect(staff.page.get_by_test_id("lead-item").first).to_contain_text(
        "lena@example.org")


def test_roadshow_from_one_presenter_to_several_viewers(person, live_server_url):
    staff, booth = exhibitor(person)
    detail = api_get(live_server_url, f"/api/booths/{booth}")
    roadshow = next(r for r in detail["roadshows"] if r["state"] != "ended")
    path = f"/booth/{booth}?roadshow={roadshow['id']}"
    staff.page.goto(live_server_url + path)
    staff.wait_connected()
    stage = staff.page.get_by_test_id("roadshow-stage")
    if roadshow["state"] == "scheduled":
        sync_api.expect(stage).to_have_attribute("data-state", "scheduled")
        staff.page.get_by_test_id("roadshow-start").click()
    sync_api.expect(stage).to_have_attribute("data-state", "live")
    # The lobby lists it as live now.
    live = [r["id"] for r in api_get(live_server_url, "/api/expo")["roadshows"]
            if r["state"] == "live"]
    assert roadshow["id"] in live
    staff.page.get_by_test_id("roadshow-present").click()

    viewers = []
    for name in ("Vera", "Viktor"):
        viewer = person()
        viewer.enter_as_guest(name, path)
        viewers.append(viewer)
    for viewer in viewers:
        assert_video_flows(viewer.page, "roadshow-video", "hallserver.roadshow.pc")

    # The worker serves two WebRTC viewers here (live_server_url): the third one is sent to
    # the HLS stream cut from the same H.264 frames, and the page plays it by itself.
    third = person()
    third.enter_as_guest("Hana", path)
    assert_hls_plays(third.page)

    # The count of people in the roadshow room (presenter and three viewers), and reactions.
    sync_api.expect(viewers[0].page.get_by_test_id("roadshow-viewers")).to_have_text("4")
    viewers[0].page.get_by_test_id("react").first.click()
    sync_api.expect(viewers[1].page.get_by_test_id("reaction").first).to_have_text("👏")

    # A moderator gets the same end button (roadshow.end), not the presenter's controls;
    # viewers get neither.
    moderator = person()
    moderator.login("moderator", "moderator-demo", path)
    sync_api.expect(moderator.page.get_by_test_id("roadshow-end")).to_be_visible()
    sync_api.expect(moderator.page.get_by_test_id("presenter-controls")).to_have_count(0)
    sync_api.expect(viewers[0].page.get_by_test_id("roadshow-end")).to_have_count(0)

    staff.page.get_by_test_id("roadshow-finish").click()
    for viewer in (*viewers, third, moderator):
        sync_api.expect(viewer.page.get_by_test_id("roadshow-offline")).to_be_visible()
    sync_api.expect(moderator.page.get_by_test_id("roadshow-end")).to_have_count(0)
