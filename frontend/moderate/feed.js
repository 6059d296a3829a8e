// The moderator console's live feed: chat across the rooms one moderates (booth staff: their
// booth's chat), newest first, paused under the pointer, with one-click delete, mute, kick, ban.

import { useEffect, useRef, useState } from "preact/hooks";
import { html, Panel } from "../components.js";
import { t, formatTime, plural } from "../i18n.js";
import { ws } from "../store.js";
import { clockOf, Icon } from "../moderation.js";
import {
  MUTE_MINUTES,
  REASON_MAX,
  STAFF_FEED_SEED,
  addToFeed,
  feedKey,
  markDeleted,
  RoomName,
} from "./common.js";

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

export function LiveFeed({ role, staffRooms, modJoined, roomsById, me, act, onBan }) {
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
    <${Panel}
      id="mod-feed-title"
      class="mod-feed"
      title=${html`<span class="live-dot" aria-hidden="true"></span> ${t("mod.feed.title")}`}
      extra=${pending.length > 0 &&
      html`<button type="button" class="button button-small button-quiet" onClick=${flush} data-testid="feed-paused">
        <${Icon} name="pause" size=${13} /> ${plural("mod.feed.paused", pending.length)}
      </button>`}
      data-testid="mod-feed"
      data-live=${String(role.kind === "staff" ? staffJoined : modJoined)}
    >
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
    <//>
  `;
}
