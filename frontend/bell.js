// The notification bell of every signed-in user: the stored notice feed (recruit.notice,
// recruit.sync, recruit.read; docs/protocol.md) as recruit-store.js keeps it, so unread counts
// survive reconnects and tabs. New kinds: lead.new, roadshow.soon and
// project docking's meeting.* (docs/console.md).

import { signal } from "@preact/signals";
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { t, formatDateTime, errorText } from "./i18n.js";
import { request } from "./api.js";
import { user, ws } from "./store.js";
import { unread, recent, markRead } from "./recruit-store.js";

const html = htm.bind(h);

function noticeText(n) {
  const d = n.data || {};
  const key = `bell.${n.kind}`;
  return t(key, {
    name: d.name || d.candidate?.name || "",
    job: d.job?.title || "",
    status: d.status ? t(`console.status.${d.status}`) : "",
    title: d.title || "",
    by: d.by?.name || "",
    project: d.project?.title || "",
    time: d.starts_at ? formatDateTime(d.starts_at) : "",
  });
}

function noticeHref(n) {
  const d = n.data || {};
  if (n.kind === "roadshow.soon") return `/booth/${d.booth}?roadshow=${d.roadshow}`;
  if (n.kind === "lead.new" || n.kind === "application.new") return `/console/${d.booth}`;
  if (n.kind.startsWith("meeting.")) return "/meetings";
  return null;
}

/** The user's notices, newest first (at most 50): recruit-store.js only keeps those that
 * arrived since this browser last looked, so opening the bell reads the stored feed. */
async function history() {
  let after = 0;
  let all = [];
  for (let page = 0; page < 10; page += 1) {
    const reply = await ws.request("recruit.sync", { after });
    all = [...all, ...reply.notices].slice(-50);
    after = reply.last;
    if (!reply.more) break;
  }
  return all.reverse();
}

export function Bell() {
  const [open, setOpen] = useState(false);
  const [stored, setStored] = useState([]);
  useEffect(() => {
    if (open) history().then(setStored, () => {});
  }, [open]);
  if (!user.value) return null;
  const seen = new Set(recent.value.map((n) => n.id));
  const list = [...recent.value, ...stored.filter((n) => !seen.has(n.id))]
    .sort((a, b) => b.id - a.id)
    .slice(0, 50);
  const count = unread.value?.notices ?? 0;
  const readAll = () => markRead().catch(() => {});
  return html`<div class="bell">
    <button type="button" class="button button-small button-quiet bell-button" aria-expanded=${open}
      aria-label=${t("bell.label", { n: count })} data-testid="bell" data-unread=${count}
      onClick=${() => setOpen(!open)}>
      <span aria-hidden="true">🔔</span>${count > 0 && html`<span class="count-badge" data-testid="bell-count">${count}</span>`}
    </button>
    ${open && html`<div class="bell-panel" data-testid="bell-panel">
      ${list.length
        ? html`<ul>${list.map((n) => {
            const href = noticeHref(n);
            const text = noticeText(n);
            return html`<li data-kind=${n.kind}>
              ${href ? html`<a href=${href} onClick=${() => setOpen(false)}>${text}</a>` : text}
              <span class="muted small"> ${formatDateTime(n.at)}</span></li>`;
          })}</ul>`
        : html`<p class="muted">${t("bell.empty")}</p>`}
      ${count > 0 && html`<button type="button" class="button button-small" onClick=${readAll}
        data-testid="bell-read">${t("bell.mark_read")}</button>`}
    </div>`}
  </div>`;
}

/** Roadshow ids the user bookmarked (the bell reminds 10 minutes before they start). */
export const bookmarks = signal(null);

async function loadBookmarks() {
  try {
    const data = await request("GET", "/api/bookmarks");
    bookmarks.value = new Set(data.roadshows);
  } catch {
    bookmarks.value = new Set();
  }
}

/** "Remind me" on a scheduled roadshow, for signed-in users. */
export function RemindButton({ roadshow }) {
  const [error, setError] = useState(null);
  const signedIn = Boolean(user.value);
  useEffect(() => {
    if (signedIn && bookmarks.value === null) loadBookmarks();
  }, [signedIn]);
  if (!signedIn || roadshow.state !== "scheduled") return null;
  const on = Boolean(bookmarks.value?.has(roadshow.id));
  const toggle = async () => {
    setError(null);
    try {
      await request(on ? "DELETE" : "POST", `/api/roadshows/${roadshow.id}/bookmark`);
      const next = new Set(bookmarks.value || []);
      if (on) next.delete(roadshow.id);
      else next.add(roadshow.id);
      bookmarks.value = next;
    } catch (err) {
      setError(err);
    }
  };
  return html`<button type="button" class="button button-small button-quiet" aria-pressed=${on}
    data-testid="remind" onClick=${toggle}>${on ? t("bell.reminding") : t("bell.remind")}</button>
    ${error && html`<span class="inline-error" role="alert">${errorText(error)}</span>`}`;
}
