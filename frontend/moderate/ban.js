// The moderator console's ban dialog: reason (required) and duration, expo-wide.

import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../components.js";
import { t } from "../i18n.js";
import { BAN_CHOICES, REASON_MAX, duration } from "./common.js";

export function BanDialog({ target, act, onClose }) {
  const dialog = useRef(null);
  const [reason, setReason] = useState("");
  const [minutes, setMinutes] = useState("1440");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
    return () => el?.open && el.close();
  }, []);

  async function submit(e) {
    e.preventDefault();
    if (!reason.trim()) return;
    setBusy(true);
    const mins = minutes === "" ? null : Number(minutes);
    const reply = await act("mod.ban", { user: target.user, reason: reason.trim(), minutes: mins },
      t("mod.done.banned", { name: target.name }));
    setBusy(false);
    if (reply) onClose(t("mod.done.banned", { name: target.name }));
  }

  return html`
    <dialog
      ref=${dialog}
      class="mod-dialog"
      aria-labelledby="ban-title"
      onCancel=${(e) => {
        e.preventDefault();
        onClose(null);
      }}
      data-testid="ban-dialog"
    >
      <form onSubmit=${submit}>
        <h2 id="ban-title">${t("mod.ban.title", { name: target.name })}</h2>
        <p>${t("mod.ban.explain", { name: target.name })}</p>
        <label class="field">
          <span class="field-label">${t("mod.ban.reason")}</span>
          <textarea
            required
            rows="3"
            maxlength=${REASON_MAX}
            value=${reason}
            onInput=${(e) => setReason(e.currentTarget.value)}
            data-testid="ban-reason"
          ></textarea>
          <span class="muted small">${t("mod.ban.reason_hint")}</span>
        </label>
        <label class="field">
          <span class="field-label">${t("mod.ban.duration")}</span>
          <select value=${minutes} onChange=${(e) => setMinutes(e.currentTarget.value)} data-testid="ban-duration">
            ${BAN_CHOICES.map(
              (m) => html`<option value=${m === null ? "" : String(m)}>${duration(m)}</option>`,
            )}
          </select>
        </label>
        <div class="dialog-buttons">
          <button type="button" class="button button-quiet" onClick=${() => onClose(null)} data-testid="ban-cancel">
            ${t("report.cancel")}
          </button>
          <button
            type="submit"
            class="button button-danger-solid"
            disabled=${busy || !reason.trim()}
            data-testid="ban-confirm"
          >
            ${t("mod.ban.confirm", { name: target.name })}
          </button>
        </div>
      </form>
    </dialog>
  `;
}
