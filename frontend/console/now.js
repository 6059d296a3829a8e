// "Now": who is in the booth (with the profile each visitor allows), knocks and calls, the
// booth chat and the live roadshow, all live.

import { useEffect, useRef, useState } from "preact/hooks";
import { html, ErrorBox, countryOrEmpty } from "./ui.js";
import { t } from "../i18n.js";
import { ws } from "../store.js";
import { useRoom } from "../room.js";
import { ChatPanel } from "../chat.js";
import { CallPanel } from "../call.js";

function useNow(boothId, roomState) {
  const [now, setNow] = useState(null);
  const [error, setError] = useState(null);
  const pending = useRef(null);
  const load = () => {
    ws.request("console.now", { booth: boothId }).then(
      (data) => {
        setNow(data);
        setError(null);
      },
      (err) => setError(err),
    );
  };
  // Fresh picture on open, and whenever the booth's presence changes (coalesced).
  const count = roomState.presence.count;
  const ids = roomState.presence.users ? [...roomState.presence.users.keys()].join(",") : "";
  useEffect(() => {
    clearTimeout(pending.current);
    pending.current = setTimeout(load, 150);
    return () => clearTimeout(pending.current);
  }, [boothId, count, ids, roomState.status]);
  return { now, error, reload: load };
}

function Person({ p }) {
  const prof = p.profile;
  return html`<li class="console-person" data-testid="now-person" data-user-id=${p.id}>
    <strong class="console-person-name">${p.name}</strong>
    ${p.staff && html`<span class="badge">${t("console.staff_badge")}</span>`}
    ${prof
      ? html`<div class="muted small" data-testid="now-profile">
          ${[prof.organisation, countryOrEmpty(prof.country), prof.headline]
            .filter(Boolean)
            .join(" · ")}
          ${prof.interests?.length > 0 &&
          html`<div class="tags">${prof.interests.map((i) => html`<span class="tag">${i}</span>`)}</div>`}
        </div>`
      : !p.staff && html`<div class="muted small">${t("console.profile_private")}</div>`}
  </li>`;
}

export function NowPanel({ booth }) {
  const roomState = useRoom(booth.room);
  const { now, error, reload } = useNow(booth.id, roomState);
  const people = now?.people || [];
  return html`
    <div class="console-now">
      <section class="panel" aria-labelledby="now-people">
        <h2 id="now-people">${t("console.now.people", { n: now?.count ?? 0 })}</h2>
        <${ErrorBox} error=${error} onRetry=${reload} />
        ${people.length
          ? html`<ul class="console-people" data-testid="now-people">
              ${people.map((p) => html`<${Person} key=${p.id} p=${p} />`)}
            </ul>`
          : html`<p class="muted" data-testid="now-empty">${t("console.now.empty")}</p>`}
        ${now?.roadshows?.length > 0 &&
        html`<h3 class="sub">${t("console.now.live")}</h3>
          <ul>
            ${now.roadshows.map(
              (r) => html`<li><a href=${`/booth/${booth.id}?roadshow=${r.id}`}>${r.title}</a></li>`,
            )}
          </ul>`}
      </section>
      <${CallPanel} booth=${booth} />
      <div class="console-chat"><${ChatPanel} roomState=${roomState} roomId=${booth.room} /></div>
    </div>
  `;
}
