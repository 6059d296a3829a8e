"""frontend/ws-client.js on its own, in the browser, against a scripted fake WebSocket.

The harness page is served at an address of the live server (so the client's module and
its vendored imports load as in the app) with a stand-in ``WebSocket`` the test drives as
the server: request ids and replies, error codes, timeouts, queueing before the socket is
ready, resume after a drop with ``since``, deduplication by ``seq``, ``reset``, pings and
the reconnect backoff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

HARNESS = (Path(__file__).parent / "ws_client_harness.html").read_text()


@pytest.fixture
def harness(visitor, live_server_url):
    v = visitor()
    url = f"{live_server_url}/__ws_client_harness__"
    v.page.route(url, lambda route: route.fulfill(body=HARNESS, content_type="text/html"))
    v.page.goto(url)
    v.page.evaluate(
        """async () => {
            window.wsc = await import("/static/app/ws-client.js");
        }"""
    )
    return v.page


def test_requests_replies_errors_and_timeouts(harness):
    result = harness.evaluate(
        """async () => {
            const client = new wsc.HallSocket({url: "ws://example.test/ws/", requestTimeout: 150});
            const states = [];
            client.state.subscribe((s) => states.push(s));
            client.connect();
            const sock = FakeSocket.made[0];
            // Asked before the socket is ready: queued, sent after session.ready.
            const early = client.request("ping", {t: 1});
            const sentBeforeReady = sock.sent.length;
            sock.accept({id: 7, name: "Ada", kind: "visitor", staff_of: []});
            const ping = sock.last("ping");
            sock.reply(ping, {t: 1, server_time: 2});
            const pong = await early;

            const join = client.request("room.join", {room: 41, since: null});
            const joinFrame = sock.last("room.join");
            sock.fail(joinFrame, "room.not_found", "No room 41.");
            const err = await join.catch((e) => e);

            const slow = await client.request("chat.history", {room: 41}).catch((e) => e);
            return {
                sentBeforeReady, pong, pingId: ping.id, joinId: joinFrame.id,
                errName: err.name, errCode: err.code, errMessage: err.message,
                slowCode: slow.code, states, user: client.session.value.user.name,
                maxChars: client.maxChatChars,
            };
        }"""
    )
    assert result["sentBeforeReady"] == 0
    assert result["pong"] == {"t": 1, "server_time": 2}
    assert result["pingId"] != result["joinId"]
    assert result["errCode"] == "room.not_found"
    assert result["errMessage"] == "No room 41."
    assert result["slowCode"] == "client.timeout"
    assert result["states"][:2] == ["connecting", "open"]
    assert result["user"] == "Ada"
    assert result["maxChars"] == 300


def test_resume_after_drop_dedupes_and_resets(harness):
    result = harness.evaluate(
        """async () => {
            const client = new wsc.HallSocket({url: "ws://example.test/ws/"});
            const seen = [];
            const resets = [];
            const resumed = [];
            client.on("chat.message", (m) => seen.push(m.seq));
            client.on("room.reset", (e) => resets.push(e.room));
            client.on("room.resumed", (e) => resumed.push(e.room));
            client.connect();
            let sock = FakeSocket.made[0];
            sock.accept(null);
            const msg = (seq) => ({room: 5, seq, id: 100 + seq, body: `m${seq}`, ts: 1,
                                   user: {id: 1, name: "A", staff: false}});

            const joined = client.joinRoom(5);
            const first = sock.last("room.join");
            sock.reply(first, {room: {id: 5, last_seq: 3}, history: [msg(1), msg(2), msg(3)],
                               has_more: false, presence: {count: 1, users: []}});
            const reply = await joined;
            sock.push({event: "chat.message", data: msg(4)});
            sock.push({event: "chat.message", data: msg(4)});  // a duplicate: dropped

            // The server drops us as a slow consumer: reconnect and resume with since=4.
            sock.drop(4008);
            const stateAfterDrop = client.state.value;
            sock = await until(() => FakeSocket.made[1]);
            sock.accept(null);
            const resume = sock.last("room.join");
            sock.reply(resume, {room: {id: 5, last_seq: 6}, missed: [msg(4), msg(5), msg(6)],
                                reset: false, presence: {count: 2, users: []}});
            await until(() => resumed.length === 1);

            // Dropped again, and this time too much was missed: reset.
            sock.drop(1001);
            sock = await until(() => FakeSocket.made[2]);
            sock.accept(null);
            const resume2 = sock.last("room.join");
            sock.reply(resume2, {room: {id: 5, last_seq: 2000}, missed: [], reset: true,
                                 presence: {count: 2, users: []}});
            await until(() => resumed.length === 2);
            sock.push({event: "chat.message", data: msg(2000)});  // old: dropped
            sock.push({event: "chat.message", data: msg(2001)});

            // Leaving forgets the room: the next reconnect does not join it again.
            client.leaveRoom(5);
            const leave = sock.last("room.leave");
            sock.drop(1006);
            sock = await until(() => FakeSocket.made[3], 3000);
            sock.accept(null);
            await new Promise((r) => setTimeout(r, 50));
            return {
                historyLen: reply.history.length, firstSince: first.data.since,
                stateAfterDrop, resumeData: resume.data, resume2Since: resume2.data.since,
                seen, resets, resumed, leave: leave && leave.data,
                joinsAfterLeave: sock.sent.filter((f) => f.action === "room.join").length,
                rooms: client.rooms(),
            };
        }"""
    )
    assert result["historyLen"] == 3
    assert result["firstSince"] is None
    assert result["stateAfterDrop"] == "reconnecting"
    assert result["resumeData"] == {"room": 5, "since": 4}
    assert result["resume2Since"] == 6
    assert result["seen"] == [4, 5, 6, 2001]
    assert result["resets"] == [5]
    assert result["resumed"] == [5, 5]
    assert result["leave"] == {"room": 5}
    assert result["joinsAfterLeave"] == 0
    assert result["rooms"] == {}


def test_unanswered_ping_reconnects(harness):
    result = harness.evaluate(
        """async () => {
            const client = new wsc.HallSocket({url: "ws://example.test/ws/",
                                                pingInterval: 40, pingTimeout: 40});
            client.connect();
            const sock = FakeSocket.made[0];
            sock.accept(null);
            await until(() => sock.last("ping"));
            const ping = sock.last("ping");
            // No pong: the client gives up on this socket and opens another.
            const next = await until(() => FakeSocket.made[1], 3000);
            return {pingData: Object.keys(ping.data), closedWith: sock.closedWith,
                    url: next.url};
        }"""
    )
    assert result["pingData"] == ["t"]
    assert result["closedWith"] is not None
    assert result["url"] == "ws://example.test/ws/"


def test_backoff_grows_to_ten_seconds_with_jitter(harness):
    delays = harness.evaluate(
        """() => {
            const low = [], high = [];
            for (let attempt = 0; attempt < 12; attempt++) {
                low.push(wsc.backoffDelay(attempt, () => 0));
                high.push(wsc.backoffDelay(attempt, () => 0.999999));
            }
            return {low, high};
        }"""
    )
    assert delays["low"][0] == 250
    assert delays["low"] == sorted(delays["low"])
    assert max(delays["high"]) <= 10_000
    assert delays["high"][-1] > 9_990
    assert delays["low"][-1] == 5_000
    assert all(lo < hi for lo, hi in zip(delays["low"], delays["high"], strict=True))


def test_default_url_follows_the_page(harness, live_server_url):
    url = harness.evaluate("wsc.defaultUrl()")
    assert url == live_server_url.replace("http://", "ws://") + "/ws/"


def test_send_chat_retries_with_the_same_client_id(harness):
    """sendChat: a fresh client id per message; a lost answer or chat.not_stored sends the same
    message again with the same id; a refusal such as chat.muted is not retried."""
    result = harness.evaluate(
        """async () => {
            const client = new wsc.HallSocket({url: "ws://example.test/ws/"});
            client.connect();
            const sock = FakeSocket.made[FakeSocket.made.length - 1];
            sock.accept({id: 7, name: "Ada", kind: "visitor", staff_of: []});
            const sends = () => sock.sent.filter((f) => f.action === "chat.send");

            const sending = client.sendChat(41, "hello", {random: () => 0});
            const first = sends()[0];
            sock.fail(first, "chat.not_stored", "Not stored.");
            await until(() => sends().length === 2);
            const second = sends()[1];
            sock.fail(second, "server.error", "Oops.");
            await until(() => sends().length === 3);
            const third = sends()[2];
            sock.reply(third, {seq: 12, id: 99});
            const reply = await sending;

            const other = client.sendChat(41, "next");
            const fourth = sends()[3];
            sock.fail(fourth, "chat.muted", "You are muted.");
            const refused = await other.catch((e) => e.code);
            await new Promise((r) => setTimeout(r, 600));
            return {
                ids: [first, second, third].map((f) => f.data.client_id),
                bodies: [first, second, third].map((f) => f.data.body),
                reply, nextId: fourth.data.client_id, refused, total: sends().length,
            };
        }"""
    )
    ids = result["ids"]
    assert ids[0] and ids == [ids[0]] * 3 and len(ids[0]) <= 64
    assert result["bodies"] == ["hello"] * 3
    assert result["reply"] == {"seq": 12, "id": 99}
    assert result["nextId"] != ids[0]
    assert result["refused"] == "chat.muted" and result["total"] == 4
