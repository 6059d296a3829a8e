"""Moderation in the browser against a real server: the moderator console (/moderate) acting
on a visitor's browser (delete, mute, ban), reports and announcements, room controls, the booth
staff's console, and the WebSocket client staying closed after a ban or with too many tabs.

Every test bans, mutes or reports fresh guest accounts only, and puts back any room setting it
changes, so that the other browser tests (one server for the whole session) are not affected.
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import Page, expect

from .conftest import api_get
from .test_chat_browser import message, send
from .test_ws_client import harness  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

# Counts the WebSockets a page opens, synchronously (Playwright's own event comes later).
COUNT_SOCKETS = """
(() => {
  const Real = window.WebSocket;
  window.__socketsOpened = 0;
  window.WebSocket = class extends Real {
    constructor(...args) {
      super(...args);
      window.__socketsOpened += 1;
    }
  };
})();
"""


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:8]}"


def open_console(visitor, username: str = "moderator") -> Page:
    """Log in and open the console; wait until its live feed is connected."""
    mod = visitor()
    mod.login(username, f"{username}-demo", "/moderate")
    page = mod.page
    expect(page.get_by_test_id("mod-feed")).to_have_attribute("data-live", "true")
    return page


def feed_item(console: Page, text: str):
    """The live feed's item for a message; the pointer leaves the feed (hovering pauses it)."""
    console.mouse.move(0, 0)
    found = console.get_by_test_id("feed-item").filter(has_text=text)
    expect(found).to_have_count(1)
    # Located by room and seq from now on: a deleted message's text is gone.
    room, seq = found.get_attribute("data-room"), found.get_attribute("data-seq")
    return console.locator(f"[data-testid=feed-item][data-room='{room}'][data-seq='{seq}']")


def guest_in_booth(visitor, booth: dict, name: str):
    guest = visitor()
    guest.enter_as_guest(name, f"/booth/{booth['id']}")
    return guest


def test_moderator_deletes_a_message_from_the_live_feed(visitor, quiet_booths):
    booth = quiet_booths[0]
    console = open_console(visitor)
    sam = guest_in_booth(visitor, booth, unique("Spammy Sam"))
    reader = guest_in_booth(visitor, booth, unique("Rita Reader"))
    text = unique("buy cheap watches at")
    send(sam.page, text)
    expect(message(reader.page, text)).to_have_count(1)
    seq = message(sam.page, text).get_attribute("data-seq")

    item = feed_item(console, text)
    assert item.get_attribute("data-seq") == seq
    assert item.get_attribute("data-room") == str(booth["room"])
    item.get_by_test_id("feed-delete").click()

    # Both visitors see a tombstone where the message was, and its text is gone.
    for page in (sam.page, reader.page):
        shown = page.locator(f"[data-testid=chat-message][data-seq='{seq}']")
        expect(shown.get_by_test_id("chat-tombstone")).to_have_text(
            "Message removed by a moderator")
        expect(message(page, text)).to_have_count(0)
        expect(shown.get_by_test_id("chat-report")).to_have_count(0)
    # The console marks it too, and the audit log has the deletion.
    expect(item.get_by_test_id("feed-deleted")).to_be_visible()
    expect(item.get_by_test_id("feed-delete")).to_have_count(0)
    entry = console.get_by_test_id("audit-entry").filter(has_text=text)
    expect(entry).to_have_attribute("data-action", "chat.delete")

    # It stays a tombstone for whoever comes later (history).
    sam.page.reload()
    sam.wait_ready(f"/booth/{booth['id']}")
    shown = sam.page.locator(f"[data-testid=chat-message][data-seq='{seq}']")
    expect(shown.get_by_test_id("chat-tombstone")).to_be_visible()
    expect(message(sam.page, text)).to_have_count(0)


def test_a_muted_visitor_cannot_chat_and_sees_why(visitor, quiet_booths):
    booth = quiet_booths[1]
    console = open_console(visitor)
    mia = guest_in_booth(visitor, booth, unique("Loud Lou"))
    page = mia.page
    text = unique("ALL CAPS ALL THE TIME")
    send(page, text)

    reason = "Please keep it civil"
    console.get_by_test_id("feed-reason").fill(reason)
    item = feed_item(console, text)
    item.get_by_test_id("feed-mute").click()
    expect(item.get_by_test_id("feed-note")).to_contain_text("muted in this room until")

    # The visitor's composer is disabled at once and says until when, and why.
    box = page.get_by_test_id("chat-input")
    expect(box).to_be_disabled()
    note = page.get_by_test_id("chat-muted")
    expect(note).to_contain_text(re.compile(r"You are muted until \d{1,2}:\d{2}"))
    expect(note).to_contain_text(f"Reason: {reason}")
    expect(page.get_by_test_id("chat-send")).to_be_disabled()
    until = page.evaluate(
        """(room) => window.hallserver.ws.request("chat.send", {room, body: "let me talk"})
            .then(() => null, (e) => [e.code, e.detail.until])""",
        booth["room"],
    )
    assert until[0] == "chat.muted"
    assert 9 * 60 < until[1] - time.time() <= 10 * 60 + 5

    # After a reload the page has forgotten, but the first refused send tells it again.
    page.reload()
    mia.wait_ready(f"/booth/{booth['id']}")
    box.fill("anyone there?")
    box.press("Enter")
    expect(box).to_be_disabled()
    expect(page.get_by_test_id("chat-muted")).to_contain_text("You are muted until")
    # Others can still chat.
    other = guest_in_booth(visitor, booth, unique("Quiet Quinn"))
    expect(other.page.get_by_test_id("chat-input")).to_be_enabled()


def test_a_ban_from_the_console_shows_the_banned_page_without_reconnecting(visitor, quiet_booths):
    booth = quiet_booths[2]
    console = open_console(visitor)
    troll = visitor()
    troll.context.add_init_script(COUNT_SOCKETS)
    troll.enter_as_guest(unique("Troll Tom"), f"/booth/{booth['id']}")
    page = troll.page
    text = unique("you are all idiots")
    send(page, text)

    item = feed_item(console, text)
    item.get_by_test_id("feed-ban").click()
    dialog = console.get_by_test_id("ban-dialog")
    expect(dialog).to_be_visible()
    confirm = dialog.get_by_test_id("ban-confirm")
    expect(confirm).to_be_disabled()  # a reason is required
    reason = "Insulting other visitors"
    dialog.get_by_test_id("ban-reason").fill(reason)
    dialog.get_by_test_id("ban-duration").select_option("60")
    confirm.click()
    expect(dialog).to_have_count(0)
    expect(item.get_by_test_id("feed-note")).to_contain_text("is banned")

    # The visitor's page is replaced by the banned page, with the reason; the socket is closed.
    banned = page.get_by_test_id("banned")
    expect(banned).to_be_visible()
    expect(banned.get_by_test_id("banned-reason")).to_have_text(reason)
    expect(page.get_by_test_id("chat")).to_have_count(0)
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "closed")
    # No reconnect: not scheduled, and not even when the browser says it is back online.
    opened = page.evaluate("window.__socketsOpened")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    assert page.evaluate("window.__socketsOpened") == opened
    assert page.evaluate("window.hallserver.ws.ended.value.closeCode") == 4003

    # Coming back is refused the same way: one socket, the banned page again.
    page.reload()
    expect(page.get_by_test_id("banned")).to_be_visible()
    expect(page.get_by_test_id("banned-reason")).to_have_text(reason)
    expect(page.get_by_test_id("connection-state")).to_have_attribute("data-state", "closed")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    assert page.evaluate("window.__socketsOpened") == 1
    # The audit log offers to lift it.
    entry = console.get_by_test_id("audit-entry").filter(has_text=reason)
    expect(entry).to_have_attribute("data-action", "mod.ban")
    expect(entry.get_by_test_id("audit-unban")).to_be_visible()


def test_reports_reach_the_queue_and_announcements_show_once(visitor, quiet_booths):
    booth = quiet_booths[3]
    console = open_console(visitor)
    author = guest_in_booth(visitor, booth, unique("Ann Author"))
    reporter = guest_in_booth(visitor, booth, unique("Rex Reporter"))
    text = unique("visit my-shady-site dot com")
    send(author.page, text)

    # A visitor reports the message with a reason; it shows up in the console's queue.
    shown = message(reporter.page, text)
    shown.hover()
    shown.get_by_test_id("chat-report").click()
    form = shown.get_by_test_id("report-form")
    form.get_by_label("Spam or advertising").check()
    form.get_by_test_id("report-details").fill("link to a scam")
    form.get_by_test_id("report-submit").click()
    expect(shown.get_by_test_id("chat-reported")).to_be_visible()
    expect(message(author.page, text).get_by_test_id("chat-report")).to_have_count(0)  # own
    report = console.get_by_test_id("report-item").filter(has_text=text)
    expect(report).to_contain_text("Spam or advertising")
    expect(report).to_contain_text("link to a scam")
    # Deleting from the queue closes the report and removes the message for everyone.
    report.get_by_test_id("report-delete").click()
    expect(report).to_have_count(0)
    expect(message(reporter.page, text)).to_have_count(0)

    # An announcement to the room: a banner in the booth, once, that can be dismissed.
    console.locator(f"[data-testid=room-row][data-room='{booth['room']}']").get_by_test_id(
        "room-announce").click()
    announce = console.get_by_test_id("mod-announce")
    expect(announce.get_by_test_id("announce-room")).to_have_value(str(booth["room"]))
    notice = unique("The hall closes in 15 minutes")
    announce.get_by_test_id("announce-text").fill(notice)
    announce.get_by_test_id("announce-send").click()
    banner = author.page.get_by_test_id("announcement").filter(has_text=notice)
    expect(banner).to_have_count(1)
    expect(banner).to_contain_text("from Mia Moderator")
    expect(reporter.page.get_by_test_id("announcement").filter(has_text=notice)).to_have_count(1)
    banner.get_by_test_id("announcement-dismiss").click()
    expect(banner).to_have_count(0)


def test_room_controls_reach_the_visitors_composer(visitor, live_server_url, quiet_booths):
    # A booth of its own: locking and slow mode are put back at the end.
    taken = {b["id"] for b in quiet_booths}
    booth = next(b for b in api_get(live_server_url, "/api/booths?limit=100")["results"]
                 if b["id"] not in taken and not api_get(
                     live_server_url, f"/api/booths/{b['id']}")["staff"])
    console = open_console(visitor)
    guest = guest_in_booth(visitor, booth, unique("Paula Patient"))
    page = guest.page
    row = console.locator(f"[data-testid=room-row][data-room='{booth['room']}']")
    expect(row).to_have_count(1)
    box = page.get_by_test_id("chat-input")
    try:
        # Read-only: a badge, and the composer is disabled with the explanation.
        lock = row.get_by_test_id("room-lock")
        lock.click()
        expect(lock).to_have_attribute("aria-pressed", "true")
        expect(page.get_by_test_id("chat-read-only")).to_be_visible()
        expect(page.get_by_test_id("chat-locked")).to_contain_text("read-only")
        expect(box).to_be_disabled()
        lock.click()
        expect(lock).to_have_attribute("aria-pressed", "false")
        expect(page.get_by_test_id("chat-read-only")).to_have_count(0)
        expect(box).to_be_enabled()

        # Slow mode: the hint, then a countdown after a message; the server agrees.
        row.get_by_test_id("room-slow-mode").select_option("60")
        expect(page.get_by_test_id("chat-slow-mode")).to_contain_text("one message every 60")
        send(page, unique("first"))
        wait = page.get_by_test_id("chat-wait")
        expect(wait).to_contain_text(re.compile(r"next message in \d+ s"))
        expect(page.get_by_test_id("chat-send")).to_be_disabled()
        refused = page.evaluate(
            """(room) => window.hallserver.ws.request("chat.send", {room, body: "again"})
                .then(() => null, (e) => [e.code, e.detail.retry_after])""",
            booth["room"],
        )
        assert refused[0] == "chat.slow_mode" and 0 < refused[1] <= 60
    finally:
        for action, data in (("mod.slow_mode", {"seconds": 0}), ("mod.lock", {"read_only": False})):
            console.evaluate(
                "([action, data]) => window.hallserver.ws.request(action, data)",
                [action, {"room": booth["room"], **data}],
            )
    expect(page.get_by_test_id("chat-slow-mode")).to_have_count(0)


def test_booth_staff_get_the_console_for_their_booth(visitor, live_server_url):
    staff = visitor()
    staff.login("exhibitor", "exhibitor-demo", "/")
    page = staff.page
    booth_id = page.evaluate("window.hallserver.user.staff_of[0]")
    booth = api_get(live_server_url, f"/api/booths/{booth_id}")
    page.get_by_test_id("nav-moderate").click()
    page.wait_for_url(live_server_url + "/moderate")
    expect(page.get_by_test_id("mod-console")).to_have_attribute("data-role", "staff")
    expect(page.get_by_test_id("mod-feed")).to_have_attribute("data-live", "true")
    # Only their booth's rooms, no audit log, no ban.
    rows = page.get_by_test_id("room-row")
    expect(rows.first).to_be_visible()
    rooms = {int(r) for r in rows.evaluate_all("els => els.map(e => e.dataset.room)")}
    assert booth["room"] in rooms and len(rooms) <= 1 + 1 + len(booth["roadshows"])
    expect(page.get_by_test_id("mod-audit")).to_have_count(0)
    expect(page.get_by_test_id("room-lock")).to_have_count(0)

    # The feed is their booth's chat; they may delete and mute there, not ban.
    guest = guest_in_booth(visitor, booth, unique("Curious Carl"))
    text = unique("is this booth open?")
    send(guest.page, text)
    item = feed_item(page, text)
    expect(item.get_by_test_id("feed-ban")).to_have_count(0)
    expect(item.get_by_test_id("feed-mute")).to_be_visible()
    # In the booth itself, staff get a delete button on messages (two steps).
    other = visitor()
    other.login("exhibitor", "exhibitor-demo", f"/booth/{booth_id}")
    shown = message(other.page, text)
    shown.hover()
    shown.get_by_test_id("chat-delete").click()
    shown.get_by_test_id("chat-delete-confirm").click()
    seq = item.get_attribute("data-seq")
    tomb = guest.page.locator(f"[data-testid=chat-message][data-seq='{seq}']")
    expect(tomb.get_by_test_id("chat-tombstone")).to_be_visible()
    expect(item.get_by_test_id("feed-deleted")).to_be_visible()


def test_roadshow_questions_are_approved_upvoted_and_answered(visitor, live_server_url):
    expo = api_get(live_server_url, "/api/expo")
    # A scheduled roadshow; in the day's last hour the seed has none left, then the live one.
    shows = sorted((r for r in expo["roadshows"] if r["state"] != "ended"),
                   key=lambda r: r["state"] != "scheduled")
    show = shows[0]
    path = f"/booth/{show['booth']}?roadshow={show['id']}"
    asker = visitor()
    asker.enter_as_guest(unique("Quentin Questioner"), path)
    text = unique("Will the slides be shared afterwards?")
    asker.page.get_by_test_id("qa-input").fill(text)
    asker.page.get_by_test_id("qa-ask").click()
    expect(asker.page.get_by_test_id("qa-sent")).to_be_visible()
    mine = asker.page.get_by_test_id("qa-question").filter(has_text=text)
    expect(mine).to_have_attribute("data-status", "pending")

    # Others do not see it before a moderator approves it.
    other = visitor()
    other.enter_as_guest(unique("Olga Other"), path)
    expect(other.page.get_by_test_id("qa")).to_be_visible()
    seen = other.page.get_by_test_id("qa-question").filter(has_text=text)
    expect(seen).to_have_count(0)

    moderator = visitor()
    moderator.login("moderator", "moderator-demo", path)
    pending = moderator.page.get_by_test_id("qa-question").filter(has_text=text)
    pending.get_by_test_id("qa-approve").click()
    expect(seen).to_have_attribute("data-status", "approved")
    expect(mine).to_have_attribute("data-status", "approved")

    # Upvotes count for everyone; "voted" is each visitor's own.
    seen.get_by_test_id("qa-vote").click()
    expect(seen.get_by_test_id("qa-votes")).to_have_text("1")
    expect(seen.get_by_test_id("qa-vote")).to_have_attribute("aria-pressed", "true")
    expect(mine.get_by_test_id("qa-votes")).to_have_text("1")
    expect(mine.get_by_test_id("qa-vote")).to_have_attribute("aria-pressed", "false")
    pending.get_by_test_id("qa-answered").click()
    expect(seen).to_have_attribute("data-status", "answered")
    expect(mine).to_have_attribute("data-status", "answered")


def test_visitors_do_not_get_the_console(visitor):
    v = visitor()
    v.login("visitor", "visitor-demo", "/moderate")
    expect(v.page.get_by_test_id("mod-forbidden")).to_be_visible()
    expect(v.page.get_by_test_id("nav-moderate")).to_have_count(0)


@pytest.mark.parametrize(("code", "reason"), [(4003, "banned"), (4009, "too_many_connections")])
def test_ws_client_does_not_reconnect_when_banned_or_with_too_many_tabs(harness, code, reason):  # noqa: F811
    result = harness.evaluate(
        """async ([code, reason]) => {
            const client = new wsc.HallSocket({url: "ws://example.test/ws/"});
            const ended = [];
            client.on("session.ended", (e) => ended.push(e));
            client.connect();
            const sock = FakeSocket.made[0];
            sock.accept({id: 7, name: "Ada", kind: "visitor", staff_of: []});
            const pending = client.request("ping", {t: 1});
            sock.push({event: "session.closing", data: {code: reason, message: "Spamming"}});
            sock.drop(code);
            const lost = await pending.catch((e) => e.code);
            const err = await client.request("ping", {t: 2}).catch((e) => e.code);
            // Not even when the browser comes back online.
            window.dispatchEvent(new Event("online"));
            const after = {sockets: FakeSocket.made.length, state: client.state.value,
                           ended: client.ended.value, events: ended.length, lost, err};
            // A deliberate reconnect (the "try again" button) opens a new socket.
            client.reconnect();
            after.socketsAfterRetry = FakeSocket.made.length;
            after.endedAfterRetry = client.ended.value;
            client.close();
            return after;
        }""",
        [code, reason],
    )
    assert result["sockets"] == 1
    assert result["state"] == "closed"
    assert result["ended"] == {"code": reason, "message": "Spamming", "closeCode": code}
    assert result["events"] == 1
    assert result["lost"] == "client.disconnected"  # in flight when the socket closed
    assert result["err"] == "client.closed"  # asked afterwards: refused at once
    assert result["socketsAfterRetry"] == 2
    assert result["endedAfterRetry"] is None
