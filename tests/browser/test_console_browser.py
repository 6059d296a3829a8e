"""The exhibitor console in Chromium: "Now" live, a chart of scripted visits, exports that
hold the inbox's rows, a meeting request appearing in the inbox live and answered from it,
inert scripts in booth texts, and a phone's width."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright import sync_api

from tests.browser.conftest import Visitor, visitors
from tests.conftest import ServerProcess, prepare_database, server_env

pytestmark = [pytest.mark.browser]
expect = sync_api.expect


@pytest.fixture(scope="module")
def console_server(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A server of its own (its database is read to hold the charts against raw rows)."""
    data_dir = tmp_path_factory.mktemp("console")
    env = server_env(data_dir)
    prepare_database(env)
    server = ServerProcess(env, "console")
    try:
        yield server.url, data_dir / "db.sqlite3"
    finally:
        server.stop()


@pytest.fixture
def people(chromium, console_server) -> Iterator[Callable[..., Visitor]]:
    yield from visitors(chromium, console_server[0])


def query(db: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def demo_booth(db: Path) -> int:
    return query(db, "SELECT s.booth_id FROM booths_boothstaff s JOIN auth_user u "
                     "ON u.id = s.user_id WHERE u.username = 'exhibitor'")[0][0]


def staff_console(people, booth: int, width: int = 1280) -> Visitor:
    staff = people()
    staff.page.set_viewport_size({"width": width, "height": 900})
    staff.login("exhibitor", "exhibitor-demo", "/")
    staff.page.goto(f"{staff.base_url}/console/{booth}")
    staff.wait_connected()
    expect(staff.page.get_by_test_id("console")).to_be_visible()
    return staff


def test_a_visitor_appears_in_now_and_the_chart_counts_the_visits(people, console_server):
    _, db = console_server
    booth = demo_booth(db)
    staff = staff_console(people, booth)
    page = staff.page
    expect(page.get_by_test_id("now-empty")).to_be_visible()
    guest = people()
    guest.enter_as_guest("Gina Guest", f"/booth/{booth}")
    # Without a reload, the guest shows up in "Now", with the profile snippet (default: shared).
    person = page.get_by_test_id("now-person").filter(has_text="Gina Guest")
    expect(person).to_be_visible()
    visitor = people()
    visitor.login("visitor", "visitor-demo", f"/booth/{booth}")
    expect(page.get_by_test_id("now-person")).to_have_count(2)
    # The visits reach the database in the recorder's next batch: wait for the rows.
    for _ in range(300):
        rows = query(db, "SELECT COUNT(DISTINCT user_id) FROM analytics_event WHERE "
                         "kind = 'enter' AND booth_id = ? AND roadshow_id IS NULL", booth)
        if rows[0][0] >= 2:
            break
        page.wait_for_timeout(100)
    raw = query(db, "SELECT COUNT(DISTINCT user_id), COUNT(*) FROM analytics_event WHERE "
                    "kind = 'enter' AND booth_id = ? AND roadshow_id IS NULL", booth)[0]
    assert raw[0] >= 2
    page.get_by_test_id("tab-analytics").click()
    chart = page.get_by_test_id("chart-visitors")
    expect(chart).to_be_visible()
    expect(chart.locator("canvas")).to_have_count(1)
    # All scripted visits were today and in at most two 5-minute steps: the chart's total is
    # the distinct visitors per step, at least the distinct visitors, at most the visits.
    total = int(chart.get_attribute("data-total-0"))
    per_step = query(db, "SELECT COUNT(*) FROM (SELECT DISTINCT user_id, "
                         "CAST(strftime('%s', at) AS INTEGER) / 300 FROM analytics_event "
                         "WHERE kind = 'enter' AND booth_id = ? AND roadshow_id IS NULL)",
                     booth)[0][0]
    assert total == per_step and raw[0] <= total <= raw[1]
    funnel = page.get_by_test_id("funnel-numbers")
    expect(funnel.locator("dd[data-key=visits]")).to_have_text(str(raw[1]))
    expect(page.get_by_test_id("chart-funnel").locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("chart-hours").locator("canvas")).to_have_count(1)


def test_exports_hold_the_rows_the_inbox_shows(people, console_server):
    _, db = console_server
    booth = demo_booth(db)
    visitor = people()
    visitor.login("visitor", "visitor-demo", f"/booth/{booth}")
    for n in range(2):
        visitor.page.evaluate(
            "([booth, n]) => window.hallserver.ws.request('lead.create', "
            "{booth, contact: `lead${n}@example.org`, message: `=SUM(A${n})`})", [booth, n])
    staff = staff_console(people, booth)
    page = staff.page
    # The bell caught up on the new leads' notices when the page connected.
    bell = page.get_by_test_id("bell")
    expect(page.get_by_test_id("bell-count")).to_be_visible()
    assert int(bell.get_attribute("data-unread")) >= 2
    bell.click()
    expect(page.get_by_test_id("bell-panel").locator("li[data-kind='lead.new']")).not_to_have_count(0)
    page.get_by_test_id("bell-read").click()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
    page.get_by_test_id("tab-inbox").click()
    items = page.get_by_test_id("inbox-item")
    expect(items.first).to_be_visible()
    shown = items.evaluate_all("els => els.map(e => Number(e.dataset.ref))")
    contacts = page.get_by_test_id("inbox-contact").all_inner_texts()
    assert len(shown) >= 2 and "lead1@example.org" in contacts
    with page.expect_download() as csv_download:
        page.get_by_test_id("export-leads-csv").click()
    path = csv_download.value.path()
    rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    assert [int(r[0]) for r in rows[1:]] == shown
    assert [r[3] for r in rows[1:]] == contacts
    with page.expect_download() as xlsx_download:
        page.get_by_test_id("export-leads-xlsx").click()
    sheet = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    values = list(sheet.values)[1:]
    assert [v[0] for v in values] == shown
    assert [v[3] for v in values] == contacts


def test_a_meeting_request_appears_in_the_inbox_live_and_is_answered_there(people,
                                                                            console_server):
    _, db = console_server
    booth = demo_booth(db)
    exhibitor = query(db, "SELECT id FROM auth_user WHERE username = 'exhibitor'")[0][0]
    staff = staff_console(people, booth)
    page = staff.page
    page.get_by_test_id("tab-inbox").click()
    page.get_by_test_id("inbox-source-meetings").click()
    expect(page.get_by_test_id("inbox-list").or_(page.get_by_text("Nothing here yet."))
           ).to_be_visible()
    visitor = people()
    visitor.login("visitor", "visitor-demo", "/")
    status = visitor.page.evaluate(
        """async (user) => {
          const token = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
          const res = await fetch("/api/meetings", {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json",
                      "X-CSRFToken": decodeURIComponent(token.split("=")[1])},
            body: JSON.stringify({user, message: "Coffee at your booth?"})});
          return res.status;
        }""", exhibitor)
    assert status == 201
    # Without a reload, the request shows in the inbox, unread, with the meetings count.
    item = page.get_by_test_id("inbox-item").filter(has_text="Coffee at your booth?")
    expect(item).to_be_visible()
    expect(item).to_have_attribute("data-read", "false")
    expect(item.get_by_test_id("inbox-meeting")).to_have_attribute("data-state", "requested")
    expect(page.get_by_test_id("inbox-source-meetings").locator(".count-badge")).to_be_visible()
    # The exhibitor (whom it was asked of) declines it from the inbox; the requester is told.
    item.get_by_test_id("meeting-decline").click()
    expect(item.get_by_test_id("inbox-meeting")).to_have_attribute("data-state", "declined")
    expect(item).to_have_attribute("data-read", "true")
    ref = int(item.get_attribute("data-ref"))
    assert query(db, "SELECT state FROM docking_meeting WHERE id = ?", ref) == [("declined",)]
    assert query(db, "SELECT COUNT(*) FROM recruitment_notice WHERE kind = 'meeting.declined' "
                     "AND user_id = (SELECT id FROM auth_user WHERE username = 'visitor')"
                 ) == [(1,)]
    # The export holds the rows the inbox shows.
    shown = page.get_by_test_id("inbox-item").evaluate_all(
        "els => els.map(e => Number(e.dataset.ref))")
    with page.expect_download() as csv_download:
        page.get_by_test_id("export-meetings-csv").click()
    rows = list(csv.reader(io.StringIO(
        Path(csv_download.value.path()).read_text(encoding="utf-8-sig"))))
    assert [int(r[0]) for r in rows[1:]] == shown
    assert ("Coffee at your booth?", "declined") in [(r[5], r[6]) for r in rows[1:]]
    assert not staff.page_errors and not visitor.page_errors


def test_scripts_in_booth_texts_render_inert(people, console_server):
    _, db = console_server
    booth = demo_booth(db)
    staff = staff_console(people, booth)
    page = staff.page
    page.get_by_test_id("tab-booth").click()
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
    page.get_by_test_id("tagline-en").fill("Tag " + attack)
    page.get_by_test_id("description-en").fill("About " + attack)
    page.get_by_test_id("tags").fill("chem, <script>window.__pwned=1</script>")
    page.get_by_test_id("booth-edit").get_by_role("button").last.click()
    expect(page.get_by_test_id("console-done")).to_be_visible()
    guest = people()
    guest.enter_as_guest("Greta", f"/booth/{booth}")
    expect(guest.page.get_by_test_id("booth-description")).to_contain_text("<img src=x")
    expect(guest.page.get_by_test_id("booth-tagline")).to_contain_text("<script>")
    expect(guest.page.locator(".tag", has_text="<script>")).to_have_count(1)
    assert guest.page.evaluate("() => window.__pwned") is None
    assert guest.page.locator(".booth-info img[src='x'], .booth-info script").count() == 0


@pytest.mark.parametrize("tab", ["now", "inbox", "analytics", "booth", "staff"])
def test_console_and_booth_pages_fit_a_phone(people, console_server, tab):
    url, db = console_server
    booth = demo_booth(db)
    staff = staff_console(people, booth, width=390)
    page = staff.page
    page.get_by_test_id(f"tab-{tab}").click()
    page.wait_for_load_state("networkidle")
    width = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    assert page.evaluate(width) <= 390
    if tab == "now":
        page.goto(f"{url}/booth/{booth}")
        staff.wait_ready(f"/booth/{booth}")
        assert page.evaluate(width) <= 390
