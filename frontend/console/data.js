// The console's HTTP calls (docs/api.md, "Exhibitor console") and its shared state.

import { signal } from "@preact/signals";
import { request, upload } from "../api.js";
import { ws } from "../store.js";

const b = (id) => `/api/booths/${encodeURIComponent(id)}`;

export const consoleApi = {
  mine: () => request("GET", "/api/console"),
  inbox: (booth, source) => request("GET", `${b(booth)}/inbox?source=${encodeURIComponent(source)}`),
  change: (booth, source, ref, body) =>
    request("POST", `${b(booth)}/inbox/${encodeURIComponent(source)}/${encodeURIComponent(ref)}`, body),
  texts: (booth, lang) => request("GET", `${b(booth)}/texts?lang=${encodeURIComponent(lang)}`),
  saveTexts: (booth, body) => request("PUT", `${b(booth)}/texts`, body),
  logo: (booth, file) => upload(`${b(booth)}/logo`, "file", file),
  staff: (booth) => request("GET", `${b(booth)}/staff`),
  invite: (booth, username, title) => request("POST", `${b(booth)}/staff`, { username, title }),
  remove: (booth, userId) => request("DELETE", `${b(booth)}/staff/${encodeURIComponent(userId)}`),
  analytics: (booth) => request("GET", `${b(booth)}/analytics`),
  expo: () => request("GET", "/api/analytics/expo"),
  exportUrl: (booth, what, format) =>
    `${b(booth)}/exports/${encodeURIComponent(what)}?format=${encodeURIComponent(format)}`,
};

/** Unread inbox counts per booth ({booth, sources, total}), kept live by `console.inbox`. */
export const inboxCounts = signal({});

ws.on("console.inbox", (counts) => {
  inboxCounts.value = { ...inboxCounts.value, [counts.booth]: counts };
});

export async function refreshCounts(booth) {
  const counts = await ws.request("console.inbox", { booth });
  inboxCounts.value = { ...inboxCounts.value, [booth]: counts };
  return counts;
}
