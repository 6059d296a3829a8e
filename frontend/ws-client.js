// Hallserver WebSocket client: one socket per visitor, every room multiplexed over it.
//
// - request(action, data) returns a promise that resolves with the reply's `data` or rejects
//   with an Error carrying `.code` (the server's error code, or "client.timeout" /
//   "client.disconnected" / "client.closed").
// - on(event, fn) subscribes to server events ("chat.message", "presence.update",
//   "hall.counts", "session.ready", ...) and to the client's own events:
//     "room.resumed" {room, reply}   a room was re-joined after a reconnect (fresh presence,
//                                    counts; its missed messages were dispatched before it)
//     "room.reset"   {room, reply}   more messages were missed than the server replays:
//                                    drop the local view and load the history again
// - state is a signal: "connecting" | "open" | "reconnecting" | "closed".
// - ended is a signal: null, or {code, message, closeCode} once the server closed the
//   connection for good: "banned" (4003) or "too_many_connections" (4009). The client then
//   stops (no reconnect loop) until reconnect() is called; "session.ended" is emitted.
// - Rooms joined through joinRoom() are remembered with the highest chat `seq` seen; after a
//   reconnect they are joined again with `since`, and chat messages are deduplicated by seq.
// - sendChat(room, body) sends a chat message with a fresh `client_id` and, when the answer
//   is lost or says the message was not stored, sends it again with the same id (the server
//   stores it once): see "Retrying chat.send" in docs/protocol.md.
// See docs/protocol.md for the wire format.

import { signal } from "@preact/signals";

const PING_INTERVAL_MS = 20_000;
const PING_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 10_000;
// chat.send failures after which the same message (same client_id) is sent again.
const CHAT_RETRY_CODES = new Set([
  "chat.not_stored", "server.error", "client.timeout", "client.disconnected",
]);
const CHAT_RETRIES = 5;
// Close codes after which reconnecting right away is the expected thing to do.
const RESUME_CLOSE_CODES = new Set([4008, 1001]);
// Close codes after which the client must not come back on its own (docs/protocol.md).
const FINAL_CLOSE_CODES = new Map([
  [4003, "banned"],
  [4009, "too_many_connections"],
]);
const FINAL_REASONS = new Set(FINAL_CLOSE_CODES.values());

/** An Error with a protocol error code. */
export class ProtocolError extends Error {
  constructor(code, message, detail) {
    super(message || code);
    this.name = "ProtocolError";
    this.code = code;
    this.detail = detail;
  }
}

/**
 * How long to wait before reconnect attempt number `attempt` (0-based): exponential from
 * 0.5 s, capped at 10 s, with jitter over the upper half so that a crowd of clients dropped
 * together does not come back together.
 */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** A new client message id: unique per sender and room in practice (128 random bits). */
export function newClientId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/`;
}

export class HallSocket {
  constructor({
    url = defaultUrl(),
    requestTimeout = REQUEST_TIMEOUT_MS,
    pingInterval = PING_INTERVAL_MS,
    pingTimeout = PING_TIMEOUT_MS,
  } = {}) {
    this.url = url;
    this.requestTimeout = requestTimeout;
    this.pingInterval = pingInterval;
    this.pingTimeout = pingTimeout;
    /** "connecting" | "open" | "reconnecting" | "closed" */
    this.state = signal("connecting");
    /** The data of the last `session.ready` event (user, limits, server_time) or null. */
    this.session = signal(null);
    /** Why the server closed the connection for good ({code, message, closeCode}) or null. */
    this.ended = signal(null);
    this._closing = null; // the data of the last session.closing event on this socket
    this._ws = null;
    this._nextId = 1;
    this._pending = new Map(); // request id -> {resolve, reject, timer, frame}
    this._queue = []; // request ids waiting for the socket to be ready
    this._listeners = new Map(); // event name -> Set of functions
    this._rooms = new Map(); // room id -> {lastSeq: number, refs: number}
    this._attempt = 0;
    this._reconnectTimer = null;
    this._pingTimer = null;
    this._ready = false; // socket open and session.ready received
    this._everReady = false;
    this._stopped = true;
    this._onOnline = () => this._reconnectSoon();
  }

  // --- lifecycle -------------------------------------------------------------------------

  /** Open the connection (and keep it open until close()). */
  connect() {
    if (!this._stopped) return;
    this._stopped = false;
    this.ended.value = null;
    window.addEventListener("online", this._onOnline);
    this._open();
  }

  /** Close for good: no reconnect; pending requests are rejected. */
  close() {
    this._stopped = true;
    window.removeEventListener("online", this._onOnline);
    clearTimeout(this._reconnectTimer);
    this._stopPing();
    const ws = this._ws;
    this._ws = null;
    this._ready = false;
    if (ws) {
      this._detach(ws);
      ws.close(1000, "bye");
    }
    this._failAll("client.closed", "The connection was closed.");
    this.state.value = "closed";
  }

  /**
   * Drop the current socket and connect again at once, resuming every room. Used after a
   * login or logout, since the server reads the identity from the session cookie when the
   * socket is opened.
   */
  reconnect() {
    if (this._stopped) {
      this.connect();
      return;
    }
    clearTimeout(this._reconnectTimer);
    const ws = this._ws;
    if (ws) {
      this._detach(ws);
      ws.close(1000, "reconnect");
      this._lost();
    }
    this._attempt = 0;
    this._open();
  }

  _open() {
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = null;
    this.state.value = this._everReady ? "reconnecting" : "connecting";
    this._closing = null;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      console.error("hallserver: cannot open WebSocket", err);
      this._scheduleReconnect();
      return;
    }
    this._ws = ws;
    ws.onmessage = (ev) => this._onFrame(ev.data);
    ws.onclose = (ev) => this._onClose(ws, ev);
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  _detach(ws) {
    ws.onmessage = null;
    ws.onclose = null;
    ws.onerror = null;
  }

  _onClose(ws, ev) {
    if (ws !== this._ws) return;
    this._ws = null;
    this._lost();
    if (this._stopped) {
      this.state.value = "closed";
      return;
    }
    const reason = FINAL_CLOSE_CODES.get(ev.code) ??
      (FINAL_REASONS.has(this._closing?.code) ? this._closing.code : null);
    if (reason) {
      this._end({ code: reason, message: this._closing?.message || "", closeCode: ev.code });
      return;
    }
    if (RESUME_CLOSE_CODES.has(ev.code)) this._attempt = 0;
    this._scheduleReconnect();
  }

  /** Bookkeeping when a socket is gone: in-flight requests cannot be answered any more. */
  _lost() {
    this._ready = false;
    this._stopPing();
    for (const [id, p] of this._pending) {
      if (this._queue.includes(id)) continue; // not sent yet: it waits for the next socket
      clearTimeout(p.timer);
      this._pending.delete(id);
      p.reject(new ProtocolError("client.disconnected", "The connection was lost."));
    }
  }

  /** The server ended the session (banned, too many tabs): stop, and say why. */
  _end(info) {
    this._stopped = true;
    window.removeEventListener("online", this._onOnline);
    clearTimeout(this._reconnectTimer);
    this._failAll("client.closed", "The server closed the connection.");
    this.ended.value = info;
    this.state.value = "closed";
    this._emit("session.ended", info);
  }

  /** Reject every request, sent or queued. */
  _failAll(code, message) {
    for (const p of this._pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ProtocolError(code, message));
    }
    this._pending.clear();
    this._queue = [];
  }

  _scheduleReconnect() {
    if (this._stopped) return;
    this.state.value = "reconnecting";
    const delay = backoffDelay(this._attempt);
    this._attempt += 1;
    clearTimeout(this._reconnectTimer);
    this._reconnectTimer = setTimeout(() => this._open(), delay);
  }

  _reconnectSoon() {
    if (this._stopped || this._ws) return;
    this._attempt = 0;
    this._open();
  }

  // --- frames ------------------------------------------------------------------------------

  _onFrame(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      console.warn("hallserver: unparsable frame", raw);
      return;
    }
    if (frame === null || typeof frame !== "object") return;
    if ("reply" in frame) {
      this._onReply(frame);
    } else if (typeof frame.event === "string") {
      this._onEvent(frame.event, frame.data ?? {});
    }
  }

  _onReply(frame) {
    if (frame.reply === null || frame.reply === undefined) {
      console.warn("hallserver: the server could not parse a frame", frame.error);
      return;
    }
    const p = this._pending.get(frame.reply);
    if (!p) return; // timed out already
    this._pending.delete(frame.reply);
    clearTimeout(p.timer);
    if (frame.ok) {
      p.resolve(frame.data ?? {});
    } else {
      const err = frame.error || {};
      p.reject(new ProtocolError(err.code || "server.error", err.message, err));
    }
  }

  _onEvent(name, data) {
    if (name === "session.ready") {
      this.session.value = data;
      this._onReady();
      this._emit(name, data);
      return;
    }
    if (name === "chat.message") {
      if (!this._acceptMessage(data)) return;
    }
    if (name === "session.closing") {
      console.info("hallserver: server is closing the connection:", data.code);
      this._closing = data;
    }
    this._emit(name, data);
  }

  /** Track the highest seq per room; false for a message already delivered. */
  _acceptMessage(msg) {
    const room = this._rooms.get(msg.room);
    if (!room || typeof msg.seq !== "number") return true;
    if (msg.seq <= room.lastSeq) return false;
    room.lastSeq = msg.seq;
    return true;
  }

  _onReady() {
    const first = !this._everReady;
    this._ready = true;
    this._everReady = true;
    this._attempt = 0;
    this.state.value = "open";
    this._startPing();
    // Rooms first, so that queued actions find them joined again.
    if (!first) {
      for (const [roomId, room] of this._rooms) if (room.confirmed) this._resume(roomId);
    }
    const queued = this._queue;
    this._queue = [];
    for (const id of queued) {
      const p = this._pending.get(id);
      if (p) this._send(p.frame);
    }
  }

  async _resume(roomId) {
    const room = this._rooms.get(roomId);
    if (!room) return;
    let reply;
    try {
      reply = await this.request("room.join", { room: roomId, since: room.lastSeq });
    } catch (err) {
      console.warn(`hallserver: could not resume room ${roomId}`, err);
      if (err.code === "room.not_found" || err.code === "room.forbidden") {
        this._rooms.delete(roomId);
        this._emit("room.lost", { room: roomId, error: err });
      }
      return;
    }
    if (!this._rooms.has(roomId)) return; // left meanwhile
    if (reply.reset) {
      room.lastSeq = Math.max(room.lastSeq, reply.room?.last_seq ?? 0);
      this._emit("room.reset", { room: roomId, reply });
    } else {
      for (const msg of reply.missed || []) {
        if (this._acceptMessage(msg)) this._emit("chat.message", msg);
      }
    }
    this._emit("room.resumed", { room: roomId, reply });
  }

  _send(frame) {
    if (!this._ws || this._ws.readyState !== WebSocket.OPEN) return false;
    this._ws.send(JSON.stringify(frame));
    return true;
  }

  // --- pings ---------------------------------------------------------------------------------

  _startPing() {
    this._stopPing();
    this._pingTimer = setInterval(() => {
      const ws = this._ws;
      this.request("ping", { t: Date.now() }, { timeout: this.pingTimeout }).catch((err) => {
        // No answer: the connection is dead even if the browser has not noticed yet.
        if (err.code === "client.timeout" && ws === this._ws && ws) {
          this._detach(ws);
          ws.close(4000, "ping timeout");
          this._ws = null;
          this._lost();
          this._scheduleReconnect();
        }
      });
    }, this.pingInterval);
  }

  _stopPing() {
    clearInterval(this._pingTimer);
    this._pingTimer = null;
  }

  // --- public API -----------------------------------------------------------------------------

  /**
   * Send an action; resolves with the reply's data, rejects with a ProtocolError.
   * While the socket is not ready the request waits (up to the timeout) for it.
   */
  request(action, data = {}, { timeout = this.requestTimeout } = {}) {
    if (this._stopped && this.state.value === "closed") {
      return Promise.reject(new ProtocolError("client.closed", "The connection is closed."));
    }
    const id = this._nextId++;
    const frame = { action, id, data };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        this._queue = this._queue.filter((q) => q !== id);
        reject(new ProtocolError("client.timeout", `No reply to ${action} in time.`));
      }, timeout);
      this._pending.set(id, { resolve, reject, timer, frame });
      if (!this._ready || !this._send(frame)) this._queue.push(id);
    });
  }

  /** Subscribe to an event; returns the unsubscribe function. */
  on(event, fn) {
    let set = this._listeners.get(event);
    if (!set) {
      set = new Set();
      this._listeners.set(event, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  _emit(event, data) {
    const set = this._listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(data);
      } catch (err) {
        console.error(`hallserver: listener for ${event} failed`, err);
      }
    }
  }

  /**
   * Join a room and remember it for resuming. Reference counted: several views may join the
   * same room; the room is left when the last of them calls leaveRoom().
   * Resolves with the room.join reply.
   */
  async joinRoom(roomId) {
    let room = this._rooms.get(roomId);
    if (room) {
      room.refs += 1;
    } else {
      // `confirmed` stays false until a join reply arrived: only confirmed rooms are resumed.
      room = { lastSeq: 0, refs: 1, confirmed: false };
      this._rooms.set(roomId, room);
    }
    let reply;
    for (;;) {
      try {
        reply = await this.request("room.join", { room: roomId, since: null });
        break;
      } catch (err) {
        // Lost with the socket: ask again on the next one (the request waits for it).
        if (err.code === "client.disconnected" && !this._stopped && this._rooms.get(roomId) === room) {
          continue;
        }
        this._release(roomId, room);
        throw err;
      }
    }
    const history = reply.history || [];
    const last = history.length ? history[history.length - 1].seq : (reply.room?.last_seq ?? 0);
    if (this._rooms.get(roomId) === room) {
      room.lastSeq = Math.max(room.lastSeq, last);
      room.confirmed = true;
    }
    return reply;
  }

  _release(roomId, room) {
    room.refs -= 1;
    if (room.refs <= 0 && this._rooms.get(roomId) === room) {
      this._rooms.delete(roomId);
      return true;
    }
    return false;
  }

  /** Leave a room joined with joinRoom() (once the last user of it has left). */
  leaveRoom(roomId) {
    const room = this._rooms.get(roomId);
    if (!room) return Promise.resolve();
    if (!this._release(roomId, room)) return Promise.resolve();
    // Sent (or queued) even while reconnecting: a join still waiting in the queue goes out
    // first and must be undone. A socket that never joined answers room.not_joined.
    return this.request("room.leave", { room: roomId }).catch((err) => {
      // Not joined (any more), or the session is over (e.g. banned): nothing to leave.
      if (err.code !== "room.not_joined" && err.code !== "client.closed") {
        console.warn("hallserver: room.leave failed", err);
      }
    });
  }

  /**
   * Send a chat message. It carries a fresh client id; if the reply is lost (timeout, dropped
   * connection) or says the message was not stored, it is sent again with the same id, after
   * a backoff, up to CHAT_RETRIES times: the server stores it once and answers a repeat with
   * the original's seq. Other refusals (muted, slow mode, rate limits, ...) are not retried.
   * Resolves with the reply's data (`{seq, id}` or `{held: true}`).
   */
  async sendChat(roomId, body, { clientId = newClientId(), random = Math.random } = {}) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.request("chat.send", { room: roomId, body, client_id: clientId });
      } catch (err) {
        if (!CHAT_RETRY_CODES.has(err.code) || attempt >= CHAT_RETRIES || this._stopped) {
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, random)));
      }
    }
  }

  /** Rooms currently remembered, with their last seen seq (for debugging and tests). */
  rooms() {
    return Object.fromEntries([...this._rooms].map(([id, r]) => [id, r.lastSeq]));
  }

  /** The chat length limit announced by the server. */
  get maxChatChars() {
    return this.session.value?.limits?.max_chat_chars ?? 2000;
  }
}
