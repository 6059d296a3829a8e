// The moderator console (/moderate): the rooms one keeps with live counts and controls, the
// reports queue, messages held by the word filter, a live feed of chat across rooms with
// one-click actions, announcements and the audit log (docs/protocol.md, "Moderation and
// protection").
//
// Moderators join their moderators' room(s) (GET /api/expo lists them as moderation_rooms) and
// get mod.feed / mod.report / mod.held / mod.action live. Booth staff may not join those: they
// get the subset for their booth; their feed is their booth rooms' chat and the queues are
// polled.

import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { html, ErrorBox, Loading } from "./components.js";
import { t, localName, formatTime, formatDateTime, errorText, lang } from "./i18n.js";
import { api } from "./api.js";
import { ws, user, expo, mayModerate } from "./store.js";
import { loginHref } from "./router.js";
import { setKeptRooms, clockOf, Icon } from "./moderation.js";
import { REPORT_REASONS } from "./chat.js";

const POLL_MS = 5000;
const FEED_MAX = 300;
const STAFF_FEED_SEED = 20; // messages of each booth room's history shown when staff arrive
const MAX_STAFF_ROOMS = 10;
const MUTE_MINUTES = 10;
const SLOW_MODE_CHOICES = [0, 5, 10, 30, 60, 120, 300];
const BAN_CHOICES = [60, 1440, 10080, 43200, null]; // minutes; null: permanent
const ANNOUNCE_MAX = 1000;
const REASON_MAX = 500;
const AUDIT_PAGE = 50;
const AUDIT_ACTIONS = [
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
function roleOf(info) {
  const rooms = info?.moderation_rooms || [];
  const expoWide = rooms.filter((r) => r.hall === null);
  if (expoWide.length) {
    // The expo-wide room hears about every room: joining the halls' ones too would repeat it all.
    return { kind: "expo", modRooms: expoWide.map((r) => r.id), hall: null };
  }
  if (rooms.length) return { kind: "hall", modRooms: rooms.map((r) => r.id), hall: rooms[0].hall };
  return { kind: "staff", modRooms: [], hall: null };
}

function feedKey(m) {
  return `${m.room}:${m.seq}`;
}

/** Newest first, without duplicates, at most FEED_MAX. */
function addToFeed(list, incoming) {
  const known = new Set(list.map(feedKey));
  const fresh = incoming.filter((m) => !known.has(feedKey(m)));
  if (!fresh.length) return list;
  fresh.sort((a, b) => (b.ts ?? 0) - (a.ts ?? 0));
  return [...fresh, ...list].slice(0, FEED_MAX);
}

function markDeleted(list, room, seq) {
  if (!list.some((m) => m.room === room && m.seq === seq && !m.deleted)) return list;
  return list.map((m) => (m.room === room && m.seq === seq ? { ...m, deleted: true } : m));
}

/** A report's reason: "[spam] details" as {category, details}. */
export function parseReason(reason) {
  const m = /^\[([a-z]+)\]\s*([\s\S]*)$/.exec(reason || "");
  if (m && REPORT_REASONS.includes(m[1])) return { category: m[1], details: m[2] };
  return { category: null, details: reason || "" };
}

function roomHref(room) {
  if (!room) return null;
  if (room.kind === "lobby" && room.hall) return `/hall/${room.hall}`;
  if (room.booth) return `/booth/${room.booth}`;
  return null;
}

function hallName(halls, id) {
  const hall = halls.find((h) => h.id === id);
  return hall ? localName(hall) : id ? `#${id}` : "";
}

function duration(minutes) {
  if (minutes === null || minutes === undefined) return t("mod.duration.permanent");
  if (minutes % 1440 === 0) return t("mod.duration.days", { n: minutes / 1440 });
  if (minutes % 60 === 0) return t("mod.duration.hours", { n: minutes / 60 });
  return t("mod.duration.minutes", { n: minutes });
}

function seconds(n) {
  if (!n) return t("mod.slow.off");
  return n % 60 === 0 ? t("mod.duration.minutes", { n: n / 60 }) : t("mod.slow.seconds", { n });
}

function RoomName({ id, roomsById }) {
  const room = roomsById.get(id);
  if (!room) return html`<span class="muted">${id ? `#${id}` : "—"}</span>`;
  const href = roomHref(room);
  return href
    ? html`<a href=${href} class="mod-room-name">${room.title}</a>`
    : html`<span class="mod-room-name">${room.title}</span>`;
}

/** One short-lived message at the bottom of the screen ("Muted Ada until 14:05"). */
function useToast() {
  const [toast, setToast] = useState(null);
  const timer = useRef(null);
  const show = useCallback((text, kind = "ok") => {
    clearTimeout(timer.current);
    setToast({ text, kind, id: Date.now() });
    timer.current = setTimeout(() => setToast(null), 6000);
  }, []);
  useEffect(() => () => clearTimeout(timer.current), []);
  return [toast, show, () => setToast(null)];
}

function Toast({ toast, onClose }) {
  return html`
    <div class="mod-toast-region" role="status" aria-live="polite" data-testid="mod-toast-region">
      ${toast &&
      html`<div class="mod-toast mod-toast-${toast.kind}" key=${toast.id} data-testid="mod-toast">
        <span>${toast.text}</span>
        <button type="button" class="button button-small button-quiet" onClick=${onClose} aria-label=${t("error.dismiss")}>
          ×
        </button>
      </div>`}
    </div>
  `;
}

// --- rooms ---------------------------------------------------------------------------------------

function RoomsPanel({ rooms, error, updatedAt, halls, role, act, patchRoom, onAnnounce }) {
  const [hall, setHall] = useState("");
  const [query, setQuery] = useState("");
  const [activeOnly, setActiveOnly] = useState(false);
  const [sort, setSort] = useState({ key: "count", dir: -1 });
  const canLock = role.kind !== "staff";

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    const list = (rooms || []).filter(
      (r) =>
        (hall === "" || String(r.hall ?? "") === hall) &&
        (!q || r.title.toLowerCase().includes(q)) &&
        (!activeOnly || r.count > 0 || r.messages_5min > 0),
    );
    const value = (r) =>
      sort.key === "title" ? r.title.toLowerCase() : sort.key === "messages" ? r.messages_5min : r.count;
    return list.sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (va < vb) return -sort.dir;
      if (va > vb) return sort.dir;
      return a.id - b.id;
    });
  }, [rooms, hall, query, activeOnly, sort]);

  const hallIds = useMemo(
    () => [...new Set((rooms || []).map((r) => r.hall).filter((h) => h !== null))].sort((a, b) => a - b),
    [rooms],
  );

  // A plain function, not a component: a component made anew on each render would remount its
  // button (and lose the focus) whenever the table is sorted.
  function sortHeader(name, label, numeric = false) {
    const active = sort.key === name;
    const ariaSort = active ? (sort.dir < 0 ? "descending" : "ascending") : "none";
    return html`<th scope="col" aria-sort=${ariaSort} class=${numeric ? "num" : ""}>
      <button
        type="button"
        class="sort-button"
        onClick=${() =>
          setSort(active ? { key: name, dir: -sort.dir } : { key: name, dir: name === "title" ? 1 : -1 })}
        data-testid=${`rooms-sort-${name}`}
      >
        ${label}<span aria-hidden="true" class="sort-mark">${active ? (sort.dir < 0 ? " ▼" : " ▲") : ""}</span>
      </button>
    </th>`;
  }

  async function slowMode(room, value) {
    const secs = Number(value);
    const done = await act("mod.slow_mode", { room: room.id, seconds: secs },
      secs ? t("mod.done.slow_on", { room: room.title, n: secs }) : t("mod.done.slow_off", { room: room.title }));
    if (done) patchRoom(room.id, { slow_mode: secs });
  }

  async function lock(room) {
    const next = !room.read_only;
    const done = await act("mod.lock", { room: room.id, read_only: next },
      t(next ? "mod.done.locked" : "mod.done.unlocked", { room: room.title }));
    if (done) patchRoom(room.id, { read_only: next });
  }

  return html`
    <section class="panel mod-panel mod-rooms" aria-labelledby="mod-rooms-title" data-testid="mod-rooms">
      <div class="panel-head">
        <h2 id="mod-rooms-title">${t("mod.rooms.title")}</h2>
        <span class="muted small">
          ${updatedAt ? t("mod.rooms.updated", { time: formatTime(updatedAt / 1000) }) : ""}
        </span>
      </div>
      <div class="mod-filters">
        ${hallIds.length > 1 &&
        html`<label class="field">
          <span class="field-label">${t("mod.rooms.hall")}</span>
          <select value=${hall} onChange=${(e) => setHall(e.currentTarget.value)} data-testid="rooms-hall">
            <option value="">${t("lobby.all_halls")}</option>
            ${hallIds.map((id) => html`<option value=${String(id)}>${hallName(halls, id)}</option>`)}
          </select>
        </label>`}
        <label class="field field-grow">
          <span class="field-label">${t("mod.rooms.search")}</span>
          <input
            type="search"
            value=${query}
            onInput=${(e) => setQuery(e.currentTarget.value)}
            data-testid="rooms-search"
          />
        </label>
        <label class="check">
          <input type="checkbox" checked=${activeOnly} onChange=${(e) => setActiveOnly(e.currentTarget.checked)} />
          ${t("mod.rooms.active_only")}
        </label>
      </div>
      ${error && html`<${ErrorBox} error=${error} />`}
      ${rooms === null && !error && html`<${Loading} />`}
      ${rooms &&
      html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="mod-rooms-title">
        <table class="mod-table">
          <thead>
            <tr>
              ${sortHeader("title", t("mod.rooms.room"))}
              ${sortHeader("count", t("mod.rooms.people"), true)}
              ${sortHeader("messages", t("mod.rooms.messages"), true)}
              <th scope="col">${t("mod.rooms.slow_mode")}</th>
              ${canLock && html`<th scope="col">${t("mod.rooms.read_only")}</th>`}
              <th scope="col"><span class="visually-hidden">${t("mod.rooms.actions")}</span></th>
            </tr>
          </thead>
          <tbody>
            ${shown.map((r) => {
              const choices = SLOW_MODE_CHOICES.includes(r.slow_mode)
                ? SLOW_MODE_CHOICES
                : [...SLOW_MODE_CHOICES, r.slow_mode].sort((a, b) => a - b);
              return html`<tr key=${r.id} data-testid="room-row" data-room=${r.id} data-count=${r.count}>
                <td>
                  ${roomHref(r)
                    ? html`<a href=${roomHref(r)} class="mod-room-name">${r.title}</a>`
                    : html`<span class="mod-room-name">${r.title}</span>`}
                  <div class="muted small">
                    ${t(`mod.kind.${r.kind}`)}${r.hall ? ` · ${hallName(halls, r.hall)}` : ""}
                  </div>
                </td>
                <td class="num" data-testid="room-count">${r.count}</td>
                <td class="num">${r.messages_5min}</td>
                <td>
                  <label class="visually-hidden" for=${`slow-${r.id}`}>
                    ${t("mod.rooms.slow_mode_of", { room: r.title })}
                  </label>
                  <select
                    id=${`slow-${r.id}`}
                    class="select-small"
                    value=${String(r.slow_mode)}
                    onChange=${(e) => slowMode(r, e.currentTarget.value)}
                    data-testid="room-slow-mode"
                  >
                    ${choices.map((n) => html`<option value=${String(n)}>${seconds(n)}</option>`)}
                  </select>
                </td>
                ${canLock &&
                html`<td>
                  <button
                    type="button"
                    class="button button-small ${r.read_only ? "button-warn" : "button-quiet"}"
                    aria-pressed=${r.read_only ? "true" : "false"}
                    onClick=${() => lock(r)}
                    data-testid="room-lock"
                    title=${t(r.read_only ? "mod.rooms.unlock_hint" : "mod.rooms.lock_hint")}
                  >
                    ${r.read_only
                      ? html`<${Icon} name="lock" size=${13} /> ${t("mod.rooms.locked")}`
                      : t("mod.rooms.lock")}
                  </button>
                </td>`}
                <td>
                  <button
                    type="button"
                    class="button button-small button-quiet"
                    onClick=${() => onAnnounce(r)}
                    data-testid="room-announce"
                  >
                    ${t("mod.rooms.announce")}
                  </button>
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
        ${shown.length === 0 && html`<p class="empty">${t("mod.rooms.none")}</p>`}
      </div>`}
    </section>
  `;
}

// --- reports and held messages -------------------------------------------------------------------

function useQueue(listAction, key, poll) {
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

function QuotedMessage({ message }) {
  if (!message) return null;
  return html`<blockquote class="mod-quote">
    <span class="mod-quote-author">${message.user?.name ?? "?"}:</span>
    ${message.deleted
      ? html`<em class="muted">${t("chat.removed")}</em>`
      : html`<span class="mod-quote-body">${message.body}</span>`}
  </blockquote>`;
}

function ReportsPanel({ role, roomsById, act }) {
  const [reports, setReports, error] = useQueue("mod.reports", "reports", role.kind === "staff");

  useEffect(() => {
    const drop = (test) => setReports((list) => (list ? list.filter((r) => !test(r)) : list));
    const offs = [
      ws.on("mod.report", (report) =>
        setReports((list) => (list?.some((r) => r.id === report.id) ? list : [report, ...(list || [])])),
      ),
      ws.on("mod.action", (entry) => {
        if (entry.action === "mod.resolve") drop((r) => r.id === entry.details?.report);
        if (entry.action === "chat.delete") {
          drop((r) => r.room === entry.room && r.seq === entry.details?.seq);
        }
      }),
      ws.on("chat.deleted", ({ room, seq }) => drop((r) => r.room === room && r.seq === seq)),
    ];
    return () => offs.forEach((off) => off());
  }, []);

  async function resolve(report, del) {
    const done = await act("mod.resolve", { report: report.id, delete: del },
      t(del ? "mod.done.report_deleted" : "mod.done.report_dismissed"));
    if (done) setReports((list) => list.filter((r) => r.id !== report.id));
  }

  const count = reports?.length ?? 0;
  return html`
    <section class="panel mod-panel" aria-labelledby="mod-reports-title" data-testid="mod-reports">
      <div class="panel-head">
        <h2 id="mod-reports-title">${t("mod.reports.title")}</h2>
        <span class="count-badge ${count ? "is-hot" : ""}" data-testid="mod-reports-count">${count}</span>
      </div>
      ${error && html`<${ErrorBox} error=${error} />`}
      ${reports === null && !error && html`<${Loading} />`}
      ${reports?.length === 0 && html`<p class="muted small">${t("mod.reports.none")}</p>`}
      <ul class="mod-queue">
        ${(reports || []).map((r) => {
          const { category, details } = parseReason(r.reason);
          return html`<li key=${r.id} class="mod-queue-item" data-testid="report-item" data-id=${r.id}>
            <div class="mod-meta">
              <${RoomName} id=${r.room} roomsById=${roomsById} />
              <span>·</span>
              <time>${formatTime(r.ts)}</time>
            </div>
            <${QuotedMessage} message=${r.message} />
            <p class="mod-reason">
              ${category && html`<span class="badge badge-warn">${t(`report.reason.${category}`)}</span> `}
              ${details}
              <span class="muted small"> — ${t("mod.reports.by", { name: r.reporter?.name ?? "?" })}</span>
            </p>
            <div class="mod-actions">
              ${!r.message?.deleted &&
              html`<button
                type="button"
                class="button button-small button-danger-soft"
                onClick=${() => resolve(r, true)}
                data-testid="report-delete"
              >
                ${t("mod.reports.delete")}
              </button>`}
              <button
                type="button"
                class="button button-small button-quiet"
                onClick=${() => resolve(r, false)}
                data-testid="report-dismiss"
              >
                ${t("mod.reports.dismiss")}
              </button>
            </div>
          </li>`;
        })}
      </ul>
    </section>
  `;
}

function HeldPanel({ role, roomsById, act }) {
  const [held, setHeld, error] = useQueue("mod.held", "held", role.kind === "staff");

  useEffect(() => {
    const offs = [
      ws.on("mod.held", (item) =>
        setHeld((list) => (list?.some((h) => h.id === item.id) ? list : [...(list || []), item])),
      ),
      ws.on("mod.action", (entry) => {
        // Another moderator released it (the entry names the room, the author and the text).
        if (entry.action !== "mod.release") return;
        setHeld((list) => {
          if (!list) return list;
          const i = list.findIndex(
            (h) => h.room === entry.room && h.user?.id === entry.target?.id && h.body === entry.details?.body,
          );
          return i < 0 ? list : [...list.slice(0, i), ...list.slice(i + 1)];
        });
      }),
    ];
    return () => offs.forEach((off) => off());
  }, []);

  async function release(item, approve) {
    const done = await act("mod.release", { held: item.id, approve },
      t(approve ? "mod.done.approved" : "mod.done.dropped"));
    if (done) setHeld((list) => list.filter((h) => h.id !== item.id));
  }

  const count = held?.length ?? 0;
  return html`
    <section class="panel mod-panel" aria-labelledby="mod-held-title" data-testid="mod-held">
      <div class="panel-head">
        <h2 id="mod-held-title">${t("mod.held.title")}</h2>
        <span class="count-badge ${count ? "is-hot" : ""}">${count}</span>
      </div>
      ${error && html`<${ErrorBox} error=${error} />`}
      ${held === null && !error && html`<${Loading} />`}
      ${held?.length === 0 && html`<p class="muted small">${t("mod.held.none")}</p>`}
      <ul class="mod-queue">
        ${(held || []).map(
          (h) => html`<li key=${h.id} class="mod-queue-item" data-testid="held-item" data-id=${h.id}>
            <div class="mod-meta">
              <${RoomName} id=${h.room} roomsById=${roomsById} />
              <span>·</span>
              <time>${formatTime(h.ts)}</time>
            </div>
            <blockquote class="mod-quote">
              <span class="mod-quote-author">${h.user?.name ?? "?"}:</span>
              <span class="mod-quote-body">${h.body}</span>
            </blockquote>
            <p class="mod-reason muted small">${t("mod.held.word", { word: h.word })}</p>
            <div class="mod-actions">
              <button type="button" class="button button-small" onClick=${() => release(h, true)} data-testid="held-approve">
                ${t("mod.held.approve")}
              </button>
              <button
                type="button"
                class="button button-small button-quiet"
                onClick=${() => release(h, false)}
                data-testid="held-drop"
              >
                ${t("mod.held.drop")}
              </button>
            </div>
          </li>`,
        )}
      </ul>
    </section>
  `;
}

// --- the live feed -------------------------------------------------------------------------------

function FeedItem({ msg, roomsById, role, me, act, onBan }) {
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const author = msg.user || {};
  const own = me && author.id === me.id;
  const reasonOf = () => document.getElementById("feed-reason")?.value.trim().slice(0, REASON_MAX) || "";

  async function run(action, data, okText, after) {
    setBusy(true);
    const reply = await act(action, data, okText);
    setBusy(false);
    if (reply && after) after(reply);
  }

  const name = author.name ?? "?";
  return html`
    <li
      class="feed-item ${msg.deleted ? "is-deleted" : ""}"
      data-testid="feed-item"
      data-room=${msg.room}
      data-seq=${msg.seq}
      data-user=${author.id}
    >
      <div class="mod-meta">
        <time>${formatTime(msg.ts)}</time>
        <${RoomName} id=${msg.room} roomsById=${roomsById} />
      </div>
      <p class="feed-line">
        <span class="feed-author">${name}</span>
        ${author.staff && html` <span class="badge badge-staff">${t("chat.staff")}</span>`}
        ${msg.deleted
          ? html` <em class="muted" data-testid="feed-deleted">${t("chat.removed")}</em>`
          : html` <span class="feed-body" data-testid="feed-body">${msg.body}</span>`}
      </p>
      ${!msg.deleted &&
      html`<div class="mod-actions feed-actions">
        <button
          type="button"
          class="button button-small button-danger-soft"
          disabled=${busy}
          onClick=${() => run("chat.delete", { room: msg.room, seq: msg.seq, reason: reasonOf() }, t("mod.done.deleted"))}
          data-testid="feed-delete"
        >
          ${t("mod.feed.delete")}
        </button>
        ${!own &&
        html`<button
            type="button"
            class="button button-small button-quiet"
            disabled=${busy}
            onClick=${() =>
              run(
                "mod.mute",
                { user: author.id, room: msg.room, minutes: MUTE_MINUTES, reason: reasonOf() },
                null,
                (reply) => {
                  const text = t("mod.done.muted", { name, time: reply.until ? clockOf(reply.until) : "—" });
                  setNote(text);
                  act.toast(text);
                },
              )}
            data-testid="feed-mute"
          >
            ${t("mod.feed.mute", { n: MUTE_MINUTES })}
          </button>
          <button
            type="button"
            class="button button-small button-quiet"
            disabled=${busy}
            onClick=${() =>
              run(
                "mod.kick",
                { user: author.id, room: msg.room, reason: reasonOf() },
                t("mod.done.kicked", { name }),
                () => setNote(t("mod.done.kicked", { name })),
              )}
            data-testid="feed-kick"
          >
            ${t("mod.feed.kick")}
          </button>
          ${role.kind === "expo" &&
          html`<button
            type="button"
            class="button button-small button-danger-soft"
            disabled=${busy}
            onClick=${() => onBan({ user: author.id, name, room: msg.room }, setNote)}
            data-testid="feed-ban"
          >
            ${t("mod.feed.ban")}
          </button>`}`}
      </div>`}
      ${note && html`<p class="feed-note" data-testid="feed-note">${note}</p>`}
    </li>
  `;
}

function LiveFeed({ role, staffRooms, modJoined, roomsById, me, act, onBan }) {
  const [items, setItems] = useState([]);
  const [staffJoined, setStaffJoined] = useState(false);
  const [pending, setPending] = useState([]);
  const [hovered, setHovered] = useState(false);
  const [filter, setFilter] = useState("");
  const paused = useRef(false);
  paused.current = hovered;
  const staffKey = staffRooms.join(",");

  useEffect(() => {
    const add = (msg) => {
      if (paused.current) setPending((list) => addToFeed(list, [msg]));
      else setItems((list) => addToFeed(list, [msg]));
    };
    const deleted = (room, seq) => {
      setItems((list) => markDeleted(list, room, seq));
      setPending((list) => markDeleted(list, room, seq));
    };
    const offs = [
      ws.on("chat.deleted", ({ room, seq }) => deleted(room, seq)),
      ws.on("mod.action", (e) => {
        if (e.action === "chat.delete" && e.details?.seq) deleted(e.room, e.details.seq);
      }),
    ];
    if (role.kind === "staff") {
      const mine = new Set(staffRooms);
      offs.push(ws.on("chat.message", (m) => mine.has(m.room) && add(m)));
    } else {
      offs.push(ws.on("mod.feed", add));
    }
    return () => offs.forEach((off) => off());
  }, [role.kind, staffKey]);

  // Booth staff: the feed is their booth rooms' chat, starting with its latest messages.
  useEffect(() => {
    if (role.kind !== "staff" || !staffRooms.length) return undefined;
    let active = true;
    setStaffJoined(false);
    const joins = staffRooms.map((id) =>
      ws.joinRoom(id).then(
        (reply) => active && setItems((list) => addToFeed(list, (reply.history || []).slice(-STAFF_FEED_SEED))),
        (err) => console.warn(`hallserver: could not join room ${id}`, err),
      ),
    );
    Promise.all(joins).then(() => active && setStaffJoined(true));
    return () => {
      active = false;
      for (const id of staffRooms) ws.leaveRoom(id);
    };
  }, [role.kind, staffKey]);

  const flush = () => {
    setItems((list) => addToFeed(list, pending));
    setPending([]);
  };
  useEffect(() => {
    if (!hovered && pending.length) flush();
  }, [hovered, pending.length]);

  const q = filter.trim().toLowerCase();
  const shown = q
    ? items.filter(
        (m) =>
          (m.body || "").toLowerCase().includes(q) ||
          (m.user?.name || "").toLowerCase().includes(q) ||
          (roomsById.get(m.room)?.title || "").toLowerCase().includes(q),
      )
    : items;

  return html`
    <section
      class="panel mod-panel mod-feed"
      aria-labelledby="mod-feed-title"
      data-testid="mod-feed"
      data-live=${String(role.kind === "staff" ? staffJoined : modJoined)}
    >
      <div class="panel-head">
        <h2 id="mod-feed-title">
          <span class="live-dot" aria-hidden="true"></span> ${t("mod.feed.title")}
        </h2>
        ${pending.length > 0 &&
        html`<button type="button" class="button button-small button-quiet" onClick=${flush} data-testid="feed-paused">
          <${Icon} name="pause" size=${13} /> ${t("mod.feed.paused", { n: pending.length })}
        </button>`}
      </div>
      <div class="mod-filters">
        <label class="field field-grow">
          <span class="field-label">${t("mod.feed.filter")}</span>
          <input type="search" value=${filter} onInput=${(e) => setFilter(e.currentTarget.value)} data-testid="feed-filter" />
        </label>
        <label class="field field-grow">
          <span class="field-label">${t("mod.feed.reason")}</span>
          <input
            id="feed-reason"
            type="text"
            maxlength=${REASON_MAX}
            placeholder=${t("mod.feed.reason_placeholder")}
            data-testid="feed-reason"
          />
        </label>
      </div>
      <p class="muted small">${role.kind === "staff" ? t("mod.feed.hint_staff") : t("mod.feed.hint")}</p>
      <ol
        class="feed-list"
        onMouseEnter=${() => setHovered(true)}
        onMouseLeave=${() => setHovered(false)}
        aria-label=${t("mod.feed.title")}
        data-testid="feed-list"
      >
        ${shown.map(
          (m) => html`<${FeedItem}
            key=${feedKey(m)}
            msg=${m}
            roomsById=${roomsById}
            role=${role}
            me=${me}
            act=${act}
            onBan=${onBan}
          />`,
        )}
      </ol>
      ${items.length === 0 && html`<p class="empty">${t("mod.feed.empty")}</p>`}
    </section>
  `;
}

// --- ban -----------------------------------------------------------------------------------------

function BanDialog({ target, act, onClose }) {
  const dialog = useRef(null);
  const [reason, setReason] = useState("");
  const [minutes, setMinutes] = useState("1440");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
    return () => el?.open && el.close();
  }, []);

  async function submit(e) {
    e.preventDefault();
    if (!reason.trim()) return;
    setBusy(true);
    const mins = minutes === "" ? null : Number(minutes);
    const reply = await act("mod.ban", { user: target.user, reason: reason.trim(), minutes: mins },
      t("mod.done.banned", { name: target.name }));
    setBusy(false);
    if (reply) onClose(t("mod.done.banned", { name: target.name }));
  }

  return html`
    <dialog
      ref=${dialog}
      class="mod-dialog"
      aria-labelledby="ban-title"
      onCancel=${(e) => {
        e.preventDefault();
        onClose(null);
      }}
      data-testid="ban-dialog"
    >
      <form onSubmit=${submit}>
        <h2 id="ban-title">${t("mod.ban.title", { name: target.name })}</h2>
        <p>${t("mod.ban.explain", { name: target.name })}</p>
        <label class="field">
          <span class="field-label">${t("mod.ban.reason")}</span>
          <textarea
            required
            rows="3"
            maxlength=${REASON_MAX}
            value=${reason}
            onInput=${(e) => setReason(e.currentTarget.value)}
            data-testid="ban-reason"
          ></textarea>
          <span class="muted small">${t("mod.ban.reason_hint")}</span>
        </label>
        <label class="field">
          <span class="field-label">${t("mod.ban.duration")}</span>
          <select value=${minutes} onChange=${(e) => setMinutes(e.currentTarget.value)} data-testid="ban-duration">
            ${BAN_CHOICES.map(
              (m) => html`<option value=${m === null ? "" : String(m)}>${duration(m)}</option>`,
            )}
          </select>
        </label>
        <div class="dialog-buttons">
          <button type="button" class="button button-quiet" onClick=${() => onClose(null)} data-testid="ban-cancel">
            ${t("report.cancel")}
          </button>
          <button
            type="submit"
            class="button button-danger-solid"
            disabled=${busy || !reason.trim()}
            data-testid="ban-confirm"
          >
            ${t("mod.ban.confirm", { name: target.name })}
          </button>
        </div>
      </form>
    </dialog>
  `;
}

// --- announcements -------------------------------------------------------------------------------

function AnnouncePanel({ role, rooms, halls, prefill, act }) {
  const scopes = role.kind === "expo" ? ["room", "hall", "expo"] : role.kind === "hall" ? ["room", "hall"] : ["room"];
  const [scope, setScope] = useState(scopes[0]);
  const [roomTarget, setRoomTarget] = useState("");
  const [hallTarget, setHallTarget] = useState(role.hall ? String(role.hall) : "");
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const textArea = useRef(null);
  const section = useRef(null);

  useEffect(() => {
    if (!prefill) return;
    setScope("room");
    setRoomTarget(String(prefill.room));
    section.current?.scrollIntoView({ block: "nearest", behavior: "smooth" });
    textArea.current?.focus({ preventScroll: true });
  }, [prefill]);

  const hallChoices = role.kind === "hall" ? halls.filter((h) => h.id === role.hall) : halls;
  const roomChoices = [...(rooms || [])].sort((a, b) => a.title.localeCompare(b.title));
  const target = scope === "room" ? roomTarget : scope === "hall" ? hallTarget : "";
  const ready = text.trim() && (scope === "expo" || target);

  async function submit(e) {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    const reply = await act("mod.announce", {
      scope,
      target: scope === "expo" ? null : Number(target),
      text: text.trim(),
    }, t("mod.done.announced"));
    setBusy(false);
    if (reply) setText("");
  }

  return html`
    <section class="panel mod-panel" aria-labelledby="mod-announce-title" data-testid="mod-announce" ref=${section}>
      <div class="panel-head"><h2 id="mod-announce-title">${t("mod.announce.title")}</h2></div>
      <form class="mod-form" onSubmit=${submit}>
        <fieldset class="segmented">
          <legend class="field-label">${t("mod.announce.scope")}</legend>
          ${scopes.map(
            (s) => html`<label class=${scope === s ? "is-selected" : ""}>
              <input
                type="radio"
                name="announce-scope"
                value=${s}
                checked=${scope === s}
                onChange=${() => setScope(s)}
                data-testid=${`announce-scope-${s}`}
              />
              ${t(`mod.announce.scope.${s}`)}
            </label>`,
          )}
        </fieldset>
        ${scope === "room" &&
        html`<label class="field">
          <span class="field-label">${t("mod.announce.room")}</span>
          <select value=${roomTarget} onChange=${(e) => setRoomTarget(e.currentTarget.value)} data-testid="announce-room">
            <option value="">${t("mod.announce.choose")}</option>
            ${roomChoices.map((r) => html`<option value=${String(r.id)}>${r.title} (${t(`mod.kind.${r.kind}`)})</option>`)}
          </select>
        </label>`}
        ${scope === "hall" &&
        html`<label class="field">
          <span class="field-label">${t("mod.announce.hall")}</span>
          <select value=${hallTarget} onChange=${(e) => setHallTarget(e.currentTarget.value)} data-testid="announce-hall">
            <option value="">${t("mod.announce.choose")}</option>
            ${hallChoices.map((h) => html`<option value=${String(h.id)}>${localName(h)}</option>`)}
          </select>
        </label>`}
        ${scope === "expo" && html`<p class="muted small">${t("mod.announce.expo_hint")}</p>`}
        <label class="field">
          <span class="field-label">${t("mod.announce.text")}</span>
          <textarea
            ref=${textArea}
            rows="3"
            maxlength=${ANNOUNCE_MAX}
            value=${text}
            onInput=${(e) => setText(e.currentTarget.value)}
            data-testid="announce-text"
          ></textarea>
          <span class="muted small">${t("chat.counter", { n: [...text.trim()].length, max: ANNOUNCE_MAX })}</span>
        </label>
        <button type="submit" class="button" disabled=${busy || !ready} data-testid="announce-send">
          ${t("mod.announce.send")}
        </button>
      </form>
    </section>
  `;
}

// --- audit log -----------------------------------------------------------------------------------

function auditDetails(e) {
  const d = e.details || {};
  switch (e.action) {
    case "mod.mute":
    case "mod.ban":
      return duration(d.minutes ?? null);
    case "mod.slow_mode":
      return seconds(d.seconds);
    case "mod.lock":
      return t(d.read_only ? "mod.audit.locked" : "mod.audit.unlocked");
    case "mod.pin":
      return d.seq ? t("mod.audit.pinned", { n: d.seq }) : t("mod.audit.unpinned");
    case "mod.announce":
      return `${t(`mod.announce.scope.${d.scope}`)}: “${d.text ?? ""}”`;
    case "chat.delete":
      return d.body ? `“${d.body}”` : "";
    case "mod.resolve":
      return t(d.deleted ? "mod.audit.report_deleted" : "mod.audit.report_dismissed");
    case "mod.release":
      return `${t(d.approve ? "mod.audit.approved" : "mod.audit.dropped")}: “${d.body ?? ""}”`;
    case "qa.moderate":
      return d.status || "";
    default:
      return Object.keys(d).length ? JSON.stringify(d) : "";
  }
}

function actionLabel(action) {
  const key = `mod.action.${action}`;
  const text = t(key);
  return text === key ? action : text;
}

function AuditPanel({ role, roomsById, halls, act }) {
  const [filters, setFilters] = useState({ action: "", actor: "", target: "" });
  const [entries, setEntries] = useState(null);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  const query = (f) => {
    const data = { limit: AUDIT_PAGE };
    if (f.action) data.action = f.action;
    if (Number(f.actor) > 0) data.actor = Number(f.actor);
    if (Number(f.target) > 0) data.target = Number(f.target);
    return data;
  };

  const load = useCallback(async (before) => {
    setBusy(true);
    try {
      const data = query(filtersRef.current);
      if (before) data.before = before;
      const reply = await ws.request("mod.audit", data);
      setEntries((list) => (before ? [...(list || []), ...reply.entries] : reply.entries));
      setHasMore(Boolean(reply.has_more));
      setError(null);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);

  const session = ws.session.value;
  useEffect(() => {
    if (session) load(null);
  }, [filters.action, filters.actor, filters.target, session]);

  useEffect(
    () =>
      ws.on("mod.action", (entry) => {
        const f = filtersRef.current;
        if (f.action && entry.action !== f.action) return;
        if (Number(f.actor) > 0 && entry.actor?.id !== Number(f.actor)) return;
        if (Number(f.target) > 0 && entry.target?.id !== Number(f.target)) return;
        setEntries((list) => (list?.some((x) => x.id === entry.id) ? list : [entry, ...(list || [])]));
      }),
    [],
  );

  const set = (patch) => setFilters((f) => ({ ...f, ...patch }));
  const personFilter = (person, field) =>
    person
      ? html`<button
          type="button"
          class="link-button"
          title=${t("mod.audit.filter_by", { name: person.name })}
          onClick=${() => set({ [field]: String(person.id) })}
        >
          ${person.name}
        </button>`
      : html`<span class="muted">—</span>`;

  return html`
    <section class="panel mod-panel mod-audit" aria-labelledby="mod-audit-title" data-testid="mod-audit">
      <div class="panel-head"><h2 id="mod-audit-title">${t("mod.audit.title")}</h2></div>
      <div class="mod-filters">
        <label class="field">
          <span class="field-label">${t("mod.audit.action")}</span>
          <select value=${filters.action} onChange=${(e) => set({ action: e.currentTarget.value })} data-testid="audit-action">
            <option value="">${t("mod.audit.any")}</option>
            ${AUDIT_ACTIONS.map((a) => html`<option value=${a}>${actionLabel(a)}</option>`)}
          </select>
        </label>
        <label class="field">
          <span class="field-label">${t("mod.audit.actor")}</span>
          <input
            type="number"
            min="1"
            inputmode="numeric"
            value=${filters.actor}
            placeholder=${t("mod.audit.user_id")}
            onChange=${(e) => set({ actor: e.currentTarget.value })}
            data-testid="audit-actor"
          />
        </label>
        <label class="field">
          <span class="field-label">${t("mod.audit.target")}</span>
          <input
            type="number"
            min="1"
            inputmode="numeric"
            value=${filters.target}
            placeholder=${t("mod.audit.user_id")}
            onChange=${(e) => set({ target: e.currentTarget.value })}
            data-testid="audit-target"
          />
        </label>
        ${(filters.action || filters.actor || filters.target) &&
        html`<button
          type="button"
          class="button button-small button-quiet"
          onClick=${() => setFilters({ action: "", actor: "", target: "" })}
        >
          ${t("mod.audit.clear")}
        </button>`}
      </div>
      ${error && html`<${ErrorBox} error=${error} onRetry=${() => load(null)} />`}
      ${entries === null && !error && html`<${Loading} />`}
      ${entries &&
      html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="mod-audit-title">
        <table class="mod-table audit-table">
          <thead>
            <tr>
              <th scope="col">${t("mod.audit.when")}</th>
              <th scope="col">${t("mod.audit.actor")}</th>
              <th scope="col">${t("mod.audit.action")}</th>
              <th scope="col">${t("mod.audit.target")}</th>
              <th scope="col">${t("mod.audit.where")}</th>
              <th scope="col">${t("mod.audit.details")}</th>
              <th scope="col"><span class="visually-hidden">${t("mod.rooms.actions")}</span></th>
            </tr>
          </thead>
          <tbody>
            ${entries.map(
              (e) => html`<tr key=${e.id} data-testid="audit-entry" data-action=${e.action}>
                <td class="nowrap">${formatDateTime(e.ts * 1000)}</td>
                <td>${personFilter(e.actor, "actor")}</td>
                <td><span class="badge">${actionLabel(e.action)}</span></td>
                <td>${personFilter(e.target, "target")}</td>
                <td>
                  ${e.room
                    ? html`<${RoomName} id=${e.room} roomsById=${roomsById} />`
                    : e.hall
                      ? hallName(halls, e.hall)
                      : html`<span class="muted">${t("mod.audit.everywhere")}</span>`}
                </td>
                <td class="audit-details">
                  ${auditDetails(e)}
                  ${e.reason && html`<div class="muted small">${t("sanction.reason", { reason: e.reason })}</div>`}
                </td>
                <td>
                  ${e.action === "mod.ban" &&
                  role.kind === "expo" &&
                  e.target &&
                  html`<button
                    type="button"
                    class="button button-small button-quiet"
                    onClick=${() => act("mod.unban", { user: e.target.id }, t("mod.done.unbanned", { name: e.target.name }))}
                    data-testid="audit-unban"
                  >
                    ${t("mod.audit.unban")}
                  </button>`}
                  ${e.action === "mod.mute" &&
                  e.target &&
                  html`<button
                    type="button"
                    class="button button-small button-quiet"
                    onClick=${() =>
                      act("mod.unmute", { user: e.target.id, room: e.room ?? null }, t("mod.done.unmuted", { name: e.target.name }))}
                    data-testid="audit-unmute"
                  >
                    ${t("mod.audit.unmute")}
                  </button>`}
                </td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${entries.length === 0 && html`<p class="empty">${t("mod.audit.none")}</p>`}
      </div>`}
      ${hasMore &&
      html`<button
        type="button"
        class="button button-small button-quiet"
        disabled=${busy}
        onClick=${() => load(entries[entries.length - 1].id)}
        data-testid="audit-older"
      >
        ${busy ? t("app.loading") : t("mod.audit.older")}
      </button>`}
    </section>
  `;
}

// --- the page ------------------------------------------------------------------------------------

function useExpoInfo() {
  const [state, setState] = useState({ info: null, error: null });
  const [attempt, setAttempt] = useState(0);
  const me = user.value;
  useEffect(() => {
    let active = true;
    api.expo().then(
      (info) => {
        if (!active) return;
        expo.value = info; // fresher than the one loaded before logging in
        setState({ info, error: null });
      },
      (error) => active && setState({ info: null, error }),
    );
    return () => {
      active = false;
    };
  }, [me?.id, attempt]);
  return { ...state, retry: () => setAttempt((n) => n + 1) };
}

function useModRooms() {
  const [rooms, setRooms] = useState(null);
  const [error, setError] = useState(null);
  const [updatedAt, setUpdatedAt] = useState(null);
  // Bumped by every local change: a poll that was asked before it answers with stale facts.
  const generation = useRef(0);
  const load = useCallback(async () => {
    const asked = generation.current;
    try {
      const reply = await ws.request("mod.rooms", {});
      if (asked !== generation.current) return;
      setRooms(reply.rooms || []);
      setKeptRooms(reply.rooms);
      setUpdatedAt(Date.now());
      setError(null);
    } catch (err) {
      setError(err);
    }
  }, []);
  useEffect(() => {
    load();
    const timer = setInterval(() => ws.state.value === "open" && load(), POLL_MS);
    return () => clearInterval(timer);
  }, [load]);
  const patch = useCallback((id, change) => {
    generation.current += 1;
    setRooms((list) => list && list.map((r) => (r.id === id ? { ...r, ...change } : r)));
  }, []);
  // What other moderators change arrives as audit entries.
  useEffect(
    () =>
      ws.on("mod.action", (e) => {
        if (e.action === "mod.lock") patch(e.room, { read_only: Boolean(e.details?.read_only) });
        if (e.action === "mod.slow_mode") patch(e.room, { slow_mode: e.details?.seconds ?? 0 });
      }),
    [patch],
  );
  return { rooms, error, updatedAt, patch };
}

function Console({ info }) {
  const me = user.value;
  const role = useMemo(() => roleOf(info), [info]);
  const halls = info.halls || [];
  const { rooms, error: roomsError, updatedAt, patch } = useModRooms();
  const roomsById = useMemo(() => new Map((rooms || []).map((r) => [r.id, r])), [rooms]);
  const [toast, showToast, hideToast] = useToast();
  const [banTarget, setBanTarget] = useState(null);
  const [prefill, setPrefill] = useState(null);
  const [joinError, setJoinError] = useState(null);
  const [modJoined, setModJoined] = useState(false);

  // Moderators: the moderators' room(s) bring mod.feed, mod.report, mod.held and mod.action.
  const modKey = role.modRooms.join(",");
  useEffect(() => {
    const ids = role.modRooms;
    let active = true;
    setModJoined(false);
    Promise.all(ids.map((id) => ws.joinRoom(id))).then(
      () => active && setModJoined(ids.length > 0),
      (err) => active && setJoinError(err),
    );
    return () => {
      active = false;
      ids.forEach((id) => ws.leaveRoom(id));
    };
  }, [modKey]);

  const staffRooms = useMemo(
    () =>
      role.kind === "staff"
        ? (rooms || []).filter((r) => r.kind === "booth").map((r) => r.id).slice(0, MAX_STAFF_ROOMS)
        : [],
    [role.kind, rooms && rooms.map((r) => r.id).join(",")],
  );

  /** Send a moderation action; toast what happened. The reply, or null after an error. */
  const act = useMemo(() => {
    const fn = async (action, data, okText) => {
      try {
        const reply = await ws.request(action, data);
        if (okText) showToast(okText);
        return reply || {};
      } catch (err) {
        showToast(errorText(err), "error");
        return null;
      }
    };
    fn.toast = showToast;
    return fn;
  }, [showToast]);

  const [banNote, setBanNote] = useState(null);
  const roleText =
    role.kind === "expo"
      ? t("mod.role.expo")
      : role.kind === "hall"
        ? t("mod.role.hall", { hall: hallName(halls, role.hall) })
        : t("mod.role.staff");

  return html`
    <div class="mod-console" data-testid="mod-console" data-role=${role.kind}>
      <div class="mod-header">
        <div>
          <h1>${t("mod.title")}</h1>
          <p class="muted">${roleText}</p>
        </div>
      </div>
      ${joinError && html`<${ErrorBox} error=${joinError} onDismiss=${() => setJoinError(null)} />`}
      <div class="mod-grid">
        <div class="mod-main">
          <${LiveFeed}
            role=${role}
            staffRooms=${staffRooms}
            modJoined=${modJoined}
            roomsById=${roomsById}
            me=${me}
            act=${act}
            onBan=${(target, setNote) => {
              setBanTarget(target);
              setBanNote(() => setNote);
            }}
          />
          <${RoomsPanel}
            rooms=${rooms}
            error=${roomsError}
            updatedAt=${updatedAt}
            halls=${halls}
            role=${role}
            act=${act}
            patchRoom=${patch}
            onAnnounce=${(room) => setPrefill({ room: room.id, at: Date.now() })}
          />
        </div>
        <div class="mod-side">
          <${ReportsPanel} role=${role} roomsById=${roomsById} act=${act} />
          <${HeldPanel} role=${role} roomsById=${roomsById} act=${act} />
          <${AnnouncePanel} role=${role} rooms=${rooms} halls=${halls} prefill=${prefill} act=${act} />
        </div>
      </div>
      ${role.kind !== "staff" && html`<${AuditPanel} role=${role} roomsById=${roomsById} halls=${halls} act=${act} />`}
      ${banTarget &&
      html`<${BanDialog}
        target=${banTarget}
        act=${act}
        onClose=${(done) => {
          if (done && banNote) banNote(done);
          setBanTarget(null);
        }}
      />`}
      <${Toast} toast=${toast} onClose=${hideToast} />
    </div>
  `;
}

export function ModeratePage() {
  const me = user.value;
  const { info, error, retry } = useExpoInfo();

  useEffect(() => {
    document.title = t("mod.title");
  }, [lang.value]);

  if (me === undefined) return html`<${Loading} />`;
  if (!me) {
    return html`<div class="notfound" data-testid="mod-login">
      <h1>${t("mod.title")}</h1>
      <p>${t("mod.login")}</p>
      <p><a class="button" href=${loginHref()}>${t("user.login")}</a></p>
    </div>`;
  }
  if (error) return html`<${ErrorBox} error=${error} onRetry=${retry} />`;
  if (!info) return html`<${Loading} />`;
  if (!mayModerate()) {
    return html`<div class="notfound" data-testid="mod-forbidden">
      <h1>${t("mod.title")}</h1>
      <p>${t("mod.forbidden")}</p>
      <p><a href="/">${t("booth.back")}</a></p>
    </div>`;
  }
  return html`<${Console} key=${me.id} info=${info} />`;
}
