"""The browser UI against a real server: chat between two browsers, presence, text-only
rendering of chat bodies, and the lobby's halls, search and live visitor counts."""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid

import pytest
from playwright.sync_api import Page, expect

from .conftest import api_get

pytestmark = pytest.mark.browser

XSS_BODY = '<img src=x onerror="window.pwned=1"><script>window.pwned=1</script><b>bold</b>'


def message(page: Page, text: str):
    """The chat message whose body contains ``text``."""
    return page.get_by_test_id("chat-message").filter(has_text=text)


def presence_count(page: Page) -> int:
    return int(page.get_by_test_id("presence-count").inner_text())


def send(page: Page, text: str, *, with_enter: bool = True) -> None:
    """Type ``text`` in the composer and send it; wait until it shows in this page's chat."""
    box = page.get_by_test_id("chat-input")
    box.fill(text)
    if with_enter:
        box.press("Enter")
    else:
        page.get_by_test_id("chat-send").click()
    expect(message(page, text)).to_have_count(1)
    expect(box).to_have_value("")


def test_two_visitors_chat_and_see_each_other(visitor, live_server_url):
    # The exhibitor staffs one booth: that is where the two visitors meet.
    exhibitor = visitor()
    exhibitor.login("exhibitor", "exhibitor-demo", "/")
    staff_of = exhibitor.page.evaluate("window.hallserver.user.staff_of")
    staff_name = exhibitor.page.get_by_test_id("user-name").inner_text()
    assert staff_of, "the demo exhibitor should staff a booth"
    booth_path = f"/booth/{staff_of[0]}"
    booth = api_get(live_server_url, f"/api/booths/{staff_of[0]}")

    # The first visitor arrives anonymously: they can read but the composer is replaced by
    # an invitation to log in, which comes back to the booth afterwards.
    first = visitor()
    page1 = first.goto(booth_path)
    expect(page1.get_by_test_id("booth-name")).to_have_text(booth["name"])
    expect(page1.get_by_test_id("chat-anonymous")).to_be_visible()
    expect(page1.get_by_test_id("chat-input")).to_have_count(0)
    page1.get_by_test_id("chat-login-link").click()
    page1.wait_for_url(re.compile(r"/login\?next="))
    page1.get_by_test_id("login-username").fill("visitor")
    page1.get_by_test_id("login-password").fill("visitor-demo")
    page1.get_by_test_id("login-submit").click()
    page1.wait_for_url(live_server_url + booth_path)
    first.wait_ready(booth_path)
    me1 = page1.get_by_test_id("user-name").inner_text()
    expect(page1.get_by_test_id("presence-item").filter(has_text=me1)).to_have_count(1)
    before = presence_count(page1)

    # The second visitor enters as a guest; the first page sees them arrive.
    guest_name = f"Guest {uuid.uuid4().hex[:6]}"
    second = visitor()
    second.enter_as_guest(guest_name, booth_path)
    page2 = second.page
    expect(page1.get_by_test_id("presence-count")).to_have_text(str(before + 1))
    arrived = page1.get_by_test_id("presence-item").filter(has_text=guest_name)
    expect(arrived).to_have_count(1)
    expect(arrived).to_have_attribute("data-staff", "false")
    expect(page2.get_by_test_id("presence-item").filter(has_text=me1)).to_have_count(1)

    # Each sees the other's message (sent with Enter, and with the button).
    hello = f"Hello from the visitor {uuid.uuid4().hex[:8]}"
    send(page1, hello)
    expect(message(page2, hello)).to_have_count(1)
    expect(message(page2, hello).get_by_test_id("chat-author")).to_have_text(me1)

    reply = f"Hi, guest here {uuid.uuid4().hex[:8]}\nsecond line"
    send(page2, reply, with_enter=False)
    expect(message(page1, "guest here")).to_have_count(1)
    expect(message(page1, "guest here").get_by_test_id("chat-body")).to_have_text(reply)
    seqs = [
        int(s)
        for s in page1.get_by_test_id("chat-message").evaluate_all(
            "els => els.map(e => e.dataset.seq)"
        )
    ]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), seqs

    # The booth's staff member comes by: listed with the staff badge, and so are their words.
    exhibitor.goto(booth_path)
    staff_item = page1.get_by_test_id("presence-item").filter(has_text=staff_name)
    expect(staff_item).to_have_attribute("data-staff", "true")
    expect(staff_item.get_by_test_id("staff-badge")).to_be_visible()
    expect(page1.get_by_test_id("presence-count")).to_have_text(str(before + 2))
    staff_words = f"Welcome to our booth {uuid.uuid4().hex[:8]}"
    send(exhibitor.page, staff_words)
    expect(message(page1, staff_words).get_by_test_id("staff-badge")).to_be_visible()

    # The guest leaves: the first page sees the count drop and the name go.
    second.context.close()
    expect(page1.get_by_test_id("presence-count")).to_have_text(str(before + 1))
    expect(page1.get_by_test_id("presence-item").filter(has_text=guest_name)).to_have_count(0)
    expect(page1.get_by_test_id("connection-state")).to_have_attribute("data-state", "open")

    # Logging out reconnects as an anonymous reader: still counted, no longer named.
    page1.get_by_test_id("logout").click()
    expect(page1.get_by_test_id("chat-anonymous")).to_be_visible()
    expect(page1.get_by_test_id("user-name")).to_have_count(0)
    first.wait_connected()
    gone = exhibitor.page.get_by_test_id("presence-item").filter(has_text=me1)
    expect(gone).to_have_count(0)
    expect(exhibitor.page.get_by_test_id("presence-count")).to_have_text(str(before + 1))


def test_chat_bodies_are_shown_as_text(visitor, quiet_booths):
    booth_path = f"/booth/{quiet_booths[0]['id']}"
    sender = visitor()
    sender.enter_as_guest("Mallory", booth_path)
    reader = visitor()
    reader.enter_as_guest("Alice", booth_path)
    expect(sender.page.get_by_test_id("presence-item").filter(has_text="Alice")).to_have_count(1)

    marker = uuid.uuid4().hex[:8]
    body = f"{marker} {XSS_BODY}"
    send(sender.page, body)

    for page in (reader.page, sender.page):
        shown = message(page, marker)
        expect(shown).to_have_count(1)
        expect(shown.get_by_test_id("chat-body")).to_have_text(body)
        assert shown.locator("b, img, script").count() == 0
        assert page.locator("[data-testid=chat-log] img, [data-testid=chat-log] b").count() == 0
        assert page.evaluate("typeof window.pwned") == "undefined"


def test_lobby_halls_search_and_live_counts(visitor, live_server_url, quiet_booths):
    expo = api_get(live_server_url, "/api/expo")
    lobby = visitor()
    page = lobby.goto("/")
    expect(page.get_by_test_id("expo-title")).to_have_text(expo["expo"]["name"])
    expect(page.get_by_test_id("hall-card")).to_have_count(len(expo["halls"]))
    total = sum(h["booth_count"] for h in expo["halls"])
    expect(page.get_by_test_id("booth-card")).to_have_count(total)

    # Search narrows the booths to what the API finds.
    target = quiet_booths[1]
    query = target["name"]
    found = api_get(live_server_url, f"/api/booths?limit=100&q={urllib.parse.quote(query)}")
    assert 0 < found["count"] < total
    page.get_by_test_id("search-input").fill(query)
    expect(page.get_by_test_id("booth-card")).to_have_count(found["count"])
    card = page.locator(f"[data-testid=booth-card][data-booth-id='{target['id']}']")
    expect(card).to_be_visible()
    expect(card).to_contain_text(target["name"])

    # Someone opens that booth: its live count goes up in the lobby, and down again.
    count = card.get_by_test_id("booth-count")
    start = int(count.inner_text())
    guest = visitor()
    guest.enter_as_guest("Counted Carol", f"/booth/{target['id']}")
    expect(count).to_have_text(str(start + 1))
    guest.page.goto(live_server_url + "/")
    expect(count).to_have_text(str(start))

    # Clearing the search shows every booth again; a hall card shows that hall's booths only.
    page.get_by_test_id("search-input").fill("")
    expect(page.get_by_test_id("booth-card")).to_have_count(total)
    hall = expo["halls"][-1]
    page.locator(f"[data-testid=hall-card][data-hall-id='{hall['id']}']").click()
    page.wait_for_url(f"{live_server_url}/hall/{hall['id']}")
    expect(page.get_by_test_id("booth-card")).to_have_count(hall["booth_count"])
    assert page.evaluate("window.hallserver.connected") is True


def test_language_switch_uses_chinese_names(visitor, live_server_url):
    expo = api_get(live_server_url, "/api/expo")
    hall = next(h for h in expo["halls"] if h["name_zh"])
    v = visitor()
    page = v.goto("/")
    card = page.locator(f"[data-testid=hall-card][data-hall-id='{hall['id']}']")
    expect(card).to_contain_text(hall["name"])
    page.get_by_test_id("lang-select").select_option("zh-Hans")
    expect(card).to_contain_text(hall["name_zh"])
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_test_id("connection-state")).to_have_text("已连接")
    # (Every language has every key: test_i18n_browser.py.)
    # The choice is remembered.
    page.reload()
    v.wait_connected()
    expect(card).to_contain_text(hall["name_zh"])


def test_reconnect_resumes_missed_messages(visitor, live_server_url, quiet_booths):
    booth_path = f"/booth/{quiet_booths[2]['id']}"
    talker = visitor()
    talker.enter_as_guest("Talker", booth_path)
    listener = visitor()
    listener.enter_as_guest("Listener", booth_path)
    page = listener.page
    joins: list[dict] = []

    def watch(socket) -> None:
        def sent(payload) -> None:
            frame = json.loads(payload)
            if frame.get("action") == "room.join":
                joins.append(frame["data"])

        socket.on("framesent", sent)

    page.on("websocket", watch)
    first = f"before the gap {uuid.uuid4().hex[:8]}"
    send(talker.page, first)
    expect(message(page, first)).to_have_count(1)

    # Cut the listener's socket and keep it from coming back while the talker goes on.
    page.evaluate(
        """() => {
            const ws = window.hallserver.ws;
            ws.realUrl = ws.url;
            // Same origin (the Content-Security-Policy allows it), a path the server
            // refuses: every reconnect attempt fails until the real URL is put back.
            ws.url = ws.url.replace("/ws/", "/ws-held-back/");
            ws._ws.close(4008, "test");
        }"""
    )
    state = page.get_by_test_id("connection-state")
    expect(state).to_have_attribute("data-state", "reconnecting")
    missed = [f"while away {i} {uuid.uuid4().hex[:6]}" for i in range(3)]
    for text in missed:
        send(talker.page, text)

    # Let it back: the messages missed meanwhile arrive once each, in order.
    page.evaluate(
        """() => {
            const ws = window.hallserver.ws;
            ws.url = ws.realUrl;
            ws.reconnect();
        }"""
    )
    listener.wait_connected()
    expect(state).to_have_attribute("data-state", "open")
    # The room was joined again with `since` = the last seq seen before the gap.
    expect(message(page, missed[-1])).to_have_count(1)
    resumed = [j for j in joins if j["room"] == quiet_booths[2]["room"]]
    assert resumed and resumed[-1]["since"] is not None, joins
    assert resumed[-1]["since"] == int(message(page, first).get_attribute("data-seq"))
    for text in missed:
        expect(message(page, text)).to_have_count(1)
    bodies = page.get_by_test_id("chat-body").all_inner_texts()
    assert bodies[-4:] == [first, *missed]
    # And the room is live again after the resume.
    after = f"after the gap {uuid.uuid4().hex[:8]}"
    send(talker.page, after)
    expect(message(page, after)).to_have_count(1)
    expect(message(page, first)).to_have_count(1)


def test_older_messages_load_when_scrolling_up(visitor, quiet_booths):
    booth_path = f"/booth/{quiet_booths[3]['id']}"
    writer = visitor()
    writer.enter_as_guest("Writer", booth_path)
    # More than one history page (50), sent straight through the client of the page.
    total = 70
    writer.page.evaluate(
        """async ([room, total]) => {
            for (let i = 1; i <= total; i++) {
                await window.hallserver.ws.request(
                    "chat.send", {room, body: `numbered message ${i}`});
            }
        }""",
        [quiet_booths[3]["room"], total],
    )
    reader = visitor()
    page = reader.goto(booth_path)
    messages = page.get_by_test_id("chat-message")
    expect(messages.last).to_contain_text(f"numbered message {total}")
    expect(messages).to_have_count(50)
    page.get_by_test_id("chat-log").evaluate("el => { el.scrollTop = 0; }")
    oldest = page.get_by_test_id("chat-body").filter(has_text=re.compile(r"^numbered message 1$"))
    expect(oldest).to_have_count(1)
    expect(messages).to_have_count(total)
    expect(page.get_by_test_id("chat-load-older")).to_have_count(0)
    seqs = [int(s) for s in messages.evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == list(range(seqs[0], seqs[0] + total))
