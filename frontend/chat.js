// The chat of a room (message list with upward infinite scroll, composer) and its presence list.
// Moderation shows here too: tombstones of deleted messages, the pinned message, read-only and
// slow mode, mutes, reporting a message, and deleting/pinning for those who keep the room.
//
// Chat bodies are user input: they are only ever rendered as text children (Preact creates
// text nodes for them), never as HTML.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html, ErrorBox } from "./components.js";
import { t, plural, formatTime, formatDateTime } from "./i18n.js";
import { ws, user } from "./store.js";
import { loginHref, navigate } from "./router.js";
import { keepsRoom, muteIn, setMute, kickNotice, useNow, clockOf, Icon } from "./moderation.js";

/** Report reasons; the reason sent is "[key] details" (the console shows the key translated). */
export const REPORT_REASONS = ["spam", "abuse", "offtopic", "other"];
const REPORT_MAX = 500;

const NEAR_BOTTOM_PX = 48;

function codePoints(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

function StaffBadge({ label }) {
  return html`<span class="badge badge-staff" data-testid="staff-badge">${label || t("chat.staff")}</span>`;
}

function ReportForm({ msg, onDone, onCancel }) {
  const [reason, setReason] = useState(REPORT_REASONS[0]);
  const [details, setDetails] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const id = `report-${msg.room}-${msg.seq}`;

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const text = `[${reason}] ${details.trim()}`.trim().slice(0, REPORT_MAX);
    try {
      await ws.request("chat.report", { room: msg.room, seq: msg.seq, reason: text });
      onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return html`
    <form class="report-form" onSubmit=${submit} data-testid="report-form">
      <fieldset>
        <legend>${t("report.title")}</legend>
        <div class="report-reasons">
          ${REPORT_REASONS.map(
            (r) => html`<label class="report-reason">
              <input
                type="radio"
                name=${id}
                value=${r}
                checked=${reason === r}
                onChange=${() => setReason(r)}
              />
              ${t(`report.reason.${r}`)}
            </label>`,
          )}
        </div>
        <label class="visually-hidden" for=${`${id}-details`}>${t("report.details")}</label>
        <input
          id=${`${id}-details`}
          type="text"
          maxlength=${REPORT_MAX - 20}
          value=${details}
          placeholder=${t("report.details")}
          onInput=${(e) => setDetails(e.currentTarget.value)}
          data-testid="report-details"
        />
        <div class="report-buttons">
          <button type="submit" class="button button-small" disabled=${busy} data-testid="report-submit">
            ${t("report.submit")}
          </button>
          <button type="button" class="button button-small button-quiet" onClick=${onCancel}>
            ${t("report.cancel")}
          </button>
        </div>
      </fieldset>
      ${error && html`<${ErrorBox} error=${error} onDismiss=${() => setError(null)} />`}
    </form>
  `;
}

function Message({ msg, mine, signedIn, keeper }) {
  const [reporting, setReporting] = useState(false);
  const [reported, setReported] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const author = msg.user?.name ?? "?";
  const staff = Boolean(msg.user?.staff);
  const when = typeof msg.ts === "number" ? new Date(msg.ts * 1000) : null;
  const time =
    when &&
    html`<time class="msg-time" datetime=${when.toISOString()} title=${formatDateTime(when)}>
      ${formatTime(msg.ts)}
    </time>`;

  if (msg.deleted) {
    return html`
      <li class="msg msg-deleted" data-testid="chat-message" data-seq=${msg.seq} data-deleted="true">
        <div class="msg-head">
          <span class="msg-tombstone" data-testid="chat-tombstone">${t("chat.removed")}</span>
          ${time}
        </div>
      </li>
    `;
  }

  async function act(action, data) {
    setBusy(true);
    setError(null);
    try {
      await ws.request(action, data);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  const canReport = signedIn && !mine && !reported;
  return html`
    <li
      class="msg ${mine ? "msg-mine" : ""} ${staff ? "msg-staff" : ""}"
      data-testid="chat-message"
      data-seq=${msg.seq}
    >
      <div class="msg-head">
        <span class="msg-author" data-testid="chat-author">${author}</span>
        ${staff && html`<${StaffBadge} />`}
        ${mine && html`<span class="msg-you">(${t("chat.you")})</span>`}
        ${time}
        ${(canReport || keeper) &&
        html`<span class="msg-actions ${confirming || reporting ? "is-open" : ""}">
          ${canReport &&
          !reporting &&
          html`<button
            type="button"
            class="msg-action"
            onClick=${() => setReporting(true)}
            aria-label=${t("chat.report_label", { name: author })}
            data-testid="chat-report"
          >
            ${t("chat.report")}
          </button>`}
          ${keeper &&
          html`<button
            type="button"
            class="msg-action"
            disabled=${busy}
            onClick=${() => act("mod.pin", { room: msg.room, seq: msg.seq })}
            data-testid="chat-pin"
          >
            ${t("chat.pin")}
          </button>`}
          ${keeper &&
          (confirming
            ? html`<button
                  type="button"
                  class="msg-action msg-action-danger is-confirm"
                  disabled=${busy}
                  onClick=${() => act("chat.delete", { room: msg.room, seq: msg.seq })}
                  data-testid="chat-delete-confirm"
                >
                  ${t("chat.delete_confirm")}
                </button>
                <button type="button" class="msg-action" onClick=${() => setConfirming(false)}>
                  ${t("report.cancel")}
                </button>`
            : html`<button
                type="button"
                class="msg-action msg-action-danger"
                disabled=${busy}
                onClick=${() => setConfirming(true)}
                aria-label=${t("chat.delete_label", { name: author })}
                data-testid="chat-delete"
              >
                ${t("chat.delete")}
              </button>`)}
        </span>`}
      </div>
      <p class="msg-body" data-testid="chat-body">${msg.body}</p>
      ${reporting &&
      html`<${ReportForm}
        msg=${msg}
        onDone=${() => {
          setReporting(false);
          setReported(true);
        }}
        onCancel=${() => setReporting(false)}
      />`}
      ${reported &&
      html`<p class="msg-note" role="status" data-testid="chat-reported">${t("report.thanks")}</p>`}
      ${error && html`<${ErrorBox} error=${error} onDismiss=${() => setError(null)} />`}
    </li>
  `;
}

function MessageList({ roomState, roomId }) {
  const { messages, hasMore, loadOlder, loadingOlder, olderError, status, lastLive } = roomState;
  const me = user.value;
  const keeper = keepsRoom(roomId);
  const scroller = useRef(null);
  const sentinel = useRef(null);
  const atBottom = useRef(true);
  const prev = useRef({ first: null, last: null, height: 0, top: 0 });
  const [unseen, setUnseen] = useState(false);

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    prev.current.top = el.scrollTop;
    if (atBottom.current && unseen) setUnseen(false);
  }

  function scrollToBottom() {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setUnseen(false);
  }

  // Keep the view where the reader expects it when messages are added above or below.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = messages[0]?.seq ?? null;
    const last = messages[messages.length - 1]?.seq ?? null;
    const before = prev.current;
    if (before.first === null || before.last === null) {
      el.scrollTop = el.scrollHeight; // first page: start at the newest message
      atBottom.current = true;
    } else if (first !== null && first < before.first && last === before.last) {
      el.scrollTop = before.top + (el.scrollHeight - before.height); // older page above
    } else if (last !== null && last > before.last) {
      const newest = messages[messages.length - 1];
      const mine = me && newest.user?.id === me.id;
      if (atBottom.current || mine) {
        el.scrollTop = el.scrollHeight;
        atBottom.current = true;
      } else {
        setUnseen(true);
      }
    }
    prev.current = { first, last, height: el.scrollHeight, top: el.scrollTop };
  }, [messages]);

  // Load older messages when the top of the list comes into view. The observer is made anew
  // after every page, so that a top still in view (a tall window) asks for the next one.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasMore || status !== "joined") return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting) && !olderError) loadOlder();
      },
      { root: scroller.current, rootMargin: "120px 0px 0px 0px" },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasMore, status, loadOlder, olderError, loadingOlder, messages.length > 0]);

  const announce = lastLive
    ? `${lastLive.user?.name ?? ""}: ${lastLive.body.length > 200 ? `${lastLive.body.slice(0, 200)}…` : lastLive.body}`
    : "";

  return html`
    <div class="chat-scroll-wrap">
      <div
        class="chat-scroll"
        ref=${scroller}
        onScroll=${onScroll}
        tabindex="0"
        role="region"
        aria-label=${t("chat.log_label")}
        data-testid="chat-log"
      >
        <div class="chat-top" ref=${sentinel}>
          ${hasMore &&
          html`<button
            type="button"
            class="button button-small button-quiet"
            onClick=${loadOlder}
            disabled=${loadingOlder}
            data-testid="chat-load-older"
          >
            ${loadingOlder ? t("chat.loading_older") : t("chat.load_older")}
          </button>`}
          ${!hasMore && messages.length > 0 && html`<p class="muted small">${t("chat.beginning")}</p>`}
          ${olderError && html`<${ErrorBox} error=${olderError} onRetry=${loadOlder} />`}
        </div>
        ${status === "joined" && messages.length === 0 &&
        html`<p class="empty chat-empty">${t("chat.empty")}</p>`}
        <ol class="chat-list">
          ${messages.map(
            (m) => html`<${Message}
              key=${m.seq}
              msg=${m.room === undefined ? { ...m, room: roomId } : m}
              mine=${Boolean(me && m.user?.id === me.id)}
              signedIn=${Boolean(me)}
              keeper=${keeper}
            />`,
          )}
        </ol>
      </div>
      ${unseen &&
      html`<button type="button" class="button button-small new-messages" onClick=${scrollToBottom}>
        ${t("chat.new_messages")} ↓
      </button>`}
      <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="chat-announce">
        ${announce}
      </div>
    </div>
  `;
}

/** What keeps the user from sending right now, as a note above the composer, or null. */
function Restriction({ mute, readOnly, wait, now, slowMode }) {
  if (mute) {
    return html`<p class="composer-note composer-blocked" role="status" data-testid="chat-muted">
      ${mute.until ? t("chat.muted_until", { time: clockOf(mute.until) }) : t("chat.muted")}
      ${mute.reason && html`<span class="sanction-reason">${t("sanction.reason", { reason: mute.reason })}</span>`}
    </p>`;
  }
  if (readOnly) {
    return html`<p class="composer-note composer-blocked" role="status" data-testid="chat-locked">
      ${t("chat.locked")}
    </p>`;
  }
  if (wait && wait.until > now) {
    const seconds = Math.max(1, Math.ceil((wait.until - now) / 1000));
    const key = wait.kind === "rate" ? "chat.rate_wait" : "chat.slow_wait";
    return html`<p class="composer-note composer-wait" role="status" data-testid="chat-wait" data-kind=${wait.kind}>
      ${t(key, { n: seconds })}
      ${wait.kind === "slow" && slowMode > 0 && html` ${plural("chat.slow_mode", slowMode)}`}
    </p>`;
  }
  return null;
}

function Composer({ roomId, room, joined }) {
  const me = user.value;
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState(null);
  // A wait before the next message: {until: ms, kind: "slow" | "rate"}.
  const [wait, setWait] = useState(null);
  const [held, setHeld] = useState(false);
  const input = useRef(null);
  const max = ws.maxChatChars;
  const state = ws.state.value;
  const keeper = keepsRoom(roomId);
  const slowMode = keeper ? 0 : room?.slow_mode || 0;
  const mutedAtAll = Boolean(me && muteIn(roomId));
  const now = useNow(mutedAtAll || Boolean(wait && wait.until > Date.now()));

  if (me === undefined) return null;
  if (!me) {
    // The sentence has the link in the middle; split the translation around its placeholder.
    const [before, after] = t("chat.anonymous", { link: "\u0000" }).split("\u0000");
    return html`
      <p class="composer-note" data-testid="chat-anonymous">
        ${before}<a href=${loginHref()} data-testid="chat-login-link">${t("chat.anonymous_link")}</a
        >${after}
      </p>
    `;
  }

  const mute = muteIn(roomId, now);
  const readOnly = Boolean(room?.read_only) && !keeper;
  const waiting = Boolean(wait && wait.until > now);
  const disabled = Boolean(mute) || readOnly;
  const length = codePoints(text.trim());
  const over = length - max;
  const offline = state !== "open";
  const canSend = length > 0 && over <= 0 && !sending && !offline && joined && !disabled && !waiting;
  const counterId = `chat-counter-${roomId}`;
  const inputId = `chat-input-${roomId}`;
  const noteId = `chat-note-${roomId}`;

  function waitFor(seconds, kind) {
    if (typeof seconds === "number" && seconds > 0) {
      setWait({ until: Date.now() + seconds * 1000, kind });
    }
  }

  async function send() {
    if (!canSend) return;
    const body = text;
    setSending(true);
    setError(null);
    setHeld(false);
    try {
      // Retried with the same client id when the answer is lost or says "not stored".
      const reply = await ws.sendChat(roomId, body);
      setText((current) => (current === body ? "" : current));
      if (reply?.held) setHeld(true);
      if (slowMode > 0) waitFor(slowMode, "slow");
    } catch (err) {
      const detail = err.detail || {};
      if (err.code === "chat.muted") {
        setMute(roomId, detail.until ?? null, "");
      } else if (err.code === "chat.slow_mode") {
        waitFor(detail.retry_after ?? slowMode, "slow");
      } else if (err.code === "rate.limited") {
        waitFor(detail.retry_after ?? 5, "rate");
      } else {
        setError(err);
      }
    } finally {
      setSending(false);
      input.current?.focus();
    }
  }

  function onKeyDown(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  }

  return html`
    <form
      class="composer ${disabled ? "is-disabled" : ""}"
      onSubmit=${(e) => {
        e.preventDefault();
        send();
      }}
    >
      <div id=${noteId}>
        <${Restriction}
          mute=${mute}
          readOnly=${readOnly}
          wait=${wait}
          now=${now}
          slowMode=${slowMode}
        />
      </div>
      ${held &&
      html`<div class="notice" role="status" data-testid="chat-held">
        ${t("chat.held")}
        <button type="button" class="button button-small button-quiet" onClick=${() => setHeld(false)}>
          ${t("error.dismiss")}
        </button>
      </div>`}
      <label for=${inputId} class="visually-hidden">${t("chat.input_label")}</label>
      <textarea
        id=${inputId}
        ref=${input}
        rows="2"
        value=${text}
        disabled=${disabled}
        onInput=${(e) => setText(e.currentTarget.value)}
        onKeyDown=${onKeyDown}
        placeholder=${disabled ? "" : t("chat.placeholder")}
        aria-describedby=${`${noteId} ${counterId}`}
        aria-invalid=${over > 0 ? "true" : undefined}
        data-testid="chat-input"
      ></textarea>
      <div class="composer-bar">
        <span
          id=${counterId}
          class="counter ${over > 0 ? "is-over" : length > max * 0.9 ? "is-near" : ""}"
          data-testid="chat-counter"
        >
          ${t("chat.counter", { n: length, max })}
          ${over > 0 && html` · ${plural("chat.too_long_hint", over)}`}
        </span>
        ${slowMode > 0 &&
        !waiting &&
        !disabled &&
        html`<span class="muted small" data-testid="chat-slow-mode">
          <${Icon} name="clock" size=${14} /> ${plural("chat.slow_mode", slowMode)}
        </span>`}
        ${keeper &&
        (room?.read_only || room?.slow_mode > 0) &&
        html`<span class="muted small">${t("chat.keeper_bypass")}</span>`}
        ${offline && html`<span class="muted small">${t("chat.offline")}</span>`}
        <button type="submit" class="button" disabled=${!canSend} data-testid="chat-send">
          ${sending ? t("chat.sending") : t("chat.send")}
        </button>
      </div>
      ${error &&
      html`<${ErrorBox} error=${error} onDismiss=${() => setError(null)} />`}
    </form>
  `;
}

/** The pinned message, above the chat. */
function PinnedBar({ room, roomId }) {
  const [error, setError] = useState(null);
  const pinned = room?.pinned;
  if (!pinned || pinned.deleted) return null;
  const keeper = keepsRoom(roomId);
  async function unpin() {
    setError(null);
    try {
      await ws.request("mod.pin", { room: roomId, seq: null });
    } catch (err) {
      setError(err);
    }
  }
  return html`
    <div class="pinned" data-testid="chat-pinned" data-seq=${pinned.seq}>
      <span class="pinned-label"><${Icon} name="pin" size=${14} /> ${t("chat.pinned")}</span>
      <span class="pinned-text">
        <span class="pinned-author">${pinned.user?.name ?? "?"}:</span>
        <span class="pinned-body" data-testid="chat-pinned-body">${pinned.body}</span>
      </span>
      ${keeper &&
      html`<button type="button" class="button button-small button-quiet" onClick=${unpin} data-testid="chat-unpin">
        ${t("chat.unpin")}
      </button>`}
      ${error && html`<${ErrorBox} error=${error} onDismiss=${() => setError(null)} />`}
    </div>
  `;
}

export function ChatPanel({ roomState, roomId }) {
  const { room, kicked } = roomState;

  // A moderator removed us from the room: leave its page, and say why on the next one.
  useEffect(() => {
    if (!kicked) return;
    kickNotice.value = { room: roomId, reason: kicked.reason, title: room?.title || "" };
    navigate(room?.hall ? `/hall/${room.hall}` : "/", { replace: true });
  }, [kicked]);

  return html`
    <section
      class="panel chat"
      aria-labelledby="chat-title"
      data-testid="chat"
      data-room=${roomId}
      data-state=${roomState.status}
    >
      <div class="panel-head">
        <h2 id="chat-title">${t("chat.title")}</h2>
        ${room?.read_only &&
        html`<span class="badge badge-locked" data-testid="chat-read-only">
          <${Icon} name="lock" size=${12} /> ${t("chat.read_only_badge")}
        </span>`}
        ${room?.slow_mode > 0 &&
        html`<span class="badge" title=${plural("chat.slow_mode", room.slow_mode)}>
          <${Icon} name="clock" size=${12} /> ${t("chat.slow_mode_badge", { n: room.slow_mode })}
        </span>`}
      </div>
      <${PinnedBar} room=${room} roomId=${roomId} />
      ${roomState.notice &&
      html`<div class="notice" role="status">
        ${t(roomState.notice)}
        <button type="button" class="button button-small button-quiet" onClick=${roomState.dismissNotice}>
          ${t("error.dismiss")}
        </button>
      </div>`}
      ${roomState.status === "error" &&
      html`<${ErrorBox} error=${roomState.error} onRetry=${roomState.retry} />`}
      <${MessageList} roomState=${roomState} roomId=${roomId} />
      <${Composer}
        roomId=${roomId}
        room=${room}
        joined=${roomState.status === "joined"}
      />
    </section>
  `;
}

export function PresencePanel({ roomState }) {
  const { presence, refreshPresence } = roomState;
  const me = user.value;
  const users = presence.users
    ? [...presence.users.values()].sort(
        (a, b) =>
          Number(Boolean(b.staff)) - Number(Boolean(a.staff)) ||
          (a.name || "").localeCompare(b.name || ""),
      )
    : null;
  // Visitors who are not signed in are counted but not named.
  const anonymous = users && !presence.truncated ? Math.max(0, presence.count - users.length) : 0;
  return html`
    <section class="panel presence" aria-labelledby="presence-title">
      <div class="panel-head">
        <h2 id="presence-title">${t("presence.title")}</h2>
        <span class="count-pill" title=${t("presence.count_label")}>
          <span class="live-dot" aria-hidden="true"></span>
          <span class="visually-hidden">${t("presence.count_label")}: </span>
          <span data-testid="presence-count" data-count=${presence.count}>${presence.count}</span>
        </span>
      </div>
      ${users &&
      html`<ul class="presence-list" data-testid="presence-list">
        ${users.map(
          (u) => html`<li
            key=${u.id}
            class="presence-item ${u.staff ? "is-staff" : ""}"
            data-testid="presence-item"
            data-user-id=${u.id}
            data-staff=${u.staff ? "true" : "false"}
          >
            <span class="presence-dot" aria-hidden="true"></span>
            <span class="presence-name">${u.name}</span>
            ${me && me.id === u.id && html`<span class="msg-you">(${t("chat.you")})</span>`}
            ${u.staff && html`<${StaffBadge} label=${t("presence.staff")} />`}
          </li>`,
        )}
      </ul>`}
      ${users && users.length === 0 && anonymous === 0 &&
      html`<p class="muted small">${t("presence.empty")}</p>`}
      ${anonymous > 0 &&
      html`<p class="muted small" data-testid="presence-anonymous">
        ${plural("presence.anonymous", anonymous)}
      </p>`}
      ${!users &&
      presence.count > 0 &&
      html`<p class="muted small">${t("presence.more")}</p>
        <button type="button" class="button button-small button-quiet" onClick=${refreshPresence}>
          ${t("presence.show")}
        </button>`}
    </section>
  `;
}
