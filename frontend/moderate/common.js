// The moderator console's shared facts and helpers: limits, the user's role, the live feed's
// list operations, room names and links, durations, the polled queues of reports and held
// messages.

import { useCallback, useEffect, useState } from "preact/hooks";
import { html } from "../components.js";
import { t, plural, localName } from "../i18n.js";
import { ws } from "../store.js";
import { REPORT_REASONS } from "../chat.js";

export const POLL_MS = 5000;
export const FEED_MAX = 300;
export const STAFF_FEED_SEED = 20; // messages of each booth room's history shown when staff arrive
export const MAX_STAFF_ROOMS = 10;
export const MUTE_MINUTES = 10;
export const SLOW_MODE_CHOICES = [0, 5, 10, 30, 60, 120, 300];
export const BAN_CHOICES = [60, 1440, 10080, 43200, null]; // minutes; null: permanent
export const ANNOUNCE_MAX = 1000;
export const REASON_MAX = 500;
export const AUDIT_PAGE = 50;
export const AUDIT_ACTIONS = [
  "chat.delete",
  "mod.mute",
  "mod.unmute",
  "mod.kick",
  "mod.ban",
  "mod.unban",
  "mod.slow_mode",
  "mod.lock",
  "mod.pin",
  "mod.announce",
  "mod.resolve",
  "mod.release",
  "roadshow.end",
  "qa.moderate",
];

// --- helpers -------------------------------------------------------------------------------------

/** What the user may do here, from the moderators' rooms /api/expo lists for them. */
export function roleOf(info) {
  const rooms = info?.moderation_rooms || [];
  const expoWide = rooms.filter((r) => r.hall === null);
  if (expoWide.length) {
    // The expo-wide room hears about every room: joining the halls' ones too would repeat it all.
    return { kind: "expo", modRooms: expoWide.map((r) => r.id), hall: null };
  }
  if (rooms.length) return { kind: "hall", modRooms: rooms.map((r) => r.id), hall: rooms[0].hall };
  return { kind: "staff", modRooms: [], hall: null };
}

export function feedKey(m) {
  return `${m.room}:${m.seq}`;
}

/** Newest first, without duplicates, at most FEED_MAX. */
export function addToFeed(list, incoming) {
  const known = new Set(list.map(feedKey));
  const fresh = incoming.filter((m) => !known.has(feedKey(m)));
  if (!fresh.length) return list;
  fresh.sort((a, b) => (b.ts ?? 0) - (a.ts ?? 0));
  return [...fresh, ...list].slice(0, FEED_MAX);
}

export function markDeleted(list, room, seq) {
  if (!list.some((m) => m.room === room && m.seq === seq && !m.deleted)) return list;
  return list.map((m) => (m.room === room && m.seq === seq ? { ...m, deleted: true } : m));
}

/** A report's reason: "[spam] details" as {category, details}. */
export function parseReason(reason) {
  const m = /^\[([a-z]+)\]\s*([\s\S]*)$/.exec(reason || "");
  if (m && REPORT_REASONS.includes(m[1])) return { category: m[1], details: m[2] };
  return { category: null, details: reason || "" };
}

export function roomHref(room) {
  if (!room) return null;
  if (room.kind === "lobby" && room.hall) return `/hall/${room.hall}`;
  if (room.booth) return `/booth/${room.booth}`;
  return null;
}

export function hallName(halls, id) {
  const hall = halls.find((h) => h.id === id);
  return hall ? localName(hall) : id ? `#${id}` : "";
}

export function duration(minutes) {
  if (minutes === null || minutes === undefined) return t("mod.duration.permanent");
  if (minutes % 1440 === 0) return plural("mod.duration.days", minutes / 1440);
  if (minutes % 60 === 0) return t("mod.duration.hours", { n: minutes / 60 });
  return t("mod.duration.minutes", { n: minutes });
}

export function seconds(n) {
  if (!n) return t("mod.slow.off");
  return n % 60 === 0 ? t("mod.duration.minutes", { n: n / 60 }) : t("mod.slow.seconds", { n });
}

export function RoomName({ id, roomsById }) {
  const room = roomsById.get(id);
  if (!room) return html`<span class="muted">${id ? `#${id}` : "—"}</span>`;
  const href = roomHref(room);
  return href
    ? html`<a href=${href} class="mod-room-name">${room.title}</a>`
    : html`<span class="mod-room-name">${room.title}</span>`;
}

export function useQueue(listAction, key, poll) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(async () => {
    try {
      const reply = await ws.request(listAction, listAction === "mod.reports" ? { status: "open" } : {});
      setItems(reply[key] || []);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, [listAction, key]);
  const session = ws.session.value;
  useEffect(() => {
    if (session) load(); // on every (re)connection: what happened meanwhile
  }, [session, load]);
  useEffect(() => {
    if (!poll) return undefined;
    const timer = setInterval(() => ws.state.value === "open" && load(), POLL_MS);
    return () => clearInterval(timer);
  }, [poll, load]);
  return [items, setItems, error];
}

export function QuotedMessage({ message }) {
  if (!message) return null;
  return html`<blockquote class="mod-quote">
    <span class="mod-quote-author">${message.user?.name ?? "?"}:</span>
    ${message.deleted
      ? html`<em class="muted">${t("chat.removed")}</em>`
      : html`<span class="mod-quote-body">${message.body}</span>`}
  </blockquote>`;
}
