// The booth page's video call panel: knock and queue place for visitors, the queue with
// accept/decline and the leads for the booth's staff, the booth's calls in progress (staff may
// join one), and the call itself: one video tile per other participant, and, for staff in the
// call, the queue with "Add to call".

import { useEffect, useRef, useState } from "preact/hooks";
import { html, ErrorBox } from "./components.js";
import { t, plural, formatTime, lang } from "./i18n.js";
import { user } from "./store.js";
import { loginHref } from "./router.js";
import { ws } from "./store.js";
import {
  accept, addToCall, boothCalls, call, cancelKnock, closeCall, decline, dismissVisit,
  ensureListening, hangup, joinCall, knock, leads, loadLeads, queues, toggleScreen, visit,
} from "./rtc.js";

/** Names as a list in the current language ("Ada, Bob and Cem"). */
function nameList(names) {
  const shown = names.filter(Boolean);
  try {
    return new Intl.ListFormat(lang.value, { style: "long", type: "conjunction" }).format(shown);
  } catch {
    return shown.join(", ");
  }
}

/** A <video> showing a MediaStream (`participant`: whose, for a remote one). */
export function Video({ stream, muted, testid, label, participant }) {
  const ref = useRef(null);
  useEffect(() => {
    const el = ref.current;
    if (el && el.srcObject !== (stream || null)) el.srcObject = stream || null;
  }, [stream]);
  return html`<video
    ref=${ref}
    class="call-video"
    data-testid=${testid}
    data-participant=${participant}
    autoplay
    playsinline
    muted=${muted}
    aria-label=${label}
  ></video>`;
}

function CallTile({ c, p }) {
  const state = c.states[p.id] || "connecting";
  return html`<figure class="call-tile" data-testid="call-tile" data-participant=${p.id} data-state=${state}>
    <${Video}
      stream=${c.remotes[p.id]}
      testid="call-remote-video"
      participant=${p.id}
      label=${t("call.remote_video", { name: p.name })}
    />
    <figcaption>
      <span data-testid="call-tile-name">${p.name}</span>
      ${p.staff && html` <span class="badge">${t("call.staff")}</span>`}
      ${state === "away" && html` <span class="muted small">${t("call.participant_away")}</span>`}
    </figcaption>
  </figure>`;
}

export function CallView({ c }) {
  const [error, setError] = useState(null);
  const ended = c.status === "ended";
  const people = c.participants.filter((p) => p.id !== c.me);
  return html`
    <div class="call-view" data-testid="call-view" data-status=${c.status} data-participants=${c.participants.length}>
      <p class="call-status" role="status" data-testid="call-status">
        ${ended
          ? t(`call.ended.${c.reason || "hangup"}`)
          : t(`call.status.${c.status}`, { name: nameList(people.map((p) => p.name)) })}
      </p>
      ${!ended &&
      html`<div class="call-videos ${people.length > 1 ? "call-grid" : ""}">
        ${people.map((p) => html`<${CallTile} key=${p.id} c=${c} p=${p} />`)}
        <${Video} stream=${c.local} muted=${true} testid="call-local-video" label=${t("call.local_video")} />
      </div>
      ${people.length > 1 &&
      html`<p class="muted small" data-testid="call-participants">${plural("call.participants", c.participants.length)}</p>`}
      <div class="call-actions">
        <button type="button" class="button button-danger" data-testid="call-hangup" onClick=${hangup}>
          ${people.length > 1 ? t("call.leave") : t("call.hangup")}
        </button>
        <button
          type="button"
          class="button button-quiet"
          data-testid="call-screen"
          onClick=${() => toggleScreen().catch(setError)}
        >
          ${c.screen ? t("call.camera") : t("call.screen")}
        </button>
      </div>`}
      ${ended &&
      html`<button type="button" class="button button-small" onClick=${closeCall}>${t("call.close")}</button>`}
      <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
    </div>
  `;
}

function LeadForm({ booth }) {
  const [contact, setContact] = useState("");
  const [message, setMessage] = useState("");
  const [sent, setSent] = useState(false);
  const [error, setError] = useState(null);
  if (sent) return html`<p class="notice" data-testid="lead-sent">${t("lead.sent")}</p>`;
  async function submit(ev) {
    ev.preventDefault();
    setError(null);
    try {
      await ws.request("lead.create", { booth: booth.id, contact, message });
      setSent(true);
    } catch (err) {
      setError(err);
    }
  }
  return html`
    <form class="lead-form" data-testid="lead-form" onSubmit=${submit}>
      <p class="small">${t("lead.intro")}</p>
      <label>
        <span>${t("lead.contact")}</span>
        <input data-testid="lead-contact" value=${contact} maxlength="200" required
          onInput=${(e) => setContact(e.currentTarget.value)} />
      </label>
      <label>
        <span>${t("lead.message")}</span>
        <textarea data-testid="lead-message" value=${message} maxlength="2000" rows="3"
          onInput=${(e) => setMessage(e.currentTarget.value)}></textarea>
      </label>
      <button type="submit" class="button" data-testid="lead-submit">${t("lead.submit")}</button>
      <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
    </form>
  `;
}

function VisitorKnock({ booth }) {
  const [error, setError] = useState(null);
  const me = user.value;
  const v = visit.value?.booth === booth.id ? visit.value : null;
  if (!me) {
    return html`<p class="small"><a href=${loginHref()}>${t("call.login")}</a></p>`;
  }
  if (v?.phase === "knocking") {
    return html`
      <div class="call-knocking" data-testid="call-knocking">
        <p role="status" data-testid="call-position" data-position=${v.position}>
          ${t("call.position", { n: v.position })}
        </p>
        <button type="button" class="button button-quiet" data-testid="call-cancel" onClick=${cancelKnock}>
          ${t("call.cancel")}
        </button>
      </div>
    `;
  }
  return html`
    <div>
      ${v &&
      html`<p class="notice" role="status" data-testid="call-closed" data-reason=${v.reason}>
        ${t(`call.closed.${v.reason}`)}
      </p>`}
      <button
        type="button"
        class="button"
        data-testid="call-knock"
        onClick=${() => {
          setError(null);
          knock(booth.id).catch(setError);
        }}
      >
        ${t("call.knock")}
      </button>
      ${v && html`<button type="button" class="button button-small button-quiet" onClick=${dismissVisit}>${t("error.dismiss")}</button>`}
      <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
      ${v && html`<${LeadForm} booth=${booth} />`}
    </div>
  `;
}

/** The booth's waiting knocks; `inCall`: the staff member is in a call, and adds knocks to it. */
function StaffQueue({ booth, inCall }) {
  const [error, setError] = useState(null);
  const knocks = queues.value.get(booth.id) || [];
  return html`
    <div class="call-queue" data-testid="call-queue" data-count=${knocks.length}>
      ${inCall && html`<h3 class="sub">${t("call.queue_title")}</h3>`}
      ${knocks.length === 0 && html`<p class="muted small">${t("call.queue_empty")}</p>`}
      <ul>
        ${knocks.map(
          (k) => html`<li key=${k.knock} class="call-knock" data-testid="call-queue-item">
            <span>${k.user.name}</span>
            <span class="muted small">${formatTime(k.ts)}</span>
            ${inCall
              ? html`<button type="button" class="button button-small" data-testid="call-add"
                  onClick=${() => addToCall(k.knock).catch(setError)}>${t("call.add")}</button>`
              : html`<button type="button" class="button button-small" data-testid="call-accept"
                  onClick=${() => accept(k.knock).catch(setError)}>${t("call.accept")}</button>`}
            <button type="button" class="button button-small button-quiet" data-testid="call-decline"
              onClick=${() => decline(k.knock).catch(setError)}>${t("call.decline")}</button>
          </li>`,
        )}
      </ul>
      <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
    </div>
  `;
}

/** The booth's calls in progress, for its staff to join. */
function BoothCalls({ booth }) {
  const [error, setError] = useState(null);
  const list = boothCalls.value.get(booth.id) || [];
  if (list.length === 0) return null;
  return html`
    <div class="call-list" data-testid="call-list">
      <h3 class="sub">${t("call.in_progress")}</h3>
      <ul>
        ${list.map(
          (c) => html`<li key=${c.call} class="call-knock" data-testid="call-list-item">
            <span>${nameList(c.participants.map((p) => p.name))}</span>
            <button type="button" class="button button-small" data-testid="call-join"
              onClick=${() => joinCall(c.call).catch(setError)}>${t("call.join")}</button>
          </li>`,
        )}
      </ul>
      <${ErrorBox} error=${error} onDismiss=${() => setError(null)} />
    </div>
  `;
}

function LeadList({ booth }) {
  const list = leads.value.get(booth.id) || [];
  return html`
    <h3 class="sub">${t("lead.title")}</h3>
    ${list.length === 0 && html`<p class="muted small">${t("lead.none")}</p>`}
    <ul class="lead-list" data-testid="lead-list">
      ${list.map(
        (l) => html`<li key=${l.id} data-testid="lead-item">
          <strong>${l.name}</strong> · <span>${l.contact}</span>
          ${l.message && html`<p class="small">${l.message}</p>`}
        </li>`,
      )}
    </ul>
  `;
}

export function CallPanel({ booth }) {
  const me = user.value;
  const staff = Boolean(me?.staff_of?.includes(booth.id));
  const c = call.value;
  useEffect(() => {
    if (!staff) return;
    ensureListening();
    loadLeads(booth.id).catch((err) => console.warn("hallserver: lead.list failed", err));
  }, [staff, booth.id]);
  return html`
    <section class="panel call-panel" aria-labelledby="call-title" data-testid="call-panel">
      <h2 id="call-title">${t("call.title")}</h2>
      ${c && c.booth === booth.id
        ? html`<${CallView} c=${c} />
            ${staff && c.status !== "ended" && html`<${StaffQueue} booth=${booth} inCall=${true} />`}`
        : staff
          ? html`<${StaffQueue} booth=${booth} /><${BoothCalls} booth=${booth} />`
          : html`<${VisitorKnock} booth=${booth} />`}
      ${staff && html`<${LeadList} booth=${booth} />`}
    </section>
  `;
}
