// Moderation as everyone meets it (docs/protocol.md, "Moderation and protection"):
// announcements, sanctions (mute, kick), a session the server ended (banned, too many tabs),
// and which rooms the signed-in user keeps, i.e. may moderate (booth staff in their booth's
// rooms, hall moderators in their hall, moderators and admins everywhere).
//
// <SessionGate> wraps every page: it replaces the page by a full-page message when the
// server ended the session, and shows announcements and "you were removed" notices above it.

import { signal, effect } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { html } from "./components.js";
import { t, formatClock } from "./i18n.js";
import { ws, user, mayModerate } from "./store.js";

// --- rooms the user keeps ------------------------------------------------------------------------

/** Room ids the signed-in user may moderate (from mod.rooms); empty for everyone else. */
export const keptRooms = signal(new Set());

/** Rooms asked about with `mod.rooms` (kept or not), so each is asked once per session. */
let askedRooms = new Set();

/** Whether the user keeps room `roomId` (may delete its messages, bypass its limits). The
 * first call for a room asks the server (mod.rooms for that room) and answers once it knows. */
export function keepsRoom(roomId) {
  if (keptKey && roomId !== null && roomId !== undefined && !askedRooms.has(roomId)) {
    askedRooms.add(roomId);
    const key = keptKey;
    ws.request("mod.rooms", { rooms: [roomId] }).then(
      (reply) => {
        if (keptKey !== key || !(reply.rooms || []).length) return;
        keptRooms.value = new Set([...keptRooms.value, ...reply.rooms.map((r) => r.id)]);
      },
      (err) => console.warn("hallserver: mod.rooms failed", err),
    );
  }
  return keptRooms.value.has(roomId);
}

/** Remember the rooms of a mod.rooms reply (the console's page of rooms) as kept. */
export function setKeptRooms(rooms) {
  const ids = (rooms || []).map((r) => r.id);
  if (ids.some((id) => !keptRooms.value.has(id))) keptRooms.value = new Set([...keptRooms.value, ...ids]);
}

let keptKey = "";
effect(() => {
  // Anew each session (and when the user or what we know of their role changes).
  const session = ws.session.value;
  const privileged = mayModerate();
  const key = session && privileged ? `${session.server_time}:${user.value?.id}` : "";
  if (key === keptKey) return;
  keptKey = key;
  // Rooms are asked about as pages show them (keepsRoom); a new Set re-renders those pages.
  askedRooms = new Set();
  keptRooms.value = new Set();
});

// --- announcements -------------------------------------------------------------------------------

/** Announcements not dismissed yet, oldest first (at most a few). */
export const announcements = signal([]);
const seenAnnouncements = new Set();
const MAX_ANNOUNCEMENTS = 4;

ws.on("announcement", (a) => {
  // One announcement reaches a client once per room in scope: show it once.
  if (!a || a.id === undefined || seenAnnouncements.has(a.id)) return;
  seenAnnouncements.add(a.id);
  announcements.value = [...announcements.value, a].slice(-MAX_ANNOUNCEMENTS);
});

export function dismissAnnouncement(id) {
  announcements.value = announcements.value.filter((a) => a.id !== id);
}

// --- sanctions -------------------------------------------------------------------------------------

const EXPO = "expo";

/** Active mutes: room id (or "expo") → {until: unix seconds or null, reason}. */
export const mutes = signal(new Map());

export function setMute(room, until, reason) {
  const next = new Map(mutes.value);
  const key = room ?? EXPO;
  const known = next.get(key);
  // An error reply carries no reason: keep the one a sanction event told us.
  next.set(key, { until: until ?? null, reason: reason || known?.reason || "" });
  mutes.value = next;
}

function clearMute(room) {
  const next = new Map(mutes.value);
  next.delete(room ?? EXPO);
  mutes.value = next;
}

/** The mute that keeps the user from chatting in `roomId` now ({until, reason}) or null. */
export function muteIn(roomId, now = Date.now()) {
  for (const key of [roomId, EXPO]) {
    const m = mutes.value.get(key);
    if (m && (m.until === null || m.until * 1000 > now)) return m;
  }
  return null;
}

/** The last kick: {room, reason, title, at} (the chat of that room sets `title` and leaves). */
export const kickNotice = signal(null);

ws.on("sanction", (s) => {
  if (!s) return;
  if (s.kind === "mute") setMute(s.room, s.until, s.reason);
  else if (s.kind === "unmute") clearMute(s.room);
});

// --- time --------------------------------------------------------------------------------------

/** Date.now(), re-rendering the component every second while `active`. */
export function useNow(active) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return active ? now : Date.now();
}

/** "14:05" for a unix time in seconds. */
export function clockOf(unixSeconds) {
  return formatClock(new Date(unixSeconds * 1000));
}

// --- icons ---------------------------------------------------------------------------------------

// Line icons drawn with the text colour (emoji fonts are missing on many systems).
const ICONS = {
  announce: ["M3 10v4a1 1 0 0 0 1 1h2l6 4V5L6 9H4a1 1 0 0 0-1 1z", "M16 9a4 4 0 0 1 0 6",
    "M19 6a8 8 0 0 1 0 12"],
  pin: ["M12 16v6", "M8 3h8l-1.5 6L18 13v1H6v-1l3.5-4z"],
  lock: ["M6 11h12a1 1 0 0 1 1 1v8a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1z",
    "M8 11V7a4 4 0 0 1 8 0v4"],
  clock: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "M12 7v5l3 2"],
  ban: ["M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z", "M5.6 5.6l12.8 12.8"],
  tabs: ["M4 8h12a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1z",
    "M7 8V5a1 1 0 0 1 1-1h12a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1h-4"],
  pause: ["M9 5v14", "M15 5v14"],
};

export function Icon({ name, size = 16 }) {
  return html`<svg
    class="icon"
    aria-hidden="true"
    focusable="false"
    viewBox="0 0 24 24"
    width=${size}
    height=${size}
    fill="none"
    stroke="currentColor"
    stroke-width="2"
    stroke-linecap="round"
    stroke-linejoin="round"
  >
    ${ICONS[name].map((d) => html`<path d=${d} />`)}
  </svg>`;
}

// --- the page frame ------------------------------------------------------------------------------

function Announcements() {
  const list = announcements.value;
  if (!list.length) return null;
  return html`
    <div class="announcements">
      ${list.map(
        (a) => html`<div
          key=${a.id}
          class="announcement"
          role="status"
          data-testid="announcement"
          data-id=${a.id}
        >
          <span class="announcement-icon"><${Icon} name="announce" size=${22} /></span>
          <div class="announcement-body">
            <strong class="announcement-title">${t(`announce.from.${a.scope}`)}</strong>
            <p class="announcement-text">${a.text}</p>
            ${a.by?.name &&
            html`<p class="muted small">
              ${t("announce.by", { name: a.by.name })}${typeof a.ts === "number"
                ? ` · ${clockOf(a.ts)}`
                : ""}
            </p>`}
          </div>
          <button
            type="button"
            class="button button-small button-quiet"
            onClick=${() => dismissAnnouncement(a.id)}
            aria-label=${t("announce.dismiss")}
            data-testid="announcement-dismiss"
          >
            ×
          </button>
        </div>`,
      )}
    </div>
  `;
}

function KickNotice() {
  const kick = kickNotice.value;
  if (!kick) return null;
  return html`
    <div class="notice notice-warn" role="alert" data-testid="kick-notice">
      <span>
        ${t("sanction.kicked", { room: kick.title || t("sanction.this_room") })}
        ${kick.reason && html`<span class="sanction-reason">${t("sanction.reason", { reason: kick.reason })}</span>`}
      </span>
      <button
        type="button"
        class="button button-small button-quiet"
        onClick=${() => {
          kickNotice.value = null;
        }}
      >
        ${t("error.dismiss")}
      </button>
    </div>
  `;
}

function BannedPage({ info }) {
  useEffect(() => {
    document.title = t("banned.title");
  }, []);
  return html`
    <section class="session-ended" role="alert" data-testid="banned">
      <span class="session-ended-icon"><${Icon} name="ban" size=${44} /></span>
      <h1>${t("banned.title")}</h1>
      ${info.message &&
      html`<p class="session-ended-reason">
        <span class="muted">${t("banned.reason")}</span>
        <span data-testid="banned-reason">${info.message}</span>
      </p>`}
      <p>${t("banned.text")}</p>
      <p class="muted small">${t("banned.contact")}</p>
    </section>
  `;
}

function TooManyTabs() {
  useEffect(() => {
    document.title = t("tabs.title");
  }, []);
  return html`
    <section class="session-ended" role="alert" data-testid="too-many-tabs">
      <span class="session-ended-icon"><${Icon} name="tabs" size=${44} /></span>
      <h1>${t("tabs.title")}</h1>
      <p>${t("tabs.text")}</p>
      <button type="button" class="button" onClick=${() => ws.reconnect()} data-testid="tabs-retry">
        ${t("tabs.retry")}
      </button>
    </section>
  `;
}

/** The page, or what replaces it when the server ended the session; notices above it. */
export function SessionGate({ children }) {
  const ended = ws.ended.value;
  if (ended?.code === "banned") return html`<${BannedPage} info=${ended} />`;
  if (ended?.code === "too_many_connections") return html`<${TooManyTabs} />`;
  return html`<${KickNotice} /><${Announcements} />${children}`;
}
