// The booth page (/booth/<id>): booth details, its chat and who is there.

import { useEffect, useState } from "preact/hooks";
import { html, Avatar, ErrorBox, Loading, safeUrl } from "./components.js";
import { t, localName, countryName, formatDateTime, lang } from "./i18n.js";
import { api, request } from "./api.js";
import { expo } from "./store.js";
import { useRoom } from "./room.js";
import { ChatPanel, PresencePanel } from "./chat.js";
import { CallPanel } from "./call.js"; // live video (issue #4)
import { BoothJobs } from "./recruit.js"; // recruitment
import { RemindButton } from "./bell.js"; // the bell: roadshow reminders
import { BoothProjects } from "./docking/pages.js"; // project docking

function useBooth(id) {
  const [state, setState] = useState({ booth: null, error: null, loading: true });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let active = true;
    setState({ booth: null, error: null, loading: true });
    api.booth(id).then(
      (booth) => active && setState({ booth, error: null, loading: false }),
      (error) => active && setState({ booth: null, error, loading: false }),
    );
    return () => {
      active = false;
    };
  }, [id, attempt]);
  return { ...state, retry: () => setAttempt((n) => n + 1) };
}

/** The booth's name, tagline and description in the UI's language (with the server's
 * fallback to English), as edited in the exhibitor console. */
function useTexts(id) {
  const [texts, setTexts] = useState(null);
  const code = lang.value.startsWith("zh") ? "zh" : lang.value.split("-")[0];
  useEffect(() => {
    let active = true;
    request("GET", `/api/booths/${encodeURIComponent(id)}/texts?lang=${encodeURIComponent(code)}`).then(
      (data) => active && setTexts(data),
      () => active && setTexts(null),
    );
    return () => {
      active = false;
    };
  }, [id, code]);
  return texts;
}

function hallOf(booth) {
  return expo.value?.halls?.find((hall) => hall.id === booth.hall) || null;
}

function BoothInfo({ booth, presence }) {
  const texts = useTexts(booth.id);
  const name = texts?.name || localName(booth);
  const description = texts ? texts.description : booth.description;
  const hall = hallOf(booth);
  const hallName = hall ? localName(hall) : booth.hall_name;
  const online = presence.users ? new Set(presence.users.keys()) : null;
  const links = (booth.links || [])
    .map((l) => ({ label: l.label || l.url, url: safeUrl(l.url) }))
    .filter((l) => l.url);
  return html`
    <section class="panel booth-info" aria-labelledby="booth-title" style=${{ "--accent": hall?.color }}>
      <div class="booth-head">
        <${Avatar} name=${name} url=${booth.logo_url} size="lg" />
        <div>
          <h1 id="booth-title" data-testid="booth-name">${name}</h1>
          ${texts?.tagline && html`<p class="booth-tagline" data-testid="booth-tagline">${texts.tagline}</p>`}
          ${lang.value === "zh-Hans" && booth.name_zh && booth.name !== booth.name_zh &&
          html`<p class="muted small" lang="en">${booth.name}</p>`}
        </div>
      </div>
      <dl class="facts">
        ${hallName &&
        html`<div>
          <dt>${t("booth.hall")}</dt>
          <dd><a href=${`/hall/${booth.hall}`}>${hallName}</a></dd>
        </div>`}
        ${booth.kind &&
        html`<div>
          <dt>${t("booth.kind")}</dt>
          <dd>${t(`kind.${booth.kind}`)}</dd>
        </div>`}
        ${booth.country &&
        html`<div>
          <dt>${t("booth.country")}</dt>
          <dd>${countryName(booth.country)}</dd>
        </div>`}
      </dl>
      ${booth.industry_tags?.length > 0 &&
      html`<div class="tags" aria-label=${t("booth.tags")}>
        ${booth.industry_tags.map((tag) => html`<span class="tag">${tag}</span>`)}
      </div>`}
      ${description &&
      html`<h2 class="sub">${t("booth.about")}</h2>
        <p class="description" data-testid="booth-description">${description}</p>`}
      ${links.length > 0 &&
      html`<h2 class="sub">${t("booth.links")}</h2>
        <ul class="links">
          ${links.map(
            (l) => html`<li><a href=${l.url} target="_blank" rel="noopener noreferrer">${l.label}</a></li>`,
          )}
        </ul>`}
      <h2 class="sub">${t("booth.staff")}</h2>
      ${booth.staff?.length
        ? html`<ul class="staff-list" data-testid="staff-list">
            ${booth.staff.map(
              (s) => html`<li class="staff-item" data-testid="staff-item" data-user-id=${s.id}>
                <span class="presence-dot ${online?.has(s.id) ? "is-online" : ""}" aria-hidden="true"></span>
                <span class="staff-name">${s.name}</span>
                ${s.title && html`<span class="muted small">${s.title}</span>`}
              </li>`,
            )}
          </ul>`
        : html`<p class="muted small">${t("booth.no_staff")}</p>`}
      ${booth.roadshows?.length > 0 &&
      html`<h2 class="sub">${t("booth.roadshows")}</h2>
        <ul class="roadshow-list">
          ${booth.roadshows.map(
            (r) => html`<li class="roadshow" data-state=${r.state}>
              <div class="roadshow-head">
                <span class="badge badge-${r.state}">${t(`roadshow.state.${r.state}`)}</span>
                <span class="roadshow-time">${formatDateTime(r.starts_at)}</span>
              </div>
              <a class="roadshow-title" href=${`/booth/${booth.id}?roadshow=${r.id}`}
                data-testid="roadshow-link">${r.title}</a>
              ${r.presenter_name &&
              html`<div class="roadshow-meta">${t("lobby.by", { name: r.presenter_name })}</div>`}
              <${RemindButton} roadshow=${r} />
            </li>`,
          )}
        </ul>`}
    </section>
  `;
}

function BoothRoom({ booth }) {
  const roomState = useRoom(booth.room);
  return html`
    <div class="booth-layout">
      <div class="booth-side">
        <${BoothInfo} booth=${booth} presence=${roomState.presence} />
        <${BoothJobs} booth=${booth} />
        <${BoothProjects} booth=${booth} />
      </div>
      <div class="booth-chat">
        <${ChatPanel} roomState=${roomState} roomId=${booth.room} />
      </div>
      <div class="booth-presence">
        <${CallPanel} booth=${booth} />
        <${PresencePanel} roomState=${roomState} />
      </div>
    </div>
  `;
}

export function BoothPage({ id }) {
  const { booth, error, loading, retry } = useBooth(id);

  useEffect(() => {
    const expoName = expo.value ? localName(expo.value.expo) : "";
    if (booth) document.title = [localName(booth), expoName].filter(Boolean).join(" · ");
  }, [booth, lang.value, expo.value]);

  if (loading) return html`<${Loading} />`;
  if (error) {
    if (error.status === 404) {
      return html`<div class="notfound">
        <h1>${t("booth.not_found")}</h1>
        <p><a href="/">${t("booth.back")}</a></p>
      </div>`;
    }
    return html`<${ErrorBox} error=${error} onRetry=${retry} />`;
  }
  return html`
    <div class="booth-page">
      <p class="crumbs"><a href=${booth.hall ? `/hall/${booth.hall}` : "/"}>← ${t("booth.back")}</a></p>
      <${BoothRoom} key=${booth.room} booth=${booth} />
    </div>
  `;
}
