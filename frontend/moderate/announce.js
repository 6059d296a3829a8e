// The moderator console's announcements: to one room, a hall or everyone, by role.

import { useEffect, useRef, useState } from "preact/hooks";
import { html, Panel } from "../components.js";
import { t, localName } from "../i18n.js";
import { ANNOUNCE_MAX } from "./common.js";

export function AnnouncePanel({ role, rooms, halls, prefill, act }) {
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
    <${Panel} id="mod-announce-title" title=${t("mod.announce.title")} data-testid="mod-announce" sectionRef=${section}>
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
    <//>
  `;
}
