// The chat of a room (message list with upward infinite scroll, composer) and its presence list.
//
// Chat bodies are user input: they are only ever rendered as text children (Preact creates
// text nodes for them), never as HTML.

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html, ErrorBox } from "./components.js";
import { t, formatTime } from "./i18n.js";
import { ws, user } from "./store.js";
import { loginHref } from "./router.js";

const NEAR_BOTTOM_PX = 48;

function codePoints(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

function StaffBadge({ label }) {
  return html`<span class="badge badge-staff" data-testid="staff-badge">${label || t("chat.staff")}</span>`;
}

function Message({ msg, mine }) {
  const author = msg.user?.name ?? "?";
  const staff = Boolean(msg.user?.staff);
  const when = typeof msg.ts === "number" ? new Date(msg.ts * 1000) : null;
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
        ${when &&
        html`<time class="msg-time" datetime=${when.toISOString()} title=${when.toLocaleString()}>
          ${formatTime(msg.ts)}
        </time>`}
      </div>
      <p class="msg-body" data-testid="chat-body">${msg.body}</p>
    </li>
  `;
}

function MessageList({ roomState }) {
  const { messages, hasMore, loadOlder, loadingOlder, olderError, status, lastLive } = roomState;
  const me = user.value;
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
            (m) => html`<${Message} key=${m.seq} msg=${m} mine=${Boolean(me && m.user?.id === me.id)} />`,
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

function Composer({ roomId, room, joined }) {
  const me = user.value;
  const [text, setText] = useState("");
  const [sending, setSending] = useState(false);
  const [error, setError] = useState(null);
  const input = useRef(null);
  const max = ws.maxChatChars;
  const state = ws.state.value;

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
  if (room?.read_only) {
    return html`<p class="composer-note" data-testid="chat-read-only">${t("chat.read_only")}</p>`;
  }

  const length = codePoints(text.trim());
  const over = length - max;
  const offline = state !== "open";
  const canSend = length > 0 && over <= 0 && !sending && !offline && joined;
  const counterId = `chat-counter-${roomId}`;
  const inputId = `chat-input-${roomId}`;

  async function send() {
    if (!canSend) return;
    const body = text;
    setSending(true);
    setError(null);
    try {
      await ws.request("chat.send", { room: roomId, body });
      setText((current) => (current === body ? "" : current));
    } catch (err) {
      setError(err);
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
      class="composer"
      onSubmit=${(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for=${inputId} class="visually-hidden">${t("chat.input_label")}</label>
      <textarea
        id=${inputId}
        ref=${input}
        rows="2"
        value=${text}
        onInput=${(e) => setText(e.currentTarget.value)}
        onKeyDown=${onKeyDown}
        placeholder=${t("chat.placeholder")}
        aria-describedby=${counterId}
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
          ${over > 0 && html` · ${t("chat.too_long_hint", { n: over })}`}
        </span>
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

export function ChatPanel({ roomState, roomId }) {
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
      </div>
      ${roomState.notice &&
      html`<div class="notice" role="status">
        ${t(roomState.notice)}
        <button type="button" class="button button-small button-quiet" onClick=${roomState.dismissNotice}>
          ${t("error.dismiss")}
        </button>
      </div>`}
      ${roomState.status === "error" &&
      html`<${ErrorBox} error=${roomState.error} onRetry=${roomState.retry} />`}
      <${MessageList} roomState=${roomState} />
      <${Composer}
        roomId=${roomId}
        room=${roomState.room}
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
        ${t("presence.anonymous", { n: anonymous })}
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
