// The moderator console's rooms panel: the rooms one keeps, with live counts, sorting and
// filters, slow mode, read-only lock and a shortcut to announce in a room.

import { useMemo, useState } from "preact/hooks";
import { html, ErrorBox, Loading, Panel } from "../components.js";
import { t, formatTime } from "../i18n.js";
import { Icon } from "../moderation.js";
import { SLOW_MODE_CHOICES, hallName, roomHref, seconds } from "./common.js";

export function RoomsPanel({ rooms, error, updatedAt, halls, role, act, patchRoom, onAnnounce }) {
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
    <//>
  `;
}
