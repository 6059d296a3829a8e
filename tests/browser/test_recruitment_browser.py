"""Recruitment end to end in two Chromium contexts: a visitor signs up, fills in a résumé (with
a PDF) and applies with an HTML-laden cover note; the exhibitor, on the booth's recruiting page
all along, sees the application arrive without reloading, finds the cover note inert, shortlists
it and offers an interview slot; the visitor sees each change live and books the slot; at the
slot (the server's test clock moved there, no waiting) both join and video flows between them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright import sync_api

from tests.browser.conftest import TIMEOUT_MS, Visitor, api_get, visitors
from tests.browser.test_video import assert_video_flows, media_browser  # noqa: F401
from tests.conftest import ROOT, ServerProcess, prepare_database, server_env
from tests.recruitment_world import make_pdf

pytestmark = pytest.mark.browser
expect = sync_api.expect

COVER_NOTE = '<img src=x onerror="window.__xss = 1"><script>window.__xss = 2</script> Hi!'

# "YYYY-MM-DDTHH:MM" two hours from now in the browser's time zone, for a datetime-local field.
IN_TWO_HOURS = """() => {
  const d = new Date(Date.now() + 2 * 3600 * 1000);
  const p = (n) => String(n).padStart(2, "0");
  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return `${day}T${p(d.getHours())}:${p(d.getMinutes())}`;
}"""


@pytest.fixture(scope="module")
def recruit_server(tmp_path_factory) -> Iterator[ServerProcess]:
    """A seeded server whose recruitment clock tests may move (HALLSERVER_RECRUIT_TEST_CLOCK)."""
    data_dir = tmp_path_factory.mktemp("recruit")
    env = server_env(data_dir, HALLSERVER_RECRUIT_TEST_CLOCK="1")
    prepare_database(env)
    server = ServerProcess(env, "recruit")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def person(media_browser, recruit_server) -> Iterator[Callable[[], Visitor]]:  # noqa: F811
    yield from visitors(media_browser, recruit_server.url, ("camera", "microphone"))


def move_clock(server: ServerProcess, seconds: float) -> None:
    subprocess.run([sys.executable, "-m", "hallserver", "manage", "recruit_clock", "--offset",
                    str(seconds)], cwd=ROOT, env=server.env, check=True,
                   stdout=subprocess.DEVNULL)


def test_sign_up_apply_review_book_and_interview(person, recruit_server):
    base = recruit_server.url
    staff = person()
    staff.login("exhibitor", "exhibitor-demo", "/")
    booth = staff.page.evaluate("window.hallserver.user.staff_of[0]")
    sp = staff.page
    sp.goto(f"{base}/booth/{booth}/recruit")  # not a booth page: no chat room to wait for
    staff.wait_connected()

    # The exhibitor publishes a job and an interview slot two hours from now.
    sp.get_by_test_id("job-new").click()
    sp.get_by_test_id("job-form-title").fill("Battery chemist")
    sp.get_by_test_id("job-form-type").select_option("postdoc")
    sp.get_by_test_id("job-form-description").fill("Zwei Jahre · 两年 · two years")
    sp.get_by_test_id("job-form-save").click()
    expect(sp.get_by_test_id("staff-job")).to_contain_text("Battery chemist")
    sp.get_by_test_id("slot-start").fill(sp.evaluate(IN_TWO_HOURS))
    sp.get_by_test_id("slot-create").click()
    expect(sp.get_by_test_id("staff-slot")).to_have_attribute("data-state", "open")
    expect(sp.get_by_test_id("staff-unread")).to_have_attribute("data-count", "0")
    job = api_get(base, f"/api/jobs?booth={booth}")["results"][0]
    assert job["title"] == "Battery chemist"

    # A visitor signs up and fills in a résumé with a PDF.
    visitor = person()
    vp = visitor.goto("/signup")
    vp.get_by_test_id("signup-username").fill("nora@example.org")
    vp.get_by_test_id("signup-password").fill("a sturdy passphrase")
    vp.get_by_test_id("signup-name").fill("Nora Newcomer")
    vp.get_by_test_id("signup-submit").click()
    vp.wait_for_url(base + "/profile")
    expect(vp.get_by_test_id("user-name")).to_have_text("Nora Newcomer")
    visitor.wait_connected()
    # The profile first: a headline and talent search, kept over a reload.
    vp.get_by_test_id("profile-headline").fill("Battery researcher")
    vp.get_by_test_id("profile-talent").check()
    vp.get_by_test_id("profile-save").click()
    expect(vp.get_by_test_id("profile-form").get_by_test_id("saved")).to_be_visible()
    vp.get_by_test_id("profile-headline").fill("Battery researcher, Berlin")
    expect(vp.get_by_test_id("profile-form").get_by_test_id("saved")).to_be_hidden()
    vp.get_by_test_id("profile-save").click()
    expect(vp.get_by_test_id("profile-form").get_by_test_id("saved")).to_be_visible()
    vp.reload()
    expect(vp.get_by_test_id("profile-headline")).to_have_value("Battery researcher, Berlin")
    expect(vp.get_by_test_id("profile-talent")).to_be_checked()
    visitor.wait_connected()
    vp.get_by_test_id("resume-summary").fill("Electrochemist")
    vp.get_by_test_id("resume-education-add").click()
    vp.get_by_test_id("resume-education-school-0").fill("TU Berlin")
    vp.get_by_test_id("resume-skills").fill("electrochemistry, python")
    vp.get_by_test_id("resume-type-postdoc").check()
    vp.get_by_test_id("resume-save").click()
    expect(vp.get_by_test_id("resume-form").get_by_test_id("saved")).to_be_visible()
    vp.get_by_test_id("resume-pdf-input").set_input_files(files=[{
        "name": "nora.pdf", "mimeType": "application/pdf", "buffer": make_pdf("Nora's CV")}])
    vp.get_by_test_id("resume-pdf-upload").click()
    expect(vp.get_by_test_id("resume-pdf-name")).to_contain_text("nora.pdf")

    # She finds the job in the directory and applies with HTML in her cover note.
    vp.get_by_test_id("nav-jobs").click()
    vp.get_by_test_id("jobs-type").select_option("postdoc")
    vp.get_by_test_id("jobs-search").click()
    card = vp.locator(f'[data-testid="job-card"][data-job="{job["id"]}"]')
    card.get_by_role("link", name="Battery chemist").click()
    vp.wait_for_url(f"{base}/job/{job['id']}")
    expect(vp.get_by_test_id("job-title")).to_have_text("Battery chemist")
    vp.get_by_test_id("apply-note").fill(COVER_NOTE)
    vp.get_by_test_id("apply-submit").click()
    expect(vp.get_by_test_id("apply-done")).to_be_visible()
    vp.get_by_test_id("apply-done").get_by_role("link").click()
    visitor.wait_connected()
    status = vp.get_by_test_id("my-application").get_by_test_id("app-status")
    expect(status).to_have_attribute("data-status", "submitted")

    # The exhibitor's page, never reloaded, shows it with the unread count.
    item = sp.get_by_test_id("staff-application")
    expect(item).to_contain_text("Nora Newcomer")
    expect(sp.get_by_test_id("staff-unread")).to_have_attribute("data-count", "1")
    item.click()
    detail = sp.get_by_test_id("app-detail")
    expect(detail.get_by_test_id("app-cover-note")).to_have_text(COVER_NOTE)
    assert detail.get_by_test_id("app-cover-note").locator("img, script").count() == 0
    assert sp.evaluate("window.__xss") is None
    expect(detail.get_by_test_id("resume-view-skills")).to_have_text("electrochemistry, python")
    expect(sp.get_by_test_id("staff-unread")).to_have_attribute("data-count", "0")
    expect(status).to_have_attribute("data-status", "viewed")  # live on her side

    sp.get_by_test_id("app-move-shortlisted").click()
    expect(status).to_have_attribute("data-status", "shortlisted")
    # She is looking at her applications: what arrived is marked read there.
    vp.wait_for_function("() => window.hallserver.recruit.unread.value?.notices === 0")
    expect(vp.get_by_test_id("nav-unread")).to_have_count(0)

    # A slot is offered; she books it; both sides see it change.
    slot_id = sp.get_by_test_id("offer-slot-select").locator("option").nth(1).get_attribute("value")
    sp.get_by_test_id("offer-slot-select").select_option(slot_id)
    sp.get_by_test_id("offer-slot").click()
    expect(status).to_have_attribute("data-status", "interview")
    my_slot = vp.get_by_test_id("my-slot")
    expect(my_slot).to_have_attribute("data-state", "offered")
    my_slot.get_by_test_id("slot-book").click()
    expect(my_slot).to_have_attribute("data-state", "booked")
    expect(detail.get_by_test_id("app-slot")).to_have_attribute("data-state", "booked")
    expect(detail.get_by_test_id("app-audit")).to_contain_text("Erik Exhibitor")

    # Too early: the server refuses. Then the test clock moves into the slot.
    my_slot.get_by_test_id("interview-join").click()
    expect(vp.get_by_test_id("error")).to_have_attribute("data-code", "interview.not_now")
    move_clock(recruit_server, 2 * 3600 + 60)
    my_slot.get_by_test_id("interview-join").click()
    expect(vp.get_by_test_id("interview-waiting")).to_be_visible()
    waiting = sp.get_by_test_id("interview-peer-waiting")
    expect(waiting).to_contain_text("Nora Newcomer")
    waiting.get_by_test_id("interview-join").click()

    for page in (sp, vp):
        expect(page.get_by_test_id("interview-call").get_by_test_id("call-view")) \
            .to_have_attribute("data-status", "live")
        assert_video_flows(page, "call-remote-video", "hallserver.rtc.pc")
    assert sp.evaluate("Object.keys(window.hallserver.rtc.peers).length") == 1
    assert vp.evaluate("Object.keys(window.hallserver.rtc.peers).length") == 1
    vp.get_by_test_id("call-hangup").click()
    expect(sp.get_by_test_id("call-status")).to_have_text("The call has ended.")


# --- phone width ---------------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}
# A long unbroken word, as job titles in German (or pasted links) have them.
LONG_WORD = "Batteriezellenfertigungsverfahrensentwicklungsingenieurin"


def phone_visitor(browser: sync_api.Browser, base: str, code: str) -> Visitor:
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True,
                                  has_touch=True)
    context.add_init_script(f"localStorage.setItem('hallserver.lang', '{code}')")
    context.set_default_timeout(TIMEOUT_MS)
    return Visitor(context, base)


# The innermost elements that reach past the right edge of the viewport, to name in a failure.
OVERFLOWING = """(limit) => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > limit
          && ![...el.children].some((c) => c.getBoundingClientRect().right > limit))
  .slice(0, 5)
  .map((el) => `${el.tagName.toLowerCase()}.${el.className || ""}`
               + `[${el.dataset.testid || ""}] ${Math.round(el.getBoundingClientRect().right)}`)"""


def overflow(page: sync_api.Page, what: str, shots: Path) -> list[str]:
    """What scrolls sideways on ``page`` (nothing when it fits); a screenshot either way."""
    page.screenshot(path=str(shots / f"{what}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width <= PHONE["width"]:
        return []
    culprits = page.evaluate(OVERFLOWING, PHONE["width"])
    return [f"{what}: {width} px wide, scrolls sideways on a phone ({culprits})"]


@pytest.mark.parametrize("code", ["en", "zh-Hans", "ru", "de"])
def test_recruitment_pages_fit_a_phone(chromium, recruit_server, code, tmp_path_factory):
    """The jobs directory, a job page, my applications, the profile and résumé editor and the
    staff's recruiting page (with an application open) at 390 px in every language: nothing
    scrolls sideways. Screenshots land in phone-recruit-<code>*/ under pytest's base
    temporary directory."""
    base = recruit_server.url
    shots = tmp_path_factory.mktemp(f"phone-recruit-{code}")
    staff = phone_visitor(chromium, base, code)
    candidate = phone_visitor(chromium, base, code)
    wide: list[str] = []
    try:
        staff.login("exhibitor", "exhibitor-demo", "/")
        booth = staff.page.evaluate("window.hallserver.user.staff_of[0]")
        sp = staff.page
        sp.goto(f"{base}/booth/{booth}/recruit")  # no chat room here to wait for
        staff.wait_connected()
        title = f"{LONG_WORD} {code}"
        sp.get_by_test_id("job-new").click()
        sp.get_by_test_id("job-form-title").fill(title)
        sp.get_by_test_id("job-form-type").select_option("full_time")
        sp.get_by_test_id("job-form-description").fill(
            f"{LONG_WORD} https://example.org/{'x' * 80} · 两年 · two years")
        wide += overflow(sp, "staff-job-form", shots)
        sp.get_by_test_id("job-form-save").click()
        expect(sp.get_by_test_id("staff-job").filter(has_text=title)).to_have_count(1)
        job = next(j for j in api_get(base, f"/api/jobs?booth={booth}&limit=100")["results"]
                   if j["title"] == title)

        candidate.login("visitor", "visitor-demo", "/profile")
        vp = candidate.page
        expect(vp.get_by_test_id("resume-form")).to_be_visible()
        vp.get_by_test_id("resume-summary").fill(f"{LONG_WORD} und Elektrochemikerin")
        vp.get_by_test_id("resume-education-add").click()
        vp.get_by_test_id("resume-education-school-0").fill("Technische Universität Berlin")
        vp.get_by_test_id("resume-skills").fill("electrochemistry, python")
        vp.get_by_test_id("resume-save").click()
        expect(vp.get_by_test_id("resume-form").get_by_test_id("saved")).to_be_visible()
        wide += overflow(vp, "profile", shots)

        candidate.goto("/jobs")
        expect(vp.get_by_test_id("job-card").first).to_be_visible()
        wide += overflow(vp, "jobs", shots)

        candidate.goto(f"/job/{job['id']}")
        expect(vp.get_by_test_id("job-title")).to_have_text(title)
        wide += overflow(vp, "job", shots)
        vp.get_by_test_id("apply-note").fill(f"{LONG_WORD} " * 3)
        vp.get_by_test_id("apply-submit").click()
        expect(vp.get_by_test_id("apply-done")).to_be_visible()

        candidate.goto("/applications")
        expect(vp.get_by_test_id("my-application").first).to_be_visible()
        wide += overflow(vp, "applications", shots)

        item = sp.get_by_test_id("staff-application").filter(has_text=title)
        expect(item).to_have_count(1)
        item.click()
        expect(sp.get_by_test_id("app-detail").get_by_test_id("app-cover-note")) \
            .to_contain_text(LONG_WORD)
        wide += overflow(sp, "staff-recruit", shots)
        assert not wide, "\n".join([*wide, f"screenshots: {shots}"])
        errors = staff.page_errors + candidate.page_errors
        assert not errors, errors
    finally:
        staff.context.close()
        candidate.context.close()
