// The exhibitor console (/console, /console/<booth>): one page with a panel per task, and a
// switcher for staff of several booths. Organisers also get the expo-wide figures.

import { useEffect, useState } from "preact/hooks";
import { html, ErrorBox, Loading } from "./ui.js";
import { t } from "../i18n.js";
import { api } from "../api.js";
import { user } from "../store.js";
import { loginHref, navigate } from "../router.js";
import { consoleApi, inboxCounts, refreshCounts } from "./data.js";
import { NowPanel } from "./now.js";
import { InboxPanel } from "./inbox.js";
import { BoothEditPanel } from "./booth-edit.js";
import { StaffPanel } from "./staff.js";
import { AnalyticsPanel, ExpoPanel } from "./analytics.js";

const TABS = ["now", "inbox", "analytics", "booth", "staff"];

function BoothConsole({ boothId, tab, setTab }) {
  const [booth, setBooth] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setBooth(null);
    api.booth(boothId).then(setBooth, setError);
    refreshCounts(boothId).catch(() => {});
  }, [boothId]);
  useEffect(() => {
    if (booth) document.title = `${t("console.title")} · ${booth.name}`;
  }, [booth]);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!booth) return html`<${Loading} />`;
  const unread = inboxCounts.value[boothId]?.total || 0;
  return html`
    <div class="console-tabs" role="tablist" aria-label=${t("console.title")}>
      ${TABS.map((name) => html`<button type="button" role="tab" class="console-tab"
          aria-selected=${name === tab} data-testid=${`tab-${name}`} onClick=${() => setTab(name)}>
          ${t(`console.tab.${name}`)}
          ${name === "inbox" && unread > 0 &&
          html` <span class="count-badge" data-testid="inbox-unread">${unread}</span>`}
        </button>`)}
    </div>
    <div class="console-body" role="tabpanel">
      ${tab === "now" && html`<${NowPanel} booth=${booth} />`}
      ${tab === "inbox" && html`<${InboxPanel} booth=${booth} />`}
      ${tab === "analytics" && html`<${AnalyticsPanel} booth=${booth} />`}
      ${tab === "booth" && html`<${BoothEditPanel} booth=${booth} />`}
      ${tab === "staff" && html`<${StaffPanel} booth=${booth} />`}
    </div>
  `;
}

export function ConsolePage({ boothId }) {
  const me = user.value;
  const [mine, setMine] = useState(null);
  const [error, setError] = useState(null);
  const [tab, setTab] = useState("now");
  useEffect(() => {
    if (me) consoleApi.mine().then(setMine, setError);
  }, [me?.id]);
  if (me === undefined) return html`<${Loading} />`;
  if (!me) return html`<p><a href=${loginHref()}>${t("user.login")}</a></p>`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!mine) return html`<${Loading} />`;
  const expoView = boothId === null && mine.organiser && !mine.booths.length;
  const current = boothId ?? mine.booths[0]?.id ?? null;
  return html`
    <div class="console-page" data-testid="console">
      <div class="console-top">
        <h1>${t("console.title")}</h1>
        ${mine.booths.length > 1 &&
        html`<label class="console-switch">${t("console.switch")}
          <select value=${current} data-testid="console-switch"
            onChange=${(e) => navigate(`/console/${e.currentTarget.value}`)}>
            ${mine.booths.map((b) => html`<option value=${b.id}>${b.name}</option>`)}
          </select></label>`}
        ${mine.organiser &&
        html`<a href="/console/expo" data-testid="console-expo-link">${t("console.tab.expo")}</a>`}
      </div>
      ${expoView || boothId === "expo"
        ? html`<${ExpoPanel} />`
        : current === null
          ? html`<p class="muted">${t("console.no_booth")}</p>`
          : html`<${BoothConsole} key=${current} boothId=${current} tab=${tab} setTab=${setTab} />`}
    </div>
  `;
}
