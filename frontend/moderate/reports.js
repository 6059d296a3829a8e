// The moderator console's reports queue: open reports, live, with delete and dismiss.

import { useEffect } from "preact/hooks";
import { html, ErrorBox, Loading, Panel, CountBadge } from "../components.js";
import { t, formatTime } from "../i18n.js";
import { ws } from "../store.js";
import { parseReason, QuotedMessage, RoomName, useQueue } from "./common.js";

export function ReportsPanel({ role, roomsById, act }) {
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
    <${Panel}
      id="mod-reports-title"
      title=${t("mod.reports.title")}
      extra=${html`<${CountBadge} count=${count} testid="mod-reports-count" />`}
      data-testid="mod-reports"
    >
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
    <//>
  `;
}
