// The inbox: leads, applications, meeting requests and reported problems, with a status, a note
// and an unread count shared by the booth's staff; exports of what it shows. Meeting requests
// are answered through project docking's endpoints (the requester is told).

import { useEffect, useState } from "preact/hooks";
import { html, ErrorBox, Loading, Done } from "./ui.js";
import { t, formatDateTime } from "../i18n.js";
import { consoleApi, inboxCounts, refreshCounts } from "./data.js";
import { user } from "../store.js";
import { Answer } from "../docking/pages.js";

export const SOURCES = ["leads", "applications", "meetings", "reports"];

const OPEN = ["requested", "proposed"];

/** A meeting request's state, whom it was asked of and its slot; the answer for whoever's turn
 * it is (a request asked of one staff member in person is theirs). */
function Meeting({ item, change, answered }) {
  const me = user.value?.id;
  const facts = item.meeting || {};
  const mine = !facts.to || facts.to.id === me;
  const turn = item.status === "requested" || (item.status === "proposed" && facts.proposed_by !== me);
  const m = { id: item.ref, state: item.status, starts_at: facts.starts_at };
  return html`<div class="inbox-meeting" data-testid="inbox-meeting" data-state=${item.status}>
    <span class="badge" data-testid="inbox-meeting-state">${t(`dock.state.${item.status}`)}</span>
    ${facts.to && html` <span class="muted small">${t("console.meeting.asked_of", { name: facts.to.name })}</span>`}
    ${facts.starts_at && html` · <time datetime=${facts.starts_at}>${formatDateTime(facts.starts_at)}</time>`}
    ${mine && item.who.id !== me && OPEN.includes(item.status) && turn && html`<${Answer} m=${m} onDone=${answered} />`}
    ${mine && [...OPEN, "accepted"].includes(item.status) && html`<button type="button"
      class="button button-small button-quiet" data-testid="inbox-meeting-cancel"
      onClick=${() => change({ status: "cancelled" }, "console.saved")}>${t("dock.meetings.cancel")}</button>`}
  </div>`;
}

function Item({ booth, source, item, statuses, onChanged }) {
  const [note, setNote] = useState(item.note);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const change = async (body, doneKey) => {
    setError(null);
    try {
      const res = await consoleApi.change(booth.id, source, item.ref, body);
      onChanged(res.item);
      setDone(doneKey ? t(doneKey) : null);
    } catch (err) {
      setError(err);
    }
  };
  return html`<li class="inbox-item ${item.read ? "" : "is-unread"}" data-testid="inbox-item"
      data-ref=${item.ref} data-read=${String(item.read)}>
    <div class="inbox-head">
      <strong>${item.who?.name || "—"}</strong>
      <span class="muted small">${formatDateTime(item.at)}</span>
      ${!item.read && html`<span class="badge badge-new">${t("console.inbox.new")}</span>`}
    </div>
    ${item.title && source !== "leads" && html`<div class="inbox-title">${item.title}</div>`}
    ${item.contact && html`<div class="inbox-contact" data-testid="inbox-contact">${item.contact}</div>`}
    ${item.text && html`<p class="inbox-text">${item.text}</p>`}
    ${source === "meetings" && html`<${Meeting} item=${item} change=${change}
      answered=${() => change({ read: true }, "console.saved")} />`}
    <div class="inbox-actions">
      ${source !== "meetings" && html`<label>
        <span class="visually-hidden">${t("console.inbox.status")}</span>
        <select value=${item.status} data-testid="inbox-status"
          onChange=${(e) => change({ status: e.currentTarget.value }, "console.saved")}>
          ${statuses.map((s) => html`<option value=${s}>${t(`console.status.${s}`)}</option>`)}
        </select>
      </label>`}
      <button type="button" class="button button-small button-quiet" data-testid="inbox-toggle-read"
        onClick=${() => change({ read: !item.read })}>
        ${item.read ? t("console.inbox.mark_unread") : t("console.inbox.mark_read")}
      </button>
    </div>
    <form class="inbox-note" onSubmit=${(e) => { e.preventDefault(); change({ note }, "console.saved"); }}>
      <label>
        <span class="visually-hidden">${t("console.inbox.note")}</span>
        <input type="text" maxlength="2000" value=${note} placeholder=${t("console.inbox.note")}
          onInput=${(e) => setNote(e.currentTarget.value)} />
      </label>
      <button type="submit" class="button button-small">${t("console.save")}</button>
    </form>
    <${ErrorBox} error=${error} />
    <${Done} text=${done} />
  </li>`;
}

export function InboxPanel({ booth }) {
  const [source, setSource] = useState("leads");
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const counts = inboxCounts.value[booth.id];
  const load = () => {
    setError(null);
    consoleApi.inbox(booth.id, source).then(setData, setError);
  };
  useEffect(() => {
    setData(null);
    load();
    refreshCounts(booth.id).catch(() => {});
  }, [booth.id, source]);
  // New items arrive as new counts: reload the list when the counts of this source change.
  const unreadHere = counts?.sources?.[source];
  useEffect(() => {
    if (data && unreadHere !== undefined && unreadHere !== data.unread?.sources?.[source]) load();
  }, [unreadHere]);
  const onChanged = (item) => {
    setData((d) => d && { ...d, items: d.items.map((i) => (i.ref === item.ref ? item : i)) });
    refreshCounts(booth.id).catch(() => {});
  };
  return html`
    <section class="panel console-inbox" aria-labelledby="inbox-title">
      <h2 id="inbox-title">${t("console.tab.inbox")}</h2>
      <div class="console-subtabs" role="tablist">
        ${SOURCES.map((s) => html`<button type="button" role="tab" aria-selected=${s === source}
            class="subtab" data-testid=${`inbox-source-${s}`} onClick=${() => setSource(s)}>
            ${t(`console.source.${s}`)}
            ${counts?.sources?.[s] > 0 && html` <span class="count-badge">${counts.sources[s]}</span>`}
          </button>`)}
      </div>
      <p class="console-exports">
        ${t("console.export")}:
        ${["csv", "xlsx"].map((f) => html` <a href=${consoleApi.exportUrl(booth.id, source, f)}
            download data-testid=${`export-${source}-${f}`}>${f.toUpperCase()}</a>`)}
        · ${t("console.export_visitors")}:
        ${["csv", "xlsx"].map((f) => html` <a href=${consoleApi.exportUrl(booth.id, "visitors", f)}
            download data-testid=${`export-visitors-${f}`}>${f.toUpperCase()}</a>`)}
      </p>
      <${ErrorBox} error=${error} onRetry=${load} />
      ${!data && !error
        ? html`<${Loading} />`
        : data && (data.items.length
          ? html`<ul class="inbox-list" data-testid="inbox-list">
              ${data.items.map((item) => html`<${Item} key=${`${source}${item.ref}`} booth=${booth}
                source=${source} item=${item} statuses=${data.statuses} onChanged=${onChanged} />`)}
            </ul>`
          : html`<p class="muted">${t("console.inbox.empty")}</p>`)}
    </section>
  `;
}
