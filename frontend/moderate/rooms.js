// The moderator console's rooms panel: the rooms one keeps, with live counts, sorting and
// filters, slow mode, read-only lock and a shortcut to announce in a room.

import { useEffect, useState } from "preact/hooks";
import { html, ErrorBox, Loading, Panel } from "../components.js";
import { t, formatTime } from "../i18n.js";
import { Icon } from "../moderation.js";
import { SLOW_MODE_CHOICES, hallName, roomHref, seconds } from "./common.js";

/** Rooms per page: the server filters, sorts and pages (mod.rooms), whatever the expo's size. */
export const ROOMS_PAGE = 50;
export const ROOMS_QUERY = { hall: null, q: "", active: false, sort: "count", ascending: false, offset: 0 };
const SEARCH_DEBOUNCE_MS = 300;

export function RoomsPanel({ rooms, total, offset, query, setQuery, error, updatedAt, halls, role, act, patchRoom, onAnnounce }) {
  const [text, setText] = useState(query.q);
  const canLock = role.kind !== "staff";
  const change = (fields) => setQuery((q) => ({ ...q, ...fields, offset: 0 }));
  useEffect(() => {
    const timer = setTimeout(() => text.trim() !== query.q && change({ q: text.trim() }), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const shown = rooms || [];
  const hall = query.hall === null ? "" : String(query.hall);
  const activeOnly = query.active;
  const sort = { key: query.sort, dir: query.ascending ? 1 : -1 };
  const setSort = ({ key, dir }) => change({ sort: key, ascending: dir > 0 });
  // Expo-wide moderators choose among every hall; the others keep one hall or a booth.
  const hallIds = role.kind === "expo" ? halls.map((h) => h.id) : [];
  const from = total ? offset + 1 : 0;
  const to = offset + shown.length;

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
    <${Panel}
      id="mod-rooms-title"
      class="mod-rooms"
      title=${t("mod.rooms.title")}
      extra=${html`<span class="muted small">
        ${updatedAt ? t("mod.rooms.updated", { time: formatTime(updatedAt / 1000) }) : ""}
      </span>`}
      data-testid="mod-rooms"
    >
      <div class="mod-filters">
        ${hallIds.length > 1 &&
        html`<label class="field">
          <span class="field-label">${t("mod.rooms.hall")}</span>
          <select
            value=${hall}
            onChange=${(e) => change({ hall: e.currentTarget.value ? Number(e.currentTarget.value) : null })}
            data-testid="rooms-hall"
          >
            <option value="">${t("lobby.all_halls")}</option>
            ${hallIds.map((id) => html`<option value=${String(id)}>${hallName(halls, id)}</option>`)}
          </select>
        </label>`}
        <label class="field field-grow">
          <span class="field-label">${t("mod.rooms.search")}</span>
          <input
            type="search"
            value=${text}
            onInput=${(e) => setText(e.currentTarget.value)}
            data-testid="rooms-search"
          />
        </label>
        <label class="check">
          <input type="checkbox" checked=${activeOnly} onChange=${(e) => change({ active: e.currentTarget.checked })} />
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
      </div>
      ${total > ROOMS_PAGE &&
      html`<nav class="pager" aria-label=${t("mod.rooms.title")}>
        <button
          type="button"
          class="button button-small button-quiet"
          disabled=${offset === 0}
          onClick=${() => setQuery((q) => ({ ...q, offset: Math.max(0, q.offset - ROOMS_PAGE) }))}
          data-testid="rooms-prev"
        >${t("mod.rooms.prev")}</button>
        <span class="muted small" data-testid="rooms-page">${t("mod.rooms.page", { from, to, total })}</span>
        <button
          type="button"
          class="button button-small button-quiet"
          disabled=${to >= total}
          onClick=${() => setQuery((q) => ({ ...q, offset: q.offset + ROOMS_PAGE }))}
          data-testid="rooms-next"
        >${t("mod.rooms.next")}</button>
      </nav>`}`}
    <//>
  `;
}
