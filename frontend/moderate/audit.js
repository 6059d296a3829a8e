// The moderator console's audit log: filters by action, actor and target, older pages, live
// entries, and lifting bans and mutes from their entries.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { html, ErrorBox, Loading, Panel } from "../components.js";
import { t, formatDateTime } from "../i18n.js";
import { ws } from "../store.js";
import { AUDIT_ACTIONS, AUDIT_PAGE, RoomName, duration, hallName, seconds } from "./common.js";

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

export function AuditPanel({ role, roomsById, halls, act }) {
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
    <${Panel} id="mod-audit-title" class="mod-audit" title=${t("mod.audit.title")} data-testid="mod-audit">
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
    <//>
  `;
}
