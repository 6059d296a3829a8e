// The moderator console's held messages: what the word filter kept back, to approve or drop.

import { useEffect } from "preact/hooks";
import { html, ErrorBox, Loading, Panel, CountBadge } from "../components.js";
import { t, formatTime } from "../i18n.js";
import { ws } from "../store.js";
import { RoomName, useQueue } from "./common.js";

export function HeldPanel({ role, roomsById, act }) {
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
    <${Panel}
      id="mod-held-title"
      title=${t("mod.held.title")}
      extra=${html`<${CountBadge} count=${count} />`}
      data-testid="mod-held"
    >
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
    <//>
  `;
}
