// The booth's staff list: invite a registered user, remove someone.

import { useEffect, useState } from "preact/hooks";
import { html, ErrorBox, Loading } from "./ui.js";
import { t } from "../i18n.js";
import { consoleApi } from "./data.js";

export function StaffPanel({ booth }) {
  const [staff, setStaff] = useState(null);
  const [error, setError] = useState(null);
  const [username, setUsername] = useState("");
  const [title, setTitle] = useState("");
  useEffect(() => {
    consoleApi.staff(booth.id).then((d) => setStaff(d.staff), setError);
  }, [booth.id]);
  const run = async (fn) => {
    setError(null);
    try {
      setStaff((await fn()).staff);
      return true;
    } catch (err) {
      setError(err);
      return false;
    }
  };
  const invite = async (e) => {
    e.preventDefault();
    if (await run(() => consoleApi.invite(booth.id, username.trim(), title.trim()))) {
      setUsername("");
      setTitle("");
    }
  };
  return html`
    <section class="panel console-staff" aria-labelledby="staff-title">
      <h2 id="staff-title">${t("console.tab.staff")}</h2>
      ${!staff ? html`<${Loading} />` : html`<ul class="console-people" data-testid="console-staff">
        ${staff.map((s) => html`<li data-testid="console-staff-item">
          <strong>${s.name}</strong> <span class="muted small">@${s.username}${s.title ? ` · ${s.title}` : ""}</span>
          <button type="button" class="button button-small button-quiet"
            onClick=${() => run(() => consoleApi.remove(booth.id, s.id))}>${t("console.staff.remove")}</button>
        </li>`)}
      </ul>`}
      <form class="console-invite" onSubmit=${invite}>
        <label>${t("console.staff.username")}
          <input type="text" required maxlength="150" value=${username} data-testid="invite-username"
            onInput=${(e) => setUsername(e.currentTarget.value)} /></label>
        <label>${t("console.staff.title")}
          <input type="text" maxlength="120" value=${title}
            onInput=${(e) => setTitle(e.currentTarget.value)} /></label>
        <button type="submit" class="button" data-testid="invite">${t("console.staff.invite")}</button>
      </form>
      <${ErrorBox} error=${error} />
    </section>
  `;
}
