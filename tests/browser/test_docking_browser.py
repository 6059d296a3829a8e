"""Project docking in real browsers: an investor sees a recommended project with its reason and
asks for a meeting; the project's owner (booth staff, a second browser) sees the request live
and accepts it with a slot; both see it in "My meetings"; at the slot (the test clock) both
join and video flows both ways; the .ics download is a valid calendar with the meeting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from playwright import sync_api

from tests.browser.conftest import CHROMIUM, Visitor, visitors
from tests.browser.test_video import MEDIA_ARGS, assert_video_flows
from tests.conftest import ROOT, ServerProcess, prepare_database, server_env

pytestmark = pytest.mark.browser

SETUP = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from booths.models import Booth, BoothStaff, Profile
from docking.models import Availability, InvestorProfile, Project
User = get_user_model()
staff = User.objects.get(username="exhibitor")
booth = Booth.objects.get(boothstaff__user=staff)
ida = User.objects.create_user(username="ida", password="ida-investor-pass-1")
Profile.objects.create(user=ida, display_name="Ida Investor", kind="visitor")
InvestorProfile.objects.create(user=ida, ticket_min=500000, ticket_max=3000000, currency="EUR",
                               stages=["growth"], fields=["robotics"], countries=["DE"])
project = Project.objects.create(booth=booth, title="Warehouse robots", fields=["robotics"],
                                 stage="growth", seeking=["investment"], amount_min=1000000,
                                 amount_max=2000000, currency="EUR", country="DE")
day = (timezone.now() + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
for user in (staff, ida):
    Availability.objects.create(user=user, starts_at=day, ends_at=day + timedelta(hours=2),
                                slot_minutes=30)
print(json.dumps({"project": project.pk, "first_slot": day.isoformat()}))
"""


@pytest.fixture(scope="module")
def dock_server(tmp_path_factory) -> Iterator[tuple[ServerProcess, dict]]:
    """A daphne process of its own, with the test clock on, and the docking world set up."""
    env = server_env(tmp_path_factory.mktemp("dock"), HALLSERVER_RECRUIT_TEST_CLOCK="1")
    prepare_database(env)
    out = subprocess.run([sys.executable, "-m", "hallserver", "manage", "shell", "-c", SETUP],
                         cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    server = ServerProcess(env, "dock")
    try:
        yield server, json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        server.stop()


@pytest.fixture(scope="module")
def media_browser(chromium) -> Iterator[sync_api.Browser]:
    """A Chromium with a fake camera and microphone (as in test_video.py)."""
    browser = chromium.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                           args=MEDIA_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def person(media_browser, dock_server) -> Iterator[Callable[[], Visitor]]:
    yield from visitors(media_browser, dock_server[0].url, ("camera", "microphone"))


def set_clock(server: ServerProcess, seconds: float) -> None:
    subprocess.run([sys.executable, "-m", "hallserver", "manage", "recruit_clock", "--offset",
                    str(seconds)], cwd=ROOT, env=server.env, check=True, capture_output=True)


def test_recommended_project_to_a_meeting_with_video(person, dock_server):
    server, world = dock_server
    ida = person()
    ida.login("ida", "ida-investor-pass-1", "/projects")
    # The demo's own projects may be recommended too; ours fits best and comes first.
    reco = ida.page.get_by_test_id("reco-projects").get_by_test_id("reco-item").first
    sync_api.expect(reco).to_have_attribute("data-id", str(world["project"]))
    sync_api.expect(reco.get_by_test_id("reco-title")).to_have_text("Warehouse robots")
    sync_api.expect(reco.get_by_test_id("reco-reason")).to_have_text(
        "Why: robotics · Growth · EUR 1M-2M · Germany")

    staff = person()
    staff.login("exhibitor", "exhibitor-demo", "/")
    booth = staff.page.evaluate("window.hallserver.user.staff_of[0]")
    staff.goto(f"/booth/{booth}")  # the booth page lists its projects
    sync_api.expect(staff.page.get_by_test_id("booth-projects")).to_contain_text(
        "Warehouse robots")
    staff.goto("/meetings")
    sync_api.expect(staff.page.get_by_test_id("meetings-page")).to_be_visible()

    reco.get_by_test_id("request-meeting").click()
    reco.get_by_test_id("request-message").fill("Shall we talk about your Series A?")
    reco.get_by_test_id("request-send").click()
    sync_api.expect(reco.get_by_test_id("request-sent")).to_be_visible()

    # The owner sees it live (no reload) and accepts the first free slot of both.
    meeting = staff.page.get_by_test_id("meeting")
    sync_api.expect(meeting).to_contain_text("Ida Investor")
    sync_api.expect(meeting).to_contain_text("Shall we talk about your Series A?")
    first = meeting.get_by_test_id("slot-select").locator("option").first
    sync_api.expect(first).to_have_attribute("value", world["first_slot"])
    meeting.get_by_test_id("meeting-accept").click()
    sync_api.expect(meeting).to_have_attribute("data-state", "accepted")

    ida.goto("/meetings")
    for side in (ida, staff):
        item = side.page.get_by_test_id("agenda-item")
        sync_api.expect(item).to_have_count(1)
        sync_api.expect(item).to_have_attribute("data-kind", "meeting")
        sync_api.expect(side.page.get_by_test_id("meeting")).to_have_attribute(
            "data-state", "accepted")

    # The .ics download is a calendar with the meeting at its time.
    with ida.page.expect_download() as download:
        ida.page.get_by_test_id("agenda-ics").click()
    calendar = Calendar.from_ical(download.value.path().read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    assert str(events[0]["SUMMARY"]) == "Meeting with Erik Exhibitor · Warehouse robots"
    start = datetime.fromisoformat(world["first_slot"])
    assert events[0].decoded("DTSTART") == start

    # At the slot (the test clock, one minute in), both join and video flows both ways.
    set_clock(server, (start - datetime.now(UTC)).total_seconds() + 60)
    ida.page.get_by_test_id("meeting-join").click()
    sync_api.expect(ida.page.get_by_test_id("meeting-waiting")).to_be_visible()
    staff.page.get_by_test_id("meeting-join").click()
    for side in (ida, staff):
        sync_api.expect(side.page.get_by_test_id("time-left")).to_contain_text("min left")
        sync_api.expect(side.page.get_by_test_id("call-view")).to_have_attribute(
            "data-status", "live")
        assert_video_flows(side.page, "call-remote-video", "hallserver.rtc.pc")
    staff.page.get_by_test_id("call-hangup").click()
    sync_api.expect(ida.page.get_by_test_id("call-status")).to_have_text("The call has ended.")
